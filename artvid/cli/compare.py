"""``artvid compare``: score stylized clips against their content, optionally with baselines."""

from __future__ import annotations

from pathlib import Path

import click

from artvid.cli.fields import As, field_options, pass_settings
from artvid.cli.options import DIR_OUT, PATH_IN, apply, command, flow_method_names, quality_option, run_options
from artvid.cli.output import note, setup_logging
from artvid.compare import CompareConfig, default_report_dir

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
    import artvid
    from artvid.report import format_table, summary_json

    setup_logging(quiet)
    report_dir = report_dir or default_report_dir(content)
    result = artvid.compare_clips(
        content, stylized, report_dir=report_dir, side_by_side=not no_side_by_side, baselines=baselines,
        quality=quality, progress=not quiet, **settings["compare"], device=device, cache_dir=cache_dir,
        workers=workers,
    )
    click.echo(summary_json(result) if as_json else format_table(result))
    if not quiet:
        note(f"report in {report_dir}")
