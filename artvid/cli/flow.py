"""``artvid flow``: fill the flow cache for a clip (torch is never imported)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from artvid.cli.fields import pass_settings
from artvid.cli.options import DIR_OUT, PATH_IN, command, flow_options, run_options
from artvid.cli.output import echo_json, note, setup_logging
from artvid.flowcache import FlowCache, FlowConfig, default_cache_dir, pairs_for


@command("flow")
@click.argument("clip", type=PATH_IN)
@flow_options(method="--method")
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
    setup_logging(quiet)
    started = time.perf_counter()
    config = FlowConfig(**settings["flow"])
    cache = FlowCache(cache_dir or default_cache_dir(), clip, size, config)
    pairs = pairs_for(cache.info.frame_count, config.long_term)
    computed = cache.ensure(pairs, workers=workers, progress=not quiet)
    exported = cache.export(export_dir, pairs) if export_dir else 0
    summary = {
        "clip": str(clip), "frames": cache.info.frame_count, "size": [cache.info.height, cache.info.width],
        "pairs": len(pairs), "computed": computed, "cache": str(cache.dir), "exported_files": exported,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if as_json:
        echo_json(summary)
    elif not quiet:
        note(f"{len(pairs)} pairs ({computed} computed) for {cache.info.frame_count} frames in {cache.dir}")
