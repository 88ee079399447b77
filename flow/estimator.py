"""The interface every optical-flow estimator implements, whatever library computes the flow.

An estimator is one object that carries everything the rest of the system needs to know about a
flow method: its ``name`` (what users type), its parameters with their defaults and validation,
a ``cache_token`` that changes whenever its output may change, the ``device`` it runs on, and the
computation itself. The OpenCV estimators live in this package (``flow.dis``, ``flow.deepflow``);
an estimator built on another library (e.g. a torch RAFT) subclasses :class:`FlowEstimator`
outside ``flow/`` and registers itself with :func:`flow.register`.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Literal

import numpy as np

from flow.errors import FlowMethodError


class FlowEstimator(abc.ABC):
    """One dense optical-flow method.

    Subclasses set the class attributes and implement :meth:`estimate`; a method with tunables
    also overrides :meth:`resolve_params`. :func:`flow.estimate` checks the frames before calling
    :meth:`estimate` and checks its result afterwards, so implementations do neither.

    Attributes:
        name: The method's name, unique in the registry (e.g. ``"dis"``).
        input: ``"gray"``: :meth:`estimate` receives (H, W) uint8 grayscale frames;
            ``"rgb"``: (H, W, 3) uint8 RGB frames.
        device: Where the computation runs: ``"cpu"`` for OpenCV, e.g. ``"cuda:0"`` for a GPU
            model. A flow cache fills pairs in parallel threads only for ``"cpu"``.
    """

    name: ClassVar[str]
    input: ClassVar[Literal["gray", "rgb"]] = "gray"
    device: str = "cpu"

    @property
    @abc.abstractmethod
    def cache_token(self) -> str:
        """A string that changes whenever the flow this estimator computes may change.

        It covers the implementation: the library and its version, the wrapper's own revision
        and anything else (weights, device class) that alters the numbers for the same frames
        and parameters. Flow caches put it into their key, so flow computed by another version
        is never reused.
        """

    def default_params(self) -> dict[str, Any]:
        """Every parameter with its default value (a new dict; ``{}`` for a method without any).

        A flow cache hashes this into its key, so it lists every setting that changes the result.
        """
        return self.resolve_params({})

    def resolve_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Complete and validate user ``params``: every parameter, with its value.

        The default accepts no parameters at all; estimators with tunables override it.

        Raises:
            FlowMethodError: for an unknown parameter or a value of the wrong kind.
        """
        if params:
            raise FlowMethodError(
                f"unknown parameter(s) {', '.join(sorted(params))} for {self.name}: expected none"
            )
        return {}

    @abc.abstractmethod
    def estimate(self, a: np.ndarray, b: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Dense flow from ``a`` to ``b`` on ``a``'s grid: ``a(p) ≈ b(p + flow(p))``.

        Args:
            a: (H, W) uint8 grayscale or (H, W, 3) uint8 RGB frame, as :attr:`input` says;
                C-contiguous.
            b: The same kind of frame, of the same size.
            params: The output of :meth:`resolve_params`.

        Returns:
            (H, W, 2) float flow in pixels, ``[..., 0]`` = dx.
        """


def typed_param(method: str, name: str, value: Any, kind: type) -> Any:
    """Check that a parameter value is of ``kind`` (``bool``, ``int`` or ``float``) and convert it.

    Numpy scalars count as their Python kind; ``bool`` is not accepted as a number.

    Raises:
        FlowMethodError: when the value is of another kind, or a number below 0.
    """
    is_bool = isinstance(value, (bool, np.bool_))
    if kind is bool:
        ok = is_bool
    elif kind is int:
        ok = isinstance(value, (int, np.integer)) and not is_bool
    else:
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not is_bool
    if not ok:
        raise FlowMethodError(f"{method} parameter {name}: expected {kind.__name__}, got {value!r}")
    if kind is not bool and value < 0:
        raise FlowMethodError(f"{method} parameter {name}: expected a value >= 0, got {value!r}")
    return kind(value)
