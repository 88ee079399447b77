"""Option bundles shared by the commands, each option defined once.

This module imports neither torch nor the stylizer: ``artvid flow`` uses it on a full cache and
should answer without loading them. Bundles built from torch-backed configs (:func:`stylize_options`,
:func:`quality_option`) import their config when called, i.e. when ``render`` or ``image`` is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import click

import flow
from artvid.cli.fields import As, field_options
from artvid.flowcache import FlowConfig
from artvid.multipass import FRESH_INITS

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "show_default": True}
PATH_IN = click.Path(exists=True, path_type=Path)
DIR_OUT = click.Path(file_okay=False, path_type=Path)


def flow_method_names() -> Sequence[str]:
    """The flow estimators a command accepts: the one place the CLI reads them from."""
    return flow.method_names()


def flow_check_names() -> Sequence[str]:
    """The consistency checks a command accepts."""
    return flow.CHECKS


def fresh_init_names() -> list[str]:
    """The initialisations a first frame (or a still image) may start from."""
    return [i.value for i in FRESH_INITS]


def command(name: str) -> Callable[[Callable], click.Command]:
    """``click.command`` with the settings every artvid command shares (``-h``, shown defaults)."""
    return click.command(name, context_settings=CONTEXT_SETTINGS)


def apply(options: Sequence[Callable[[Callable], Callable] | click.Option]) -> Callable[[Callable], Callable]:
    """One decorator from option decorators or :class:`click.Option` objects, listed top to bottom."""

    def decorate(func: Callable) -> Callable:
        for option in reversed(options):
            if isinstance(option, click.Parameter):
                func.__click_params__ = [*getattr(func, "__click_params__", []), option]
            else:
                func = option(func)
        return func

    return decorate


_RUN_OPTIONS: dict[str, Callable[[Callable], Callable]] = {
    "device": click.option("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps."),
    "workers": click.option(
        "--workers", type=click.IntRange(min=1), default=None, help="Flow worker threads (default: all cores)."
    ),
    "cache_dir": click.option(
        "--cache-dir", type=DIR_OUT, default=None, help="Flow cache root (default: $ARTVID_CACHE or ~/.cache/artvid/flow)."
    ),
    "quiet": click.option("-q", "--quiet", is_flag=True, help="No progress bars or logs."),
    "as_json": click.option("--json", "as_json", is_flag=True, help="Print a JSON summary to stdout."),
}


def run_options(*names: str) -> Callable[[Callable], Callable]:
    """How a command runs, not what it computes: ``device``, ``workers``, ``cache_dir``, ``quiet``,
    ``as_json`` (all of them when no name is given)."""
    unknown = set(names) - set(_RUN_OPTIONS)
    if unknown:
        raise TypeError(f"no run options {sorted(unknown)}")
    return apply([_RUN_OPTIONS[name] for name in names or _RUN_OPTIONS])


def flow_options(method: str = "--flow-method") -> Callable[[Callable], Callable]:
    """The options of :class:`FlowConfig` (section ``flow``); ``method`` names the estimator's option."""
    return apply(field_options(FlowConfig, "flow", tweaks={
        "method": As(name=method, choices=flow_method_names()),
        "check": As(choices=flow_check_names()),
    }))


def quality_option(help: str) -> Callable[[Callable], Callable]:
    """``--quality``: the budget preset (imports the render config, hence torch)."""
    from artvid.config import Quality

    return click.option(
        "--quality", type=click.Choice([q.value for q in Quality]), default=Quality.BALANCED.value, help=help
    )


def stylize_options(func: Callable) -> Callable:
    """Options shared by ``render`` and ``image``: the style images, the loss, the network, the
    optimiser, the seed and the frame size (imports the stylizer's config, hence torch).

    ``temporal_weight`` is left to ``render``: a still image has no temporal term.
    """
    from artvid.config import RenderConfig
    from artvid.multipass import ScheduleConfig
    from artvid.stylize import StylizeConfig

    return apply([
        click.option("--style", "styles", multiple=True, required=True, type=PATH_IN, help="Style image; repeat for several."),
        *field_options(StylizeConfig, "stylize", skip=["temporal_weight"]),
        *field_options(ScheduleConfig, "schedule", only=["seed"]),
        *field_options(RenderConfig, "render", only=["size"]),
    ])(func)

