"""Tests for artvid.stylize: configuration, the optimisation loop, targets and errors (CPU, 48 px)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from artvid.colors import _RGB_TO_YIQ, original_colors
from artvid.encoder import Encoder, load_encoder
from artvid.errors import ConfigError, DeviceError, StylizeError
from artvid.losses import gram_matrix
from artvid.stylize import (
    StylizeConfig,
    StylizeResult,
    Stylizer,
    TemporalTarget,
    prepare_style,
    style_target_size,
)
from tests.helpers import textured_image

SIZE = 48
FAST = dict(tolerance=0.0)


def _tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame.copy()).permute(2, 0, 1)[None].float() / 255.0


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return load_encoder("original", ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"))


@pytest.fixture(scope="module")
def style() -> np.ndarray:
    return textured_image(64, 80, seed=7)


@pytest.fixture()
def content() -> torch.Tensor:
    return _tensor(textured_image(SIZE, SIZE, seed=1))


def _stylizer(encoder, styles, **kwargs) -> Stylizer:
    return Stylizer(StylizeConfig(**{**FAST, **kwargs}), styles, encoder=encoder)


# ---------------------------------------------------------------- configuration


def test_defaults_are_the_reference_single_pass_values():
    cfg = StylizeConfig()
    assert (cfg.content_weight, cfg.style_weight, cfg.tv_weight, cfg.temporal_weight) == (5.0, 100.0, 1e-3, 1e3)
    assert cfg.content_layers == ("relu4_2",)
    assert cfg.style_layers == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    assert (cfg.optimizer, cfg.learning_rate, cfg.lbfgs_history) == ("lbfgs", 1.0, 100)
    assert (cfg.tolerance, cfg.tolerance_window) == (1e-4, 50)


def test_lists_are_normalised_to_tuples():
    cfg = StylizeConfig(style_layers=["relu1_1"], style_blend_weights=[1, 2])
    assert cfg.style_layers == ("relu1_1",)
    assert cfg.style_blend_weights == (1.0, 2.0)
    hash(cfg)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content_weight": -1.0},
        {"style_weight": float("nan")},
        {"tv_weight": "1e-3"},
        {"temporal_weight": True},
        {"content_layers": "relu4_2"},
        {"content_layers": ("relu4_9",)},
        {"style_layers": ()},
        {"style_layers": ("relu1_1", "fc7")},
        {"style_blend_weights": ()},
        {"style_blend_weights": (1.0, -1.0)},
        {"style_blend_weights": (0.0, 0.0)},
        {"style_blend_weights": "1,2"},
        {"style_scale": 0.0},
        {"optimizer": "sgd"},
        {"learning_rate": -1.0},
        {"lbfgs_history": 0},
        {"lbfgs_history": 2.5},
        {"tolerance": -1e-4},
        {"tolerance_window": 0},
        {"original_colors": 1},
        {"weights": ""},
        {"pooling": "min"},
        {"coarse_to_fine": 0},
        {"amp": "yes"},
        {"content_levels": "auto"},
    ],
)
def test_invalid_config_raises(kwargs):
    with pytest.raises(ConfigError, match="expected"):
        StylizeConfig(**kwargs)


def test_stylizer_rejects_bad_inputs(encoder, style):
    with pytest.raises(ConfigError, match="at least one style"):
        Stylizer(StylizeConfig(), [], encoder=encoder)
    with pytest.raises(ConfigError, match="uint8"):
        Stylizer(StylizeConfig(), [style.astype(np.float32)], encoder=encoder)
    with pytest.raises(ConfigError, match="blend weight"):
        Stylizer(StylizeConfig(style_blend_weights=(1.0, 2.0)), [style], encoder=encoder)
    with pytest.raises(ConfigError, match="missing"):
        Stylizer(StylizeConfig(style_layers=("relu5_2",)), [style], encoder=encoder)


def test_stylize_rejects_bad_arguments(encoder, style, content):
    stylizer = _stylizer(encoder, [style])
    with pytest.raises(ConfigError, match="iterations"):
        stylizer.stylize(content, content, iterations=0)
    with pytest.raises(ConfigError, match="callback_every"):
        stylizer.stylize(content, content, iterations=1, callback_every=0)
    with pytest.raises(ValueError, match="init"):
        stylizer.stylize(content, content[..., :-1], iterations=1)
    with pytest.raises(ValueError, match="content"):
        stylizer.stylize(content[0], content, iterations=1)
    bad = TemporalTarget(content, torch.ones(1, 3, SIZE, SIZE))
    with pytest.raises(ValueError, match="temporal weight"):
        stylizer.stylize(content, content, iterations=1, temporal=[bad])


def test_out_of_memory_becomes_device_error(encoder, style, content, monkeypatch):
    stylizer = _stylizer(encoder, [style])

    def boom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(stylizer, "_stylize", boom)
    with pytest.raises(DeviceError, match="--size"):
        stylizer.stylize(content, content, iterations=1)


# ---------------------------------------------------------------- losses and targets


def test_losses_dict_total_is_the_sum(encoder, style, content):
    stylizer = _stylizer(encoder, [style])
    warped = torch.rand_like(content)
    terms = stylizer.losses(content, content, [TemporalTarget(warped, torch.ones(1, 1, SIZE, SIZE))])
    assert set(terms) == {"content", "style", "tv", "temporal", "total"}
    assert terms["content"] == 0
    assert terms["style"] > 0 and terms["tv"] > 0 and terms["temporal"] > 0
    torch.testing.assert_close(terms["total"], terms["content"] + terms["style"] + terms["tv"] + terms["temporal"])
    # Temporal term vanishes when the image is its warped target.
    assert stylizer.losses(warped, content, [TemporalTarget(warped, torch.ones(1, 1, SIZE, SIZE))])["temporal"] == 0


def test_style_grams_are_cached_per_size(encoder, style):
    stylizer = _stylizer(encoder, [style])
    a = stylizer.style_grams(SIZE, SIZE)
    assert stylizer.style_grams(SIZE, SIZE) is a
    assert stylizer.style_grams(SIZE, 2 * SIZE) is not a
    assert a["relu3_1"].shape == (1, 256, 256)


def test_blend_weights_blend_the_target_grams(encoder, style):
    other = textured_image(40, 40, seed=3)[..., ::-1].copy()
    only_first = _stylizer(encoder, [style, other], style_blend_weights=(2.0, 0.0)).style_grams(SIZE, SIZE)
    single = _stylizer(encoder, [style]).style_grams(SIZE, SIZE)
    second = _stylizer(encoder, [other]).style_grams(SIZE, SIZE)
    equal = _stylizer(encoder, [style, other]).style_grams(SIZE, SIZE)
    for layer in ("relu1_1", "relu4_1"):
        torch.testing.assert_close(only_first[layer], single[layer])
        torch.testing.assert_close(equal[layer], (single[layer] + second[layer]) / 2)


def test_style_scale_changes_the_style_target_size(encoder, style):
    assert style_target_size((64, 80), 48, 48, 1.0) == (43, 54)  # same area as 48x48, aspect kept
    assert style_target_size((64, 80), 48, 48, 0.5) == (21, 27)
    assert style_target_size((64, 80), 48, 48, 1e-6) == (1, 1)
    big = _stylizer(encoder, [style]).style_grams(SIZE, SIZE)
    small = _stylizer(encoder, [style], style_scale=0.5).style_grams(SIZE, SIZE)
    assert not torch.allclose(big["relu2_1"], small["relu2_1"])


# ---------------------------------------------------------------- optimisation


@pytest.mark.parametrize("optimizer,lr", [("lbfgs", 1.0), ("adam", 10.0)])
def test_loss_falls(encoder, style, content, optimizer, lr):
    stylizer = _stylizer(encoder, [style], optimizer=optimizer, learning_rate=lr)
    init = torch.rand_like(content)
    before = stylizer.losses(init, content)["total"].item()
    result = stylizer.stylize(content, init, iterations=8)
    after = stylizer.losses(result.image, content)["total"].item()
    assert isinstance(result, StylizeResult)
    assert result.iterations == 8
    assert after < 0.7 * before
    assert result.image.shape == content.shape and not result.image.requires_grad
    assert 0 <= result.image.min() and result.image.max() <= 1
    assert set(result.losses) == {"content", "style", "tv", "temporal", "total"}
    assert all(isinstance(v, float) for v in result.losses.values())


def test_early_stopping_on_a_converged_problem(encoder, style, content):
    # Content only, started at the content: the loss is 0 and never changes.
    stylizer = _stylizer(encoder, [style], style_weight=0.0, tv_weight=0.0, tolerance=1e-4, tolerance_window=2)
    result = stylizer.stylize(content, content, iterations=30)
    assert result.iterations == 4  # first check records f_past, the second stops
    assert result.losses["total"] == 0


def test_a_frames_own_tolerance_overrides_the_configs(encoder, style, content):
    # A shot's first frame stops on schedule.tolerance_first; the stylizer's own tolerance is off.
    stylizer = _stylizer(encoder, [style], style_weight=0.0, tv_weight=0.0, tolerance=0.0, tolerance_window=2)
    assert stylizer.stylize(content, content, iterations=30, tolerance=1e-4).iterations == 4
    assert stylizer.stylize(content, content, iterations=9).iterations == 9
    with pytest.raises(ConfigError, match="tolerance"):
        stylizer.stylize(content, content, iterations=9, tolerance=-1.0)


def test_no_early_stopping_when_tolerance_is_zero(encoder, style, content):
    stylizer = _stylizer(encoder, [style], style_weight=0.0, tv_weight=0.0, tolerance=0.0, tolerance_window=1)
    assert stylizer.stylize(content, content, iterations=5).iterations == 5


def test_deterministic(encoder, style, content):
    init = torch.rand_like(content)
    a = _stylizer(encoder, [style]).stylize(content, init, iterations=3)
    b = _stylizer(encoder, [style]).stylize(content, init, iterations=3)
    assert torch.equal(a.image, b.image)
    assert a.losses == b.losses


def test_callback_every_and_last_iteration(encoder, style, content):
    calls: list[tuple[int, float]] = []
    stylizer = _stylizer(encoder, [style])
    stylizer.stylize(content, content, iterations=5, callback=lambda i, l: calls.append((i, l["total"])), callback_every=2)
    assert [i for i, _ in calls] == [1, 3, 4]
    assert all(isinstance(v, float) for _, v in calls)


def test_the_callback_hears_the_iteration_early_stopping_ends_on(encoder, style, content):
    # Progress shows the frame's last iteration, not the last multiple of callback_every.
    calls: list[int] = []
    stylizer = _stylizer(encoder, [style], style_weight=0.0, tv_weight=0.0, tolerance=1e-4, tolerance_window=2)
    result = stylizer.stylize(content, content, iterations=30, callback=lambda i, l: calls.append(i), callback_every=10)
    assert result.iterations == 4 and calls == [3]


def test_temporal_term_pulls_towards_the_warped_image(encoder, style, content):
    warped = _tensor(textured_image(SIZE, SIZE, seed=5))
    weight = torch.zeros(1, 1, SIZE, SIZE)
    weight[..., : SIZE // 2] = 1.0  # constrain the left half only
    targets = [TemporalTarget(warped, weight)]
    free = _stylizer(encoder, [style]).stylize(content, content, iterations=6)
    held = _stylizer(encoder, [style], temporal_weight=1e6).stylize(content, content, iterations=6, temporal=targets)
    distance = lambda r, sl: (r.image - warped)[..., sl].abs().mean()  # noqa: E731
    left, right = slice(0, SIZE // 2), slice(SIZE // 2, SIZE)
    assert distance(held, left) < 0.5 * distance(free, left)
    assert distance(held, right) > 0.8 * distance(free, right)
    assert held.losses["temporal"] > 0 and free.losses["temporal"] == 0


def test_amp_flag_is_a_no_op_on_cpu(encoder, style, content):
    a = _stylizer(encoder, [style], amp=True).stylize(content, content, iterations=2)
    b = _stylizer(encoder, [style], amp=False).stylize(content, content, iterations=2)
    assert torch.equal(a.image, b.image)


def test_coarse_to_fine_counts_iterations_and_keeps_size(encoder, style, content):
    calls: list[int] = []
    stylizer = _stylizer(encoder, [style], coarse_to_fine=2)
    result = stylizer.stylize(content, content, iterations=6, callback=lambda i, l: calls.append(i))
    assert result.image.shape == content.shape
    assert result.iterations == 6  # 3 at half size + 3 at full size
    assert calls == list(range(6))
    assert set(stylizer._grams) == {(SIZE // 2, SIZE // 2), (SIZE, SIZE)}


def test_coarse_to_fine_per_call_overrides_the_config(encoder, style, content):
    stylizer = _stylizer(encoder, [style], coarse_to_fine=2)
    stylizer.stylize(content, content, iterations=4, coarse_to_fine=1)
    assert set(stylizer._grams) == {(SIZE, SIZE)}  # no half-size level
    plain = _stylizer(encoder, [style])
    plain.stylize(content, content, iterations=4, coarse_to_fine=2)
    assert (SIZE // 2, SIZE // 2) in plain._grams
    with pytest.raises(ConfigError, match="coarse_to_fine"):
        plain.stylize(content, content, iterations=4, coarse_to_fine=0)


def test_coarse_to_fine_rejects_too_small_frames(encoder, style, content):
    stylizer = _stylizer(encoder, [style], coarse_to_fine=3)
    with pytest.raises(ConfigError, match="coarse_to_fine=3"):
        stylizer.stylize(content, content, iterations=2)


def test_frames_as_small_as_the_layers_allow(encoder):
    # relu5_1 needs 16 px on each side. The style image is kept that large on its short side
    # whatever its shape or the style scale (by area a 1:3 painting would be 9x28 here).
    tall = textured_image(300, 100, seed=4)
    for scale in (1.0, 0.25):
        result = _stylizer(encoder, [tall], style_scale=scale).stylize(
            _tensor(textured_image(16, 16, seed=2)), torch.rand(1, 3, 16, 16), iterations=2
        )
        assert result.image.shape == (1, 3, 16, 16) and torch.isfinite(result.image).all()
    too_small = _tensor(textured_image(12, 64, seed=2))
    with pytest.raises(ConfigError, match="at least 16 px on each side for the VGG19 layers used, got 64x12"):
        _stylizer(encoder, [tall]).stylize(too_small, too_small, iterations=2)


def test_original_colors_option_keeps_content_chroma(encoder, style, content):
    result = _stylizer(encoder, [style], original_colors=True).stylize(content, torch.rand_like(content), iterations=3)
    yiq = torch.tensor(_RGB_TO_YIQ)
    chroma = lambda img: torch.einsum("kc,bchw->bkhw", yiq[1:], img)  # noqa: E731
    inside = ((result.image > 0.01) & (result.image < 0.99)).all(dim=1, keepdim=True).expand(1, 2, SIZE, SIZE)
    diff = (chroma(result.image) - chroma(content))[inside]
    assert diff.abs().max() < 1e-4


def test_original_colors_function():
    stylized = torch.rand(1, 3, 8, 8) * 0.5 + 0.25
    grey = torch.full((1, 3, 8, 8), 0.5)
    out = original_colors(stylized, grey)
    # Grey content has no chroma: the result is grey with the stylized luminance.
    torch.testing.assert_close(out[:, 0], out[:, 1], atol=1e-5, rtol=0)
    torch.testing.assert_close(out[:, 0], (torch.tensor(_RGB_TO_YIQ[0]).view(1, 3, 1, 1) * stylized).sum(1))
    torch.testing.assert_close(original_colors(stylized, stylized), stylized, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="one shape"):
        original_colors(stylized, grey[..., :4])


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        StylizeConfig().style_weight = 1.0  # type: ignore[misc]


def test_weights_path_and_missing_weights(style, tmp_path):
    from artvid.errors import WeightsError

    cfg = StylizeConfig(weights=tmp_path / "missing.pth")  # type: ignore[arg-type]
    assert cfg.weights == str(tmp_path / "missing.pth")
    with pytest.raises(WeightsError, match="no such file"):
        Stylizer(cfg, [style])


def test_stylizer_loads_its_own_encoder_when_none_given(style, content):
    stylizer = Stylizer(StylizeConfig(style_layers=("relu1_1",), content_layers=("relu2_1",)), [style])
    assert len(stylizer.encoder.net) == 7  # conv1_1 … relu2_1, truncated there
    assert stylizer.stylize(content, content, iterations=1).iterations == 1


def test_an_overshooting_step_never_makes_the_result_worse(encoder, style, content):
    # A huge L-BFGS step size makes the raw iterates explode; the safeguard returns the best point.
    stylizer = _stylizer(encoder, [style], learning_rate=1e4, tolerance=0.0)
    init = content.clone()
    before = float(stylizer.losses(init, content)["total"])
    result = stylizer.stylize(content, init, iterations=4)
    after = float(stylizer.losses(result.image, content)["total"])
    assert after <= before * 1.0001
    assert result.losses["total"] == pytest.approx(after, rel=1e-3)


# ---------------------------------------------------------------- failures that used to pass silently


def test_a_never_finite_loss_raises_instead_of_returning_the_start(encoder, style, content):
    stylizer = _stylizer(encoder, [style], style_weight=1e38)
    with pytest.raises(StylizeError, match="finite loss.*weights are too large"):
        stylizer.stylize(content, content, iterations=10)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_a_run_whose_every_step_diverges_raises(encoder, style, content, optimizer):
    stylizer = _stylizer(encoder, [style], optimizer=optimizer, learning_rate=1e30)
    with pytest.raises(StylizeError, match="learning_rate 1e\\+30.*too large") as info:
        stylizer.stylize(content, content, iterations=10)
    assert "\n" not in str(info.value)


def test_a_short_run_that_keeps_its_start_is_not_a_failure(encoder, style, content):
    # Too few steps to judge: the safeguard may legitimately keep the start point.
    stylizer = _stylizer(encoder, [style], learning_rate=1e30)
    result = stylizer.stylize(content, content, iterations=3)
    assert torch.equal(result.image, content.clamp(0, 1))


CPU_OOM = "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: not enough memory: you tried to allocate 1 bytes"


def test_cpu_out_of_memory_while_solving_becomes_device_error(encoder, style, content, monkeypatch):
    import artvid.stylize.stylizer as stylizer_module

    def boom(*args, **kwargs):
        raise RuntimeError(CPU_OOM)

    monkeypatch.setattr(stylizer_module, "solve", boom)
    with pytest.raises(DeviceError, match="fits in memory on cpu, got 48x48.*--size"):
        _stylizer(encoder, [style]).stylize(content, content, iterations=1)


def test_cpu_out_of_memory_in_the_style_grams_becomes_device_error(encoder, style, monkeypatch):
    import artvid.stylize.stylizer as stylizer_module

    def boom(*args, **kwargs):
        raise RuntimeError(CPU_OOM)

    monkeypatch.setattr(stylizer_module, "prepare_style", boom)
    with pytest.raises(DeviceError, match="--size"):
        _stylizer(encoder, [style]).style_grams(SIZE, SIZE)


def test_other_runtime_errors_pass_through(encoder, style, content, monkeypatch):
    stylizer = _stylizer(encoder, [style])

    def boom(*args, **kwargs):
        raise RuntimeError("a bug, not memory")

    monkeypatch.setattr(stylizer, "_stylize", boom)
    with pytest.raises(RuntimeError, match="a bug"):
        stylizer.stylize(content, content, iterations=1)


def test_grams_come_from_the_shared_style_preparation(encoder, style):
    stylizer = _stylizer(encoder, [style])
    prepared = prepare_style(style, SIZE, SIZE, 1.0, "cpu")
    with torch.no_grad():
        expected = gram_matrix(encoder(prepared)["relu3_1"])
    torch.testing.assert_close(stylizer.style_grams(SIZE, SIZE)["relu3_1"], expected, rtol=0, atol=0)


def test_the_last_report_is_of_the_point_kept_not_of_a_diverged_last_step(encoder, style, content):
    # With a huge step the last iterate explodes; progress must not end the frame on its loss.
    calls: list[float] = []
    stylizer = _stylizer(encoder, [style], learning_rate=1e4, tolerance=0.0)
    result = stylizer.stylize(content, content.clone(), iterations=3, callback=lambda i, l: calls.append(l["total"]))
    evaluated, last = calls[:-1], calls[-1]
    assert len(calls) == 3
    assert last == pytest.approx(result.losses["total"]) and last <= min(evaluated)
