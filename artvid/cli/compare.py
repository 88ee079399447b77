"""``artvid compare``: score stylized clips against their content, optionally with baselines."""

from __future__ import annotations

from pathlib import Path

import click

from artvid.cli.fields import As, field_options, pass_settings
from artvid.cli.options import DIR_OUT, PATH_IN, apply, command, flow_method_names, quality_option, run_options
from artvid.cli.output import note, setup_logging
from artvid.compare import CompareConfig
from artvid.errors import ArtvidError, ConfigError

_COMPARE_OPTIONS = field_options(CompareConfig, "compare", skip=["device", "cache_dir", "workers"], tweaks={
    "style": As(type=PATH_IN),
    "gt_flow": As(type=click.Path(exists=True, file_okay=False, path_type=Path)),
    "flow_method": As(choices=flow_method_names()),
})
"""CompareConfig's options; ``device``, ``cache_dir`` and ``workers`` come from :func:`run_options`."""


@command("compare")
@click.argument("content", type=PATH_IN)
@click.argument("stylized", nargs=-1, type=PATH_IN)
@apply(_COMPARE_OPTIONS)
@click.option("-o", "--output", "report_dir", type=DIR_OUT, default=None, help="Report folder (default: compare-<content>/).")
@click.option("--baselines", is_flag=True, help="Also render the independent per-frame Gatys baseline and the single-pass result (same budget) and compare them.")
@quality_option("Budget preset of the --baselines renders.")
@click.option("--no-side-by-side", is_flag=True, help="Skip the side-by-side video.")
@run_options()
@pass_settings()
def compare_command(settings, content, stylized, report_dir, baselines, quality, no_side_by_side, device, workers,
                    cache_dir, quiet, as_json):
    """Score stylized versions of CONTENT: temporal consistency, style and content loss.

    Writes metrics.csv, summary.json, a plot and a side-by-side video to the report folder and
    prints a table (one row per input; CONTENT itself is the reference floor).

    Example: artvid compare examples/sintel.mp4 out.mp4 fast/ --style examples/starry_night.jpg
    """
    from artvid.compare import default_names, run_compare
    from artvid.report import format_table, summary_json, write_report

    setup_logging(quiet)
    values = settings["compare"]
    report_dir = report_dir or Path(f"compare-{content.stem}")
    name_list, style = values["names"], values["style"]
    stylized = list(stylized)
    if baselines:
        if style is None:
            raise ConfigError("--baselines needs --style")
        rendered = _render_baselines(content, style, report_dir / "baselines", quality, values["size"], device, workers, cache_dir, quiet)
        stylized = list(rendered.values()) + stylized
        if name_list is not None:
            name_list = tuple(rendered) + name_list
        else:
            name_list = tuple(rendered) + default_names(stylized[len(rendered):])
    if not stylized:
        raise ConfigError("nothing to compare: give STYLIZED clips or --baselines")
    config = CompareConfig(**{**values, "names": name_list}, device=device, cache_dir=cache_dir, workers=workers)
    result = run_compare(content, stylized, config, progress=not quiet)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create report folder {report_dir}: {exc.strerror or exc}") from None
    write_report(result, report_dir, side_by_side=not no_side_by_side)
    click.echo(summary_json(result) if as_json else format_table(result))
    if not quiet:
        note(f"report in {report_dir}")


def _render_baselines(content, style, folder, quality, size, device, workers, cache_dir, quiet) -> dict[str, Path]:
    """The classic ablation's first two rungs, rendered with the same budget preset."""
    from artvid.config import build_config
    from artvid.multipass import Init
    from artvid.pipeline import RunOptions, render

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArtvidError(f"cannot create {folder}: {exc.strerror or exc}") from None
    runs = {
        "independent": build_config(
            quality, size=size, schedule={"init": Init.RANDOM, "init_first": Init.RANDOM},
            stylize={"temporal_weight": 0.0},
        ),
        "single-pass": build_config(quality, size=size),
    }
    outputs = {}
    for name, config in runs.items():
        out = folder / f"{name}.mp4"
        options = RunOptions(device=device, workers=workers, cache_dir=cache_dir, progress=not quiet)
        if not quiet:
            note(f"rendering the {name} baseline")
        render(content, [style], out, config, options)
        outputs[name] = out
    return outputs
