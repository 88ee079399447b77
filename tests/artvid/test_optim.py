"""Tests for artvid.optim: the same iterates as torch.optim, and no host synchronisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from artvid.optim import BACKTRACK, LBFGS, Adam, accumulator_dtype
from artvid.stylize import StylizeConfig, Stylizer
from tests.helpers import textured_image


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    """The extended Rosenbrock function: non-convex, so curvature pairs fill and cycle."""
    return (100.0 * (x[1::2] - x[::2] ** 2) ** 2 + (1.0 - x[::2]) ** 2).sum()


def _gradient(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.detach().clone().requires_grad_(True)
    loss = rosenbrock(x)
    loss.backward()
    return loss.detach(), x.grad


def _reference_iterates(x0: torch.Tensor, steps: int, history: int, lr: float) -> list[torch.Tensor]:
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=lr, max_iter=1, history_size=history, tolerance_grad=0.0,
                            tolerance_change=0.0, line_search_fn=None)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    iterates = []
    for _ in range(steps):
        opt.step(closure)
        iterates.append(x.detach().clone())
    return iterates


@pytest.mark.parametrize("accumulate", [torch.float64, torch.float32])
@pytest.mark.parametrize("history", [3, 100])
def test_lbfgs_matches_torch_lbfgs(history: int, accumulate: torch.dtype) -> None:
    torch.manual_seed(0)
    x0 = torch.rand(40) * 0.4 + 0.4
    steps = 40  # a small step keeps this non-convex problem from amplifying float32 rounding
    expected = _reference_iterates(x0, steps, history, lr=0.1)
    x = x0.clone()
    opt = LBFGS(x.numel(), history=history, lr=0.1, device="cpu", accumulate=accumulate)
    for k in range(steps):
        opt.step(x, _gradient(x)[1])
        torch.testing.assert_close(x, expected[k], rtol=1e-4, atol=1e-5, msg=f"iterate {k + 1}")
    assert int((opt._age >= 0).sum()) == min(history, steps - 1)  # history 3 wrapped around


def test_lbfgs_on_mps_accumulates_in_float32() -> None:
    # MPS has no float64: an L-BFGS state holding any would fail on every Apple-silicon Mac.
    assert accumulator_dtype(torch.device("mps")) is torch.float32
    assert accumulator_dtype("cpu") is accumulator_dtype(torch.device("cuda", 1)) is torch.float64
    opt = LBFGS(10, history=4, lr=1.0, device="cpu", accumulate=torch.float32)
    x = torch.rand(10)
    gradients = [_gradient(x)[1]]
    with _Dtypes() as mode:
        for _ in range(6):
            opt.step(x, gradients[-1])
            gradients.append(_gradient(x)[1])
    state = [v for v in vars(opt).values() if isinstance(v, torch.Tensor)]
    assert state and all(v.dtype != torch.float64 for v in state)
    assert mode.dtypes and torch.float64 not in mode.dtypes


class _Dtypes(TorchDispatchMode):
    """Records the dtype of every tensor an operation returns."""

    def __init__(self) -> None:
        super().__init__()
        self.dtypes: set[torch.dtype] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for value in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(value, torch.Tensor):
                self.dtypes.add(value.dtype)
        return out


def test_lbfgs_with_the_stylizer_safeguard_solves_rosenbrock() -> None:
    """The stylizer's loop: reject a point whose loss more than doubles the best, go back to the best."""
    x = torch.zeros(20)
    opt = LBFGS(x.numel(), history=10, lr=1.0, device="cpu")
    best_loss, best_x, start = float("inf"), x.clone(), float(rosenbrock(x))
    rejections = 0
    for _ in range(300):
        loss, grad = _gradient(x)
        rejected = not bool(torch.isfinite(loss)) or float(loss) > 2 * best_loss
        if float(loss) < best_loss:
            best_loss, best_x = float(loss), x.clone()
        opt.step(x, grad, rejected=torch.tensor(rejected))
        if rejected:
            rejections += 1
            x.copy_(best_x)
    assert best_loss < 1e-4 * start
    assert rejections > 0  # the unit step overshoots on this problem: backtracking was exercised


def test_lbfgs_rejected_step_keeps_pairs_and_retries_shorter() -> None:
    torch.manual_seed(1)
    x = torch.rand(16)
    opt = LBFGS(x.numel(), history=5, lr=0.5, device="cpu")
    for _ in range(7):
        opt.step(x, _gradient(x)[1])
    good, good_grad = x.clone(), _gradient(x)[1]
    opt.step(x, good_grad)
    full_step = x - good
    pairs = int((opt._age >= 0).sum())
    # The caller finds the new point bad, rejects it and puts `good` back in place.
    opt.step(x, _gradient(x)[1], rejected=torch.tensor(True))
    assert int((opt._age >= 0).sum()) == pairs, "a rejected step must not store its pair"
    retried = good.clone()
    opt.step(retried, good_grad)
    # Same pairs, same gradient: the same direction, BACKTRACK times shorter.
    torch.testing.assert_close(retried - good, full_step / BACKTRACK)
    assert int((opt._age >= 0).sum()) == pairs, "the pair across the replacement is skipped"
    for expected_scale in (2 / BACKTRACK, 4 / BACKTRACK):
        assert float(opt._scale) == pytest.approx(expected_scale)
        opt.step(retried, _gradient(retried)[1])


def test_lbfgs_survives_a_nan_gradient() -> None:
    x = torch.full((6,), 0.5)
    opt = LBFGS(x.numel(), history=4, lr=0.5, device="cpu")
    for _ in range(3):
        opt.step(x, _gradient(x)[1])
    best = x.clone()
    opt.step(x, torch.full((6,), float("nan")), rejected=torch.tensor(True))
    x.copy_(best)
    for _ in range(30):
        opt.step(x, _gradient(x)[1])
    assert torch.isfinite(x).all() and float(rosenbrock(x)) < float(rosenbrock(best))


def test_adam_matches_torch_adam() -> None:
    torch.manual_seed(2)
    x0 = torch.rand(30)
    ref = x0.clone().requires_grad_(True)
    torch_adam = torch.optim.Adam([ref], lr=0.01)
    x = x0.clone()
    adam = Adam(x.numel(), lr=0.01, device="cpu")
    for _ in range(25):
        torch_adam.zero_grad()
        rosenbrock(ref).backward()
        torch_adam.step()
        adam.step(x, _gradient(x)[1])
    torch.testing.assert_close(x, ref.detach(), rtol=1e-5, atol=1e-6)
    adam.step(x, _gradient(x)[1], rejected=torch.tensor(True))
    assert float(adam._t) == 0.0 and float(adam._m.abs().sum()) == 0.0


class _CountHostReads(TorchDispatchMode):
    """Counts reads of tensor values by the host (``.item()``, ``float()``, ``bool()``, ``.tolist()``)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.reads += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("make", [
    lambda n: LBFGS(n, history=4, lr=1.0, device="cpu"),
    lambda n: Adam(n, lr=1.0, device="cpu"),
])
def test_optimiser_steps_never_read_tensors_on_the_host(make) -> None:
    x = torch.full((10,), 0.3)
    opt = make(x.numel())
    with _CountHostReads() as mode:
        for _ in range(8):
            opt.step(x, _gradient(x)[1], rejected=torch.tensor(False))
    assert mode.reads == 0


def test_stylize_reads_the_host_a_fixed_number_of_times_per_level() -> None:
    """The iteration loop is free of device-to-host copies: more iterations, no more reads."""
    style = textured_image(48, 48, seed=3)
    content = torch.from_numpy(textured_image(32, 32, seed=4)).permute(2, 0, 1)[None].float() / 255.0
    stylizer = Stylizer(StylizeConfig(tolerance=0.0), [style])
    stylizer.stylize(content, content, iterations=2)  # style Grams cached
    reads = []
    for iterations in (11, 25):
        with _CountHostReads() as mode:
            result = stylizer.stylize(content, content, iterations=iterations)
        assert result.iterations == iterations
        reads.append(mode.reads)
    assert reads[0] == reads[1]
    assert np.isfinite(result.losses["total"])
