"""``artvid image``: one still image through the same engine as the video frames."""

from __future__ import annotations

from pathlib import Path

import click

from artvid.cli.fields import As, field_options, pass_settings
from artvid.cli.options import PATH_IN, apply, command, fresh_init_names, run_options, stylize_options
from artvid.cli.output import echo_json, note, setup_logging
from artvid.multipass import ScheduleConfig


@command("image")
@click.argument("content", type=PATH_IN)
@stylize_options
@run_options("device", "quiet", "as_json")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output image (.png, .jpg).")
# A still image is a video's first frame: its budget and start are the first frame's.
@apply(field_options(ScheduleConfig, "schedule", only=["iterations_first", "tolerance_first", "init_first"], tweaks={
    "iterations_first": As(name="--iterations", help="Iteration cap."),
    "tolerance_first": As(name="--tolerance-first", help="Stop when the loss changes less than this (relative) "
                          "over the window, as a shot's first frame does; 0 = run every iteration."),
    "init_first": As(name="--init", choices=fresh_init_names(), help="Initialisation."),
}))
@pass_settings()
def image_command(settings, content, styles, output, device, quiet, as_json):
    """Stylize one image with the same engine.

    Example: artvid image photo.jpg --style examples/starry_night.jpg -o photo-starry.png
    """
    import artvid

    setup_logging(quiet)
    schedule = settings["schedule"]
    summary = artvid.stylize_image(
        content, styles, output, iterations=schedule["iterations_first"],
        tolerance_first=schedule["tolerance_first"], init=schedule["init_first"],
        seed=schedule["seed"], size=settings["render"]["size"], device=device, progress=not quiet, **settings["stylize"],
    )
    if as_json:
        echo_json(summary)
    elif not quiet:
        note(f"wrote {output}")
