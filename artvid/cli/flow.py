"""``artvid flow``: fill the flow cache for a clip (torch is never imported)."""

from __future__ import annotations

from pathlib import Path

import click

from artvid.cli.fields import field_options, pass_settings
from artvid.cli.options import DIR_OUT, PATH_IN, apply, command, flow_options, run_options
from artvid.cli.output import echo_json, note, plural, setup_logging
from artvid.multipass import ScheduleConfig


@command("flow")
@click.argument("clip", type=PATH_IN)
@flow_options(method="--method")
# The same shots as the render: no flow is computed across a cut.
@apply(field_options(ScheduleConfig, "schedule", only=["cuts", "scales"]))
# The frame size is a FlowCache argument, not a FlowConfig field (the cache key holds it apart).
@click.option("--size", type=click.IntRange(min=16), default=None, help="Resize frames: long side in pixels (default: native).")
@run_options("workers", "cache_dir")
@click.option("--export", "export_dir", type=DIR_OUT, default=None, help="Also write Ruder-compatible forward_i_j.flo / backward_j_i.flo / reliable_j_i.pgm here.")
@run_options("quiet", "as_json")
@pass_settings()
def flow_command(settings, clip: Path, size, workers, cache_dir, export_dir, quiet, as_json):
    """Compute and cache forward/backward flow and reliability for CLIP.

    A second run with the same settings reuses the cache and returns at once.

    Example: artvid flow examples/sintel.mp4 --long-term 1,10 --export flow_out/
    """
    import artvid

    setup_logging(quiet)
    summary = artvid.compute_flow(
        clip, size=size, cache_dir=cache_dir, workers=workers, export_dir=export_dir, progress=not quiet,
        cuts=settings["schedule"]["cuts"], scales=settings["schedule"]["scales"], **settings["flow"],
    )
    if as_json:
        echo_json(summary)
    elif not quiet:
        for scale in summary["scales"][:-1]:
            note(f"scale {scale['size'][1]}x{scale['size'][0]}: {plural(scale['pairs'], 'pair')} "
                 f"({scale['computed']} computed) in {scale['cache']}")
        note(
            f"{plural(summary['pairs'], 'pair')} ({summary['computed']} computed) for "
            f"{plural(summary['frames'], 'frame')} in {summary['cache']}"
        )
