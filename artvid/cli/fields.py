"""Click options generated from config dataclass fields, and the values read back from them.

A field declared with :func:`artvid.settings.setting` becomes ``--field-name``: its type, choices,
default, range and help come from the field, so none of them is written twice. Each generated
option remembers the config section and field it sets, so a command collects its settings from
the options themselves (:func:`pass_settings`), never from a hand-kept name table.

Type mapping (annotations are resolved with :func:`typing.get_type_hints`):

- ``bool``: a ``--x/--no-x`` flag.
- ``int``, ``float``: ``click.IntRange``/``FloatRange`` from the field's ``min``/``min_open``.
- ``Literal[...]``, ``Enum``: ``click.Choice`` (an enum by its values; the member comes back).
- ``tuple[str | int | float, ...]``: comma-separated text parsed to a tuple; a bad item is one
  "expected …, got …" error.
- ``Path``: ``click.Path``.
- ``X | None``: as ``X``, default None (not shown).

A field whose metadata says ``hidden`` gets no option; any other type is a TypeError, so a new
field is either an option or hidden on purpose.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource


class FieldOption(click.Option):
    """A click option that sets the config field ``field`` of section ``section``."""

    def __init__(self, decls: Sequence[str], *, section: str, field: str, **attrs: Any) -> None:
        super().__init__(decls, **attrs)
        self.section = section
        self.field = field


@dataclasses.dataclass(frozen=True)
class As:
    """How one command shows a field where the derived option does not fit.

    Attributes:
        name: Option name instead of ``--field-name`` (a clash, or the name users know).
        choices: Accepted values, for a free-text field or a registry-backed one.
        type: Click type replacing the derived one (e.g. a path that must exist).
        help: Help text replacing the field's (the field means something narrower here).
    """

    name: str | None = None
    choices: Sequence[str] | None = None
    type: click.ParamType | None = None
    help: str | None = None


def field_options(
    cls: type, section: str, *, only: Iterable[str] | None = None, skip: Iterable[str] = (),
    tweaks: Mapping[str, As] | None = None,
) -> list[FieldOption]:
    """The options of ``cls``'s fields, in field order (``only``'s order when given).

    Args:
        cls: A config dataclass whose fields are declared with ``setting``.
        section: The config section the values belong to (``"stylize"``, ``"flow"`` …).
        only: Expose just these fields (default: every field not hidden).
        skip: Fields another option bundle provides.
        tweaks: Per-field :class:`As` for names, choices, types or help that differ.

    Returns:
        :class:`FieldOption` instances; fields with ``hidden`` metadata get none.

    Raises:
        TypeError: For a name that is not a field, or a field type with no option mapping.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    only = None if only is None else list(only)
    skip, tweaks = set(skip), dict(tweaks or {})
    unknown = (set(only or ()) | skip | set(tweaks)) - set(fields)
    if unknown:
        raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
    hints = typing.get_type_hints(cls)
    chosen = only if only is not None else [name for name in fields if name not in skip]
    return [
        _option(fields[name], hints[name], section, tweaks.get(name, As()))
        for name in chosen
        if not fields[name].metadata.get("hidden")
    ]


def field_default(field: dataclasses.Field) -> Any:
    """The default of a dataclass field (calling its factory)."""
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def pass_settings(*, explicit_only: bool = False) -> Callable[[Callable], Callable]:
    """Decorator: the command receives its :class:`FieldOption` values as a first argument.

    The values come by section, under config field names: ``{"stylize": {"content_weight": 5.0}}``.
    Every other option is passed by name as usual, so an option the command forgets to take is a
    TypeError at once rather than a setting silently dropped.

    Args:
        explicit_only: Leave out values the user did not give (so a preset fills them in).
    """

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        @click.pass_context
        def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
            settings: dict[str, dict[str, Any]] = {}
            for param in ctx.command.params:
                if not isinstance(param, FieldOption):
                    continue
                value = kwargs.pop(param.name)
                source = ctx.get_parameter_source(param.name)
                if explicit_only and (value is None or source in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)):
                    continue
                settings.setdefault(param.section, {})[param.field] = value
            return func(settings, *args, **kwargs)

        return wrapper

    return decorate


def _option(field: dataclasses.Field, hint: Any, section: str, tweak: As) -> FieldOption:
    hint = _unwrap_optional(hint)
    name = tweak.name or "--" + field.name.replace("_", "-")
    default = field_default(field)
    # An unset optional value shows no "[default: None]"; its help says what None means.
    attrs: dict[str, Any] = {"help": tweak.help or field.metadata["help"], "show_default": default is not None}
    if hint is bool:
        decls = [f"{name}/--no-{name[2:]}"]
        attrs["default"] = default
    else:
        decls = [name]
        attrs.update(_typed(field, hint, default))
    if tweak.choices is not None:
        attrs["type"] = click.Choice(list(tweak.choices))
    if tweak.type is not None:
        attrs["type"] = tweak.type
    return FieldOption(decls, section=section, field=field.name, **attrs)


def _unwrap_optional(hint: Any) -> Any:
    """``X`` for ``X | None``; any other hint unchanged."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _typed(field: dataclasses.Field, hint: Any, default: Any) -> dict[str, Any]:
    """``type``, ``default`` (as shown) and ``callback`` of a non-flag option."""
    lo, lo_open = field.metadata.get("min"), field.metadata.get("min_open", False)
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return {"type": click.Choice([str(a) for a in typing.get_args(hint)]), "default": default}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {
            "type": click.Choice([m.value for m in hint]),
            "default": None if default is None else hint(default).value,
            "callback": lambda ctx, param, value: None if value is None else hint(value),
        }
    if hint is int or hint is float:
        ranged = click.IntRange if hint is int else click.FloatRange
        kind = ranged(min=lo, min_open=lo_open) if lo is not None else (click.INT if hint is int else click.FLOAT)
        return {"type": kind, "default": default}
    if hint is str:
        return {"type": click.STRING, "default": default}
    if hint is Path:
        return {"type": click.Path(path_type=Path), "default": default}
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis and args[0] in (str, int, float):
            shown = None if default is None else ",".join(map(str, default))
            parse = _tuple_parser(args[0], lo, lo_open, field.metadata["help"])
            return {"type": click.STRING, "default": shown, "callback": parse}
    raise TypeError(f"no command-line type for field {field.name!r}: {hint!r} (declare it hidden)")


def _tuple_parser(item: type, lo: float | None, lo_open: bool, help: str) -> Callable:
    """A click callback: comma-separated text to a tuple of ``item``, checked against ``lo``."""
    kind = {str: "names", int: "integers", float: "numbers"}[item]
    if lo is not None:
        kind += f" {'>' if lo_open else '>='} {lo:g}"

    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple | None:
        if value is None:
            return None
        try:
            values = tuple(item(v.strip()) for v in value.split(",") if v.strip())
        except ValueError:
            values = ()
        if not values or (lo is not None and any(v < lo or (lo_open and v == lo) for v in values)):
            raise click.BadParameter(f"expected comma-separated {kind}, got {value!r} ({help})")
        return values

    return parse
