"""``artvid render`` and ``artvid image``: options mapped to the render configuration."""

from __future__ import annotations

import json
from pathlib import Path

import click

from artvid.cli import _PATH_IN, _defaults, _floats, _layers, _offsets, _setup_logging
from artvid.config import Quality
from artvid.flowcache import FlowConfig
from flow import CHECKS as FLOW_CHECKS
from artvid.multipass import Init, ScheduleConfig
from artvid.stylize import StylizeConfig

_S = _defaults(StylizeConfig)
_P = _defaults(ScheduleConfig)
_F = _defaults(FlowConfig)

# option name -> (section, field); every value given explicitly wins over the --quality preset.
_RENDER_FIELDS = {
    "content_weight": ("stylize", "content_weight"),
    "style_weight": ("stylize", "style_weight"),
    "tv_weight": ("stylize", "tv_weight"),
    "temporal_weight": ("stylize", "temporal_weight"),
    "content_layers": ("stylize", "content_layers"),
    "style_layers": ("stylize", "style_layers"),
    "style_blend_weights": ("stylize", "style_blend_weights"),
    "style_scale": ("stylize", "style_scale"),
    "optimizer": ("stylize", "optimizer"),
    "learning_rate": ("stylize", "learning_rate"),
    "tolerance": ("stylize", "tolerance"),
    "original_colors": ("stylize", "original_colors"),
    "weights": ("stylize", "weights"),
    "pooling": ("stylize", "pooling"),
    "coarse_to_fine": ("stylize", "coarse_to_fine"),
    "passes": ("schedule", "passes"),
    "iterations_first": ("schedule", "iterations_first"),
    "iterations": ("schedule", "iterations"),
    "pass_iterations": ("schedule", "pass_iterations"),
    "init_first": ("schedule", "init_first"),
    "init": ("schedule", "init"),
    "blend_weight": ("schedule", "blend_weight"),
    "temporal_from_pass": ("schedule", "temporal_from_pass"),
    "seed": ("schedule", "seed"),
    "flow_method": ("flow", "method"),
    "long_term": ("flow", "long_term"),
    "check": ("flow", "check"),
}


def _stylize_options(func):
    """Options shared by ``render`` and ``image``: the loss, the network and the optimiser."""
    options = [
        click.option("--style", "styles", multiple=True, required=True, type=_PATH_IN, help="Style image; repeat for several."),
        click.option("--style-blend-weights", callback=_floats, default=None, help="Comma-separated weight per style (default: equal)."),
        click.option("--style-scale", type=click.FloatRange(min=0, min_open=True), default=_S["style_scale"], help="Style image resized to the frame's area times scale²."),
        click.option("--content-weight", type=float, default=_S["content_weight"], help="Weight of the content loss."),
        click.option("--style-weight", type=float, default=_S["style_weight"], help="Weight of the style loss."),
        click.option("--tv-weight", type=float, default=_S["tv_weight"], help="Weight of the total-variation loss."),
        click.option("--content-layers", callback=_layers, default=",".join(_S["content_layers"]), help="Content layers."),
        click.option("--style-layers", callback=_layers, default=",".join(_S["style_layers"]), help="Style layers."),
        click.option("--optimizer", type=click.Choice(["lbfgs", "adam"]), default=_S["optimizer"], help="Optimiser."),
        click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=_S["learning_rate"], help="Step size (L-BFGS step or Adam learning rate)."),
        click.option("--tolerance", type=click.FloatRange(min=0), default=_S["tolerance"], help="Stop a frame when the loss changes less than this (relative) over the window; 0 = never."),
        click.option("--original-colors/--no-original-colors", default=_S["original_colors"], help="Keep the content's colours (luminance-only transfer)."),
        click.option("--weights", default=_S["weights"], help="VGG19 weights: original (Caffe, bundled), torchvision, or a file."),
        click.option("--pooling", type=click.Choice(["max", "avg"]), default=_S["pooling"], help="VGG pooling."),
        click.option("--coarse-to-fine", type=click.IntRange(min=1), default=_S["coarse_to_fine"], help="Number of scales solved coarse to fine for frames started from noise or the content (1 = full size only)."),
        click.option("--seed", type=int, default=_P["seed"], help="Seed of the random initialisation."),
        click.option("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps."),
        click.option("--size", type=click.IntRange(min=16), default=None, help="Long side of the frames in pixels (default: native)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bars or logs."),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON summary to stdout."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _overrides(ctx: click.Context, params: dict) -> dict[str, dict]:
    """Values the user gave explicitly, by config section (presets fill in the rest)."""
    from click.core import ParameterSource

    out: dict[str, dict] = {"stylize": {}, "schedule": {}, "flow": {}}
    for name, (section, field) in _RENDER_FIELDS.items():
        if name not in params or params[name] is None:
            continue
        if ctx.get_parameter_source(name) in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
            continue
        out[section][field] = params[name]
    return out


@click.command("render", context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.argument("clip", type=_PATH_IN)
@_stylize_options
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="Output .mp4 (H.264, the clip's fps and audio) or a folder/ for PNG frames. Default: <clip>-<style>.mp4.")
@click.option("--quality", type=click.Choice([q.value for q in Quality]), default=Quality.BALANCED.value, help="Preset of iteration budgets; explicit options override it.")
@click.option("--passes", type=click.IntRange(min=1), default=_P["passes"], help="Passes; 2+ adds Ruder's bidirectional blending.")
@click.option("--iterations-first", type=click.IntRange(min=1), default=_P["iterations_first"], help="Iteration cap for the first frame (balanced preset).")
@click.option("--iterations", type=click.IntRange(min=1), default=_P["iterations"], help="Iteration cap for later frames of pass 1 (balanced preset).")
@click.option("--pass-iterations", type=click.IntRange(min=1), default=_P["pass_iterations"], help="Iteration cap per frame in passes 2+ (balanced preset).")
@click.option("--temporal-weight", type=click.FloatRange(min=0), default=_S["temporal_weight"], help="Weight of the temporal loss (0 = independent frames).")
@click.option("--blend-weight", type=click.FloatRange(min=0), default=_P["blend_weight"], help="δ of the multi-pass blend.")
@click.option("--temporal-from-pass", type=click.IntRange(min=1), default=_P["temporal_from_pass"], help="First pass using temporal loss and blending.")
@click.option("--init-first", type=click.Choice([Init.RANDOM.value, Init.CONTENT.value]), default=_P["init_first"].value, help="Initialisation of the first frame.")
@click.option("--init", type=click.Choice([i.value for i in Init]), default=_P["init"].value, help="Initialisation of later frames.")
@click.option("--long-term", "long_term", default=",".join(map(str, _F["long_term"])), callback=_offsets, help="Temporal offsets J (paper's long-term: 1,10,20,40).")
@click.option("--flow-method", type=click.Choice(["dis", "deepflow"]), default=_F["method"], help="Optical-flow estimator.")
@click.option("--check", type=click.Choice(list(FLOW_CHECKS)), default=_F["check"], help="Consistency check for the reliability masks.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Flow worker threads (default: all cores).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Flow cache root.")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where finished frames are kept for resuming (default: <output>.artvid-work).")
@click.option("--fresh", is_flag=True, help="Discard finished frames and start over.")
@click.pass_context
def render_command(ctx, clip, styles, output, quality, size, device, workers, cache_dir, work_dir, fresh, quiet, as_json, **params):
    """Stylize CLIP into a flicker-free painted video.

    Interrupted renders resume: run the same command again.

    Example: artvid render examples/sintel.mp4 --style examples/starry_night.jpg --passes 3
    """
    from artvid.config import build_config
    from artvid.rendering import RunOptions, TqdmProgress, default_output, render

    _setup_logging(quiet)
    config = build_config(quality, size=size, **_overrides(ctx, params))
    output = output or default_output(clip, styles[0])
    options = RunOptions(device=device, workers=workers, cache_dir=cache_dir, work_dir=work_dir, fresh=fresh,
                         progress=None if quiet else TqdmProgress())
    summary = render(clip, styles, output, config, options)
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    if not quiet:
        click.echo(
            f"artvid: wrote {summary.output} ({summary.frames} frames, {summary.passes} passes, "
            f"{summary.seconds:.0f} s)", err=True,
        )


@click.command("image", context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.argument("content", type=_PATH_IN)
@_stylize_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output image (.png, .jpg).")
@click.option("--iterations", type=click.IntRange(min=1), default=_P["iterations_first"], help="Iteration cap.")
@click.option("--init", type=click.Choice([Init.RANDOM.value, Init.CONTENT.value]), default=_P["init_first"].value, help="Initialisation.")
@click.pass_context
def image_command(ctx, content, styles, output, size, device, quiet, as_json, iterations, init, **params):
    """Stylize one image with the same engine.

    Example: artvid image photo.jpg --style examples/starry_night.jpg -o photo-starry.png
    """
    from artvid.still import stylize_image

    _setup_logging(quiet)
    overrides = _overrides(ctx, params)
    summary = stylize_image(
        content, styles, output, StylizeConfig(**overrides["stylize"]), iterations=iterations,
        init=Init(init), seed=params["seed"], size=size, device=device, progress=not quiet,
    )
    if as_json:
        click.echo(json.dumps(summary))
    elif not quiet:
        click.echo(f"artvid: wrote {output}", err=True)


