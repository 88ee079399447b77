"""Scheduling of passes with a fake stylizer: milliseconds, no network."""

import numpy as np
import pytest

from artvid.errors import ConfigError
from artvid.multipass import Init, ScheduleConfig, blend, pass_order, starts_from_scratch
from artvid.rendering import Temporal, run_passes
from tests.helpers import MemoryStore

H, W = 4, 5


class Recorder:
    """A fake stylizer: returns ``init`` nudged towards a per-frame value, records its calls."""

    def __init__(self, fail_at=None):
        self.calls = []
        self.fail_at = fail_at

    def __call__(self, frame, init, temporal, iterations, pass_index):
        if self.fail_at == (pass_index, frame):
            raise KeyboardInterrupt
        self.calls.append((pass_index, frame, iterations, len(temporal), init.copy()))
        return (0.5 * init + 0.5 * (frame + 1) / 10.0).astype(np.float32)


def fake_warp(image, i, j, chained=False):
    # A "flow" that shifts nothing but is only half reliable.
    return image.copy(), np.full((H, W), 0.5, np.float32)


def fake_init(frame, kind):
    value = 0.25 if kind is Init.CONTENT else 0.75
    return np.full((H, W, 3), value, np.float32)


def run(schedule, store=None, stylize=None, offsets=(1,), temporal=True):
    store = store if store is not None else MemoryStore()
    stylize = stylize or Recorder()
    run_passes(5, schedule, offsets, temporal, stylize, fake_warp, fake_init, store)
    return store, stylize


def test_pass_order_alternates():
    assert pass_order(1, 3) == [0, 1, 2]
    assert pass_order(2, 3) == [2, 1, 0]
    assert pass_order(3, 3) == [0, 1, 2]


def test_single_pass_budgets_and_temporal_terms():
    _, rec = run(ScheduleConfig(passes=1, iterations_first=7, iterations=3), offsets=(1, 2))
    assert [(p, i, it) for p, i, it, _, _ in rec.calls] == [(1, 0, 7), (1, 1, 3), (1, 2, 3), (1, 3, 3), (1, 4, 3)]
    # Frame 1 sees only offset 1, later frames see offsets 1 and 2 (long-term).
    assert [n for *_, n, _ in rec.calls] == [0, 1, 2, 2, 2]


def test_first_frame_init_kinds():
    _, rec = run(ScheduleConfig(init_first=Init.CONTENT))
    assert np.all(rec.calls[0][4] == 0.25)
    _, rec = run(ScheduleConfig(init_first=Init.RANDOM))
    assert np.all(rec.calls[0][4] == 0.75)


@pytest.mark.parametrize("kind", list(Init))
def test_later_frame_init_kinds(kind):
    store, rec = run(ScheduleConfig(init=kind))
    init_frame2 = rec.calls[2][4]
    expected = {
        Init.RANDOM: np.full((H, W, 3), 0.75),
        Init.CONTENT: np.full((H, W, 3), 0.25),
        Init.PREV: store.load(1, 1),
        Init.PREV_WARPED: store.load(1, 1),  # fake_warp is the identity
        Init.FIRST: store.load(1, 0),
    }[kind]
    np.testing.assert_allclose(init_frame2, expected)


def test_starts_from_scratch_only_for_fresh_first_pass_inits():
    warm = ScheduleConfig(passes=2)
    assert starts_from_scratch(warm, 1, 0)
    assert not starts_from_scratch(warm, 1, 1)
    assert not starts_from_scratch(warm, 2, 0)
    independent = ScheduleConfig(init=Init.RANDOM, init_first=Init.CONTENT)
    assert all(starts_from_scratch(independent, 1, frame) for frame in range(3))


def test_temporal_disabled_builds_no_targets():
    _, rec = run(ScheduleConfig(passes=2), temporal=False)
    assert all(n == 0 for *_, n, _ in rec.calls)


def test_passes_1_equals_the_single_pass_path():
    single, _ = run(ScheduleConfig(passes=1))
    multi, _ = run(ScheduleConfig(passes=3))
    for i in range(5):
        np.testing.assert_array_equal(single.load(1, i), multi.load(1, i))


def test_later_pass_starts_from_blend_with_updated_neighbour():
    store, rec = run(ScheduleConfig(passes=2, pass_iterations=4, blend_weight=1.0))
    pass2 = [c for c in rec.calls if c[0] == 2]
    assert [c[1] for c in pass2] == [4, 3, 2, 1, 0]
    assert all(c[2] == 4 for c in pass2)
    # The first frame of the sweep has no updated neighbour: no temporal term, own result.
    assert pass2[0][3] == 0
    np.testing.assert_allclose(pass2[0][4], store.load(1, 4))
    # Frame 3 blends its pass-1 result with frame 4's pass-2 result (c = 0.5, δ = 1).
    expected = (store.load(1, 3) + 0.5 * store.load(2, 4)) / 1.5
    np.testing.assert_allclose(pass2[1][4], expected, rtol=1e-6)
    assert pass2[1][3] == 1


def test_blend_with_zero_weight_is_identity():
    rng = np.random.default_rng(0)
    own, other = rng.random((H, W, 3), np.float32), rng.random((H, W, 3), np.float32)
    np.testing.assert_array_equal(blend(own, other, np.ones((H, W), np.float32), 0.0), own)


def test_blend_with_zero_reliability_is_identity():
    rng = np.random.default_rng(1)
    own, other = rng.random((H, W, 3), np.float32), rng.random((H, W, 3), np.float32)
    np.testing.assert_allclose(blend(own, other, np.zeros((H, W), np.float32), 5.0), own)


def test_temporal_from_pass_delays_temporal_terms():
    _, rec = run(ScheduleConfig(passes=3, temporal_from_pass=3, init=Init.RANDOM))
    by_pass = {p: [c[3] for c in rec.calls if c[0] == p] for p in (1, 2, 3)}
    assert by_pass[1] == [0] * 5 and by_pass[2] == [0] * 5
    assert by_pass[3] == [0, 1, 1, 1, 1]


def test_resume_skips_finished_frames_and_matches_uninterrupted_run():
    schedule = ScheduleConfig(passes=2)
    reference, _ = run(schedule)
    store = MemoryStore()
    with pytest.raises(KeyboardInterrupt):
        run(schedule, store=store, stylize=Recorder(fail_at=(2, 2)))
    resumed_rec = Recorder()
    run(schedule, store=store, stylize=resumed_rec)
    assert [(c[0], c[1]) for c in resumed_rec.calls] == [(2, 2), (2, 1), (2, 0)]
    for key, image in reference.frames.items():
        np.testing.assert_array_equal(store.frames[key], image)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"passes": 0},
        {"iterations_first": 0},
        {"tolerance_first": -1e-3},
        {"tolerance_first": float("nan")},
        {"iterations": 0},
        {"pass_iterations": 0},
        {"init_first": "prev-warped"},
        {"blend_weight": -1.0},
        {"temporal_from_pass": 0},
    ],
)
def test_schedule_config_errors(kwargs):
    with pytest.raises(ConfigError):
        ScheduleConfig(**kwargs)


def test_schedule_rejects_unknown_init():
    with pytest.raises(ConfigError, match="sideways"):
        ScheduleConfig(init="sideways")


def test_temporal_dataclass_holds_arrays():
    t = Temporal(np.zeros((H, W, 3)), np.ones((H, W)))
    assert t.warped.shape == (H, W, 3) and t.reliability.shape == (H, W)
