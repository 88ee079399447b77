"""The registry of flow estimators: the one list of flow-method names.

DIS and DeepFlow register here when ``flow`` is imported. Another estimator (say a torch RAFT
in its own package) registers itself the same way, and from then on every consumer of method
names (configs, command-line choices, flow caches) sees it::

    flow.register(Raft())
    flow.estimate(a, b, method="raft")
"""

from __future__ import annotations

from flow.deepflow import DeepFlow
from flow.dis import DIS
from flow.errors import FlowMethodError
from flow.estimator import FlowEstimator

_ESTIMATORS: dict[str, FlowEstimator] = {}


def register(estimator: FlowEstimator, replace: bool = False) -> FlowEstimator:
    """Make ``estimator`` available under its ``name``.

    Args:
        estimator: A :class:`FlowEstimator` instance.
        replace: Allow replacing an estimator already registered under the same name.

    Returns:
        ``estimator``, so that ``register`` can be used on a freshly built instance.

    Raises:
        TypeError: when ``estimator`` is not a :class:`FlowEstimator`.
        FlowMethodError: when its name is not a non-empty string, or is taken and ``replace`` is false.
    """
    if not isinstance(estimator, FlowEstimator):
        raise TypeError(f"estimator: expected a flow.FlowEstimator, got {type(estimator).__name__}")
    name = getattr(estimator, "name", None)
    if not (isinstance(name, str) and name):
        raise FlowMethodError(f"estimator name: expected a non-empty str, got {name!r}")
    if name in _ESTIMATORS and not replace:
        raise FlowMethodError(f"flow method {name!r}: expected a new name, got one already registered")
    _ESTIMATORS[name] = estimator
    return estimator


def unregister(name: str) -> FlowEstimator:
    """Remove the estimator registered as ``name`` and return it.

    Raises:
        FlowMethodError: for an unknown name.
    """
    estimator = get(name)
    del _ESTIMATORS[name]
    return estimator


def get(name: str) -> FlowEstimator:
    """The estimator registered as ``name``.

    Raises:
        FlowMethodError: for an unknown name; the message lists the known ones.
    """
    try:
        return _ESTIMATORS[name]
    except (KeyError, TypeError):
        raise FlowMethodError(
            f"unknown flow method: expected one of {', '.join(_ESTIMATORS)}, got {name!r}"
        ) from None


def method_names() -> tuple[str, ...]:
    """The names of the registered estimators, in registration order (built-ins first)."""
    return tuple(_ESTIMATORS)


register(DIS())
register(DeepFlow())
