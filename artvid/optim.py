"""Optimisers for one flat image vector that never synchronise with the host.

``torch.optim.LBFGS`` reads tensors back as Python numbers inside every step: the loss, the
curvature test, and one coefficient per stored pair in each loop of the two-loop recursion. On a
GPU each of those is a device-to-host copy that stalls the queue, about 2·history + 5 per
iteration. These optimisers keep every decision on the device (``torch.where`` instead of
``if``), so a stylization loop can run many iterations without waiting for the GPU.

Both share one interface: ``step(x, grad, rejected)`` moves ``x`` in place given its gradient;
``rejected``, a boolean tensor, tells the optimiser that the caller throws the point ``x`` away
(its loss blew up) and puts a better one in its place, which is how the stylizer's divergence
safeguard works without reading the loss on the host.

:class:`LBFGS` is the method neural-style and artistic-videos run (optim's ``lbfgs.lua``, as
``torch.optim.LBFGS`` with ``max_iter=1`` and no line search): a fixed step ``lr`` (the first
one ``min(1, 1/‖g‖₁)·lr``), pairs kept when ``yᵀs > 1e-10``, initial inverse Hessian
``yᵀs / yᵀy``. The inverse-Hessian product uses the compact representation of Byrd, Nocedal and
Schnabel (1994, Thm. 2.2) instead of the two-loop recursion: the same matrix, but two passes over
the stored pairs as matrix products plus a small triangular solve, rather than 4·history
vector operations issued from Python.
"""

from __future__ import annotations

import torch
from torch import Tensor

BACKTRACK = 10.0
"""Divisor of the step length after a rejected step."""
REGROW = 2.0
"""Factor by which a shortened step length grows back per accepted step."""
_CURVATURE_EPS = 1e-10
"""A pair is kept only when ``yᵀs`` exceeds this (lbfgs.lua and torch.optim.LBFGS)."""


def accumulator_dtype(device: torch.device | str) -> torch.dtype:
    """The dtype of L-BFGS's small matrices and dot products on ``device``: float64, except on
    Apple's MPS, which has no float64 (float32 there, as ``torch.optim.LBFGS`` uses everywhere)."""
    return torch.float32 if torch.device(device).type == "mps" else torch.float64


class LBFGS:
    """L-BFGS with a fixed step and no line search, for one flat float32 vector.

    Args:
        numel: Length of the optimised vector.
        history: Number of curvature pairs kept (neural-style's ``-lbfgs_num_correction``, 100).
        lr: Step length (``-learning_rate``, 1 in the reference).
        device: Where the state lives (that of the vector).
        accumulate: dtype of the pairs' products and the small matrices (default:
            :func:`accumulator_dtype` of ``device``).
    """

    def __init__(self, numel: int, *, history: int, lr: float, device: torch.device | str,
                 accumulate: torch.dtype | None = None) -> None:
        if history < 1:
            raise ValueError(f"expected history >= 1, got {history}")
        m = history
        self.history = m
        self.lr = float(lr)
        self._acc = accumulator_dtype(device) if accumulate is None else accumulate
        f32 = {"device": device, "dtype": torch.float32}
        acc = {"device": device, "dtype": self._acc}
        # Slot i holds the pair (s_i, y_i) as rows 2i and 2i+1. Slots are filled 0, 1, … and then
        # reused cyclically; ``age`` (the pair's number, -1 for an empty slot) gives their order.
        self._pairs = torch.zeros(m, 2, numel, **f32)
        self._sy = torch.zeros(m, m, **acc)  # s_i · y_j
        self._yy = torch.zeros(m, m, **acc)  # y_i · y_j
        self._age = torch.full((m,), -1, device=device, dtype=torch.long)
        self._count = torch.zeros((), device=device, dtype=torch.long)
        self._gamma = torch.ones((), **acc)
        self._first = torch.ones((), device=device, dtype=torch.bool)
        self._skip_pair = torch.zeros((), device=device, dtype=torch.bool)
        self._scale = torch.ones((), **f32)
        self._prev_grad = torch.zeros(numel, **f32)
        self._last_step = torch.zeros(numel, **f32)
        self._false = torch.zeros((), device=device, dtype=torch.bool)
        self._steps = 0  # host-side: slots 0 … min(steps, m) - 1 may be in use

    def step(self, x: Tensor, grad: Tensor, rejected: Tensor | None = None) -> None:
        """Move ``x`` one L-BFGS step, given ``grad`` (its gradient at ``x``).

        Args:
            x: ``(numel,)`` float32, updated in place.
            grad: ``(numel,)`` float32 gradient of the loss at ``x``.
            rejected: Bool scalar tensor; where true, the caller rejects ``x`` (the last step
                made the loss blow up) and puts a better point in its place after this call.
                The failed step's pair is then not stored, the stored pairs are kept, and the
                step length is divided by ``BACKTRACK``; it grows back by ``REGROW`` per step,
                up to ``lr``.
        """
        m = self.history
        rejected = self._false if rejected is None else rejected
        self._steps += 1
        k = min(self._steps, m)  # slots that may hold a pair after this step's update

        # The previous step's pair, s = x_k − x_{k-1} and y = g_k − g_{k-1}, goes into the
        # oldest slot when its curvature is positive.
        s, y = self._last_step, grad - self._prev_grad
        ys = torch.dot(y, s).to(self._acc)
        keep = ~self._first & ~self._skip_pair & ~rejected & (ys > _CURVATURE_EPS)
        slot = torch.remainder(self._count, m).reshape(1)
        self._pairs.index_copy_(0, slot, torch.where(keep, torch.stack([s, y])[None], self._pairs.index_select(0, slot)))

        # The one pass over the stored pairs gives Sᵀg, Yᵀg and the new pair's products with
        # every stored one. (The right operand is column-major: BLAS reads the pairs once,
        # where an (n, 3) row-major one made it about 2.5 times slower.)
        products = torch.zeros(m, 2, 3, device=grad.device, dtype=self._acc)
        products[:k] = (self._pairs[:k].view(2 * k, -1) @ torch.stack([grad, s, y]).T).to(self._acc).view(k, 2, 3)
        a, b = products[:, 0, 0], products[:, 1, 0]
        sy, yy = self._sy.clone(), self._yy.clone()
        sy.index_copy_(1, slot, products[:, 0, 2:3])  # s_i · y_new
        sy.index_copy_(0, slot, products[:, 1, 1][None, :])  # s_new · y_i
        yy.index_copy_(1, slot, products[:, 1, 2:3])
        yy.index_copy_(0, slot, products[:, 1, 2][None, :])
        self._sy.copy_(torch.where(keep, sy, self._sy))
        self._yy.copy_(torch.where(keep, yy, self._yy))
        self._age.index_copy_(0, slot, torch.where(keep, self._count, self._age.index_select(0, slot)))
        self._gamma.copy_(torch.where(keep, ys / torch.dot(y, y).to(self._acc), self._gamma))
        self._count.add_(keep.long())

        coefficients = self._inverse_hessian_coefficients(a, b)
        h_grad = torch.addmv(grad * self._gamma.float(), self._pairs[:k].view(2 * k, -1).T,
                             coefficients[:, :k].T.reshape(-1).float())
        # A direction that does not descend (rounding, or a NaN gradient) falls back to -grad.
        descends = torch.dot(grad, h_grad) > 0
        direction = torch.where(descends, -h_grad, -grad)
        first_step = torch.clamp(1.0 / grad.abs().sum(), max=1.0) * self.lr
        t = torch.where(self._first, first_step, self._scale * self.lr)
        torch.mul(direction, t, out=self._last_step)
        x.add_(self._last_step)
        self._prev_grad.copy_(grad)
        self._first.fill_(False)
        self._scale.copy_(torch.where(rejected, self._scale / BACKTRACK, torch.clamp(self._scale * REGROW, max=1.0)))
        # The next gradient is taken at the caller's replacement point, not at x_k + t d.
        self._skip_pair.copy_(rejected)

    def _inverse_hessian_coefficients(self, a: Tensor, b: Tensor) -> Tensor:
        """``(p, q)`` with ``H g = γ g + S p + Y q`` (Byrd, Nocedal & Schnabel 1994, Eq. 2.6).

        With ``S``, ``Y`` the pairs in chronological order, ``R`` the upper triangle of ``SᵀY``,
        ``D`` its diagonal and ``γ`` the initial scale: ``u = R⁻¹ Sᵀg``,
        ``p = R⁻ᵀ((D + γ YᵀY) u − γ Yᵀg)`` and ``q = −γ u``. Empty slots are masked out of the
        small matrices (a unit diagonal in ``R``), so their coefficients are zero.

        Args:
            a: ``(m,)`` ``Sᵀg`` in slot order (accumulator dtype).
            b: ``(m,)`` ``Yᵀg`` in slot order.

        Returns:
            ``(2, m)``: ``p`` and ``q`` in slot order.
        """
        valid = self._age >= 0
        order = torch.argsort(self._age)  # empty slots (-1) first, then oldest → newest
        keep = valid[order].to(self._acc)
        both = keep[:, None] * keep[None, :]
        sy = self._sy[order][:, order] * both
        yy = self._yy[order][:, order] * both
        r = torch.triu(sy) + torch.diag(1.0 - keep)
        gamma = self._gamma
        u = torch.linalg.solve_triangular(r, (a[order] * keep)[:, None], upper=True)[:, 0]
        rhs = torch.diagonal(sy) * u + gamma * (yy @ u) - gamma * (b[order] * keep)
        p = torch.linalg.solve_triangular(r.T, rhs[:, None], upper=False)[:, 0]
        coefficients = torch.empty(2, self.history, device=a.device, dtype=self._acc)
        coefficients[0].index_copy_(0, order, p)
        coefficients[1].index_copy_(0, order, -gamma * u)
        return coefficients


class Adam:
    """Adam (Kingma & Ba 2015) for one flat float32 vector, with on-device rejection of a step.

    Args:
        numel: Length of the optimised vector.
        lr: Step size (artistic-videos' Adam ``-learning_rate``, 10 on the 0–255 scale).
        betas: Decay rates of the first and second moment estimates.
        eps: Denominator floor.
        device: Where the state lives.
    """

    def __init__(self, numel: int, *, lr: float, device: torch.device | str,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.lr, self.betas, self.eps = float(lr), betas, eps
        self._m = torch.zeros(numel, device=device, dtype=torch.float32)
        self._v = torch.zeros(numel, device=device, dtype=torch.float32)
        self._t = torch.zeros((), device=device, dtype=torch.float32)

    def step(self, x: Tensor, grad: Tensor, rejected: Tensor | None = None) -> None:
        """Move ``x`` one Adam step (in place), given its gradient ``grad``.

        Where ``rejected`` (a bool scalar tensor) is true the caller replaces ``x`` after this
        call, and the moment estimates and step count start afresh.
        """
        beta1, beta2 = self.betas
        self._t.add_(1.0)
        self._m.lerp_(grad, 1.0 - beta1)
        self._v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        m_hat_scale = self.lr / (1.0 - beta1 ** self._t)
        v_hat = self._v / (1.0 - beta2 ** self._t)
        x.sub_(self._m * m_hat_scale / (v_hat.sqrt_().add_(self.eps)))
        if rejected is not None:
            keep = (~rejected).float()
            self._m.mul_(keep)
            self._v.mul_(keep)
            self._t.mul_(keep)
