"""``artvid render``: a clip through the whole pipeline, options mapped to the render config."""

from __future__ import annotations

from pathlib import Path

import click

from artvid.cli.fields import As, field_options, pass_settings
from artvid.cli.options import (
    DIR_OUT, PATH_IN, apply, command, flow_options, fresh_init_names, quality_option, run_options, stylize_options,
)
from artvid.cli.output import echo_json, note, plural, setup_logging
from artvid.config import RenderConfig
from artvid.multipass import ScheduleConfig
from artvid.stylize import StylizeConfig


@command("render")
@click.argument("clip", type=PATH_IN)
@stylize_options
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Output .mp4 (H.264, the clip's fps and audio) or a folder/ for PNG frames. Default: <clip>-<style>.mp4.")
@quality_option("Preset of iteration budgets; explicit options override it.")
@apply([
    *field_options(ScheduleConfig, "schedule", skip=["seed"], tweaks={"init_first": As(choices=fresh_init_names())}),
    *field_options(StylizeConfig, "stylize", only=["temporal_weight"]),
    *field_options(RenderConfig, "render", only=["upscale"]),
])
@flow_options(method="--flow-method")
@run_options()
@click.option("--work-dir", type=DIR_OUT, default=None, help="Where finished frames are kept for resuming (default: <output>.artvid-work).")
@click.option("--fresh", is_flag=True, help="Discard finished frames and start over.")
@pass_settings(explicit_only=True)
def render_command(settings, clip, styles, output, quality, device, workers, cache_dir, work_dir, fresh, quiet, as_json):
    """Stylize CLIP into a flicker-free painted video.

    Interrupted renders resume: run the same command again.

    Example: artvid render examples/sintel.mp4 --style examples/starry_night.jpg --passes 3
    """
    import artvid
    from artvid.config import build_config

    setup_logging(quiet)
    render_fields = settings.pop("render", {})  # RenderConfig's own fields (size, upscale) beside the stages
    config = build_config(quality, **render_fields, **settings)
    summary = artvid.render(
        clip, styles, output, config=config, device=device, work_dir=work_dir, fresh=fresh, cache_dir=cache_dir,
        workers=workers, progress=not quiet,
    )
    if as_json:
        echo_json(summary.as_dict())
    if not quiet:
        note(
            f"wrote {summary.output} ({plural(summary.frames, 'frame')}, {plural(summary.passes, 'pass')}, "
            f"{summary.seconds:.0f} s)"
        )
