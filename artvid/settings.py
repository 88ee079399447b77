"""Config-field metadata: the one place a setting's help text and command-line range are written.

Every field of a config dataclass (``StylizeConfig``, ``ScheduleConfig``, ``FlowConfig``,
``CompareConfig``, ``RenderConfig``) is declared with :func:`setting`. The command line builds its
options from these fields (name, type, choices, default, help, range), so a field's default, its
help and its bounds exist once. This module imports nothing heavy: flow and compare configs use it
without torch.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

_MISSING: Any = dataclasses.MISSING


def is_finite_number(value: Any) -> bool:
    """``value`` is an int or float (not a bool) and finite: what a numeric setting must be."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def setting(
    default: Any = _MISSING,
    *,
    help: str,
    default_factory: Any = _MISSING,
    min: float | None = None,
    min_open: bool = False,
    hidden: str | None = None,
) -> Any:
    """A dataclass field with its command-line description.

    Args:
        default: The default value (or use ``default_factory``).
        help: One-line help text, shown by ``--help``.
        default_factory: Zero-argument callable producing the default.
        min: Smallest accepted value of a number, checked by the command line before the
            dataclass's own validation runs.
        min_open: ``min`` itself is excluded.
        hidden: Why the field has no command-line option (None = it has one).

    Returns:
        A :func:`dataclasses.field`.
    """
    metadata = {"help": help, "min": min, "min_open": min_open, "hidden": hidden}
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)
