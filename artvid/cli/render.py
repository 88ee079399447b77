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
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="Run the frames in this process, or on Ray workers (same frames).")
@click.option("--ray-address", metavar="ADDR|auto", default=None, help="Ray cluster to join: auto or host:port (default: start a local Ray).")
@click.option("--ray-workers", type=click.IntRange(min=1), default=None, help="Stylizer workers on Ray (default: GPUs / --gpus-per-worker, else CPUs).")
@click.option("--gpus-per-worker", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True, help="GPUs per Ray worker; a fraction shares a GPU.")
@pass_settings(explicit_only=True)
def render_command(settings, clip, styles, output, quality, device, workers, cache_dir, work_dir, fresh, backend,
                   ray_address, ray_workers, gpus_per_worker, quiet, as_json):
    """Stylize CLIP into a flicker-free painted video.

    Interrupted renders resume: run the same command again. With --backend ray the frames are
    stylized by Ray workers (one per GPU, or per core), identical to a local render.

    Example: artvid render examples/sintel.mp4 --style examples/starry_night.jpg --passes 3
    """
    import artvid
    from artvid.config import build_config

    setup_logging(quiet)
    render_fields = settings.pop("render", {})  # RenderConfig's own fields (size, upscale) beside the stages
    config = build_config(quality, **render_fields, **settings)
    summary = artvid.render(
        clip, styles, output, config=config, device=device, work_dir=work_dir, fresh=fresh, cache_dir=cache_dir,
        workers=workers, progress=not quiet, backend=backend, ray_address=ray_address, ray_workers=ray_workers,
        gpus_per_worker=gpus_per_worker,
    )
    if as_json:
        echo_json(summary.as_dict())
    if not quiet:
        from artvid.rendering.space import folder_bytes, format_bytes

        note(
            f"wrote {summary.output} ({plural(summary.frames, 'frame')}, {plural(summary.passes, 'pass')}, "
            f"{summary.seconds:.0f} s)"
        )
        # It can hold tens of gigabytes after an HD render; say where, and that it may go.
        note(
            f"its frames are kept in {summary.work_dir} ({format_bytes(folder_bytes(Path(summary.work_dir)))}) "
            "to resume or raise --passes later; delete that folder when you no longer need it"
        )
