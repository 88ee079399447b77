"""The ``artvid`` command: maps options to config objects and library errors to one clear line."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from pathlib import Path

import click

from artvid import __version__
from artvid.errors import ArtvidError
from artvid.flowcache import FlowConfig

logger = logging.getLogger("artvid")

_PATH_IN = click.Path(exists=True, path_type=Path)


def _defaults(cls) -> dict:
    """Field defaults of a config dataclass: the CLI shows these, and a test checks they agree."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def _offsets(ctx, param, value):
    if value is None:
        return None
    try:
        offsets = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated frame offsets like 1,10,20,40, got {value!r}") from None
    if not offsets or min(offsets) < 1:
        raise click.BadParameter(f"offsets must be positive integers, got {value!r}")
    return offsets


def _layers(ctx, param, value):
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _floats(ctx, param, value):
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {value!r}") from None


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO, format="artvid: %(message)s", stream=sys.stderr
    )


class _Group(click.Group):
    """Turns library errors into one line and exit code 1, Ctrl-C into a resume hint.

    ``render`` and ``image`` live in :mod:`artvid.cli_render` and are imported on demand: their
    option defaults come from the stylizer's config, which needs torch, and ``artvid flow`` on a
    full cache should answer in about a second without loading it.
    """

    _lazy = {"render": "render_command", "image": "image_command"}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx, name):
        if name in self._lazy:
            from artvid import cli_render

            return getattr(cli_render, self._lazy[name])
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ArtvidError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("\nartvid: interrupted; finished work is kept: run the same command again to resume", err=True)
            ctx.exit(130)
        except Exception as exc:  # the flow package's own errors and file-system errors
            import flow

            if isinstance(exc, (flow.FlowError, OSError)):
                raise click.ClickException(str(exc)) from None
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="artvid")
def main() -> None:
    """Artistic style transfer for videos (Ruder, Dosovitskiy and Brox): stable painted video."""


# --------------------------------------------------------------------------- flow


@main.command("flow")
@click.argument("clip", type=_PATH_IN)
@click.option("--method", type=click.Choice(["dis", "deepflow"]), default=FlowConfig.method, help="Optical-flow estimator.")
@click.option("--long-term", "long_term", default=",".join(map(str, FlowConfig.long_term)), callback=_offsets, help="Frame offsets J, comma-separated (paper: 1,10,20,40).")
@click.option("--size", type=click.IntRange(min=16), default=None, help="Resize frames: long side in pixels (default: native).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Flow cache root (default: $ARTVID_CACHE or ~/.cache/artvid/flow).")
@click.option("--export", "export_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Also write Ruder-compatible forward_i_j.flo / backward_j_i.flo / reliable_j_i.pgm here.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary to stdout.")
def flow_command(clip, method, long_term, size, workers, cache_dir, export_dir, quiet, as_json):
    """Compute and cache forward/backward flow and reliability for CLIP.

    A second run with the same settings reuses the cache and returns at once.

    Example: artvid flow examples/sintel.mp4 --long-term 1,10 --export flow_out/
    """
    import time

    from artvid.flowcache import FlowCache, default_cache_dir, pairs_for

    _setup_logging(quiet)
    started = time.perf_counter()
    config = FlowConfig(method=method, long_term=long_term)
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
        click.echo(json.dumps(summary))
    elif not quiet:
        click.echo(
            f"artvid: {len(pairs)} pairs ({computed} computed) for {cache.info.frame_count} frames in {cache.dir}",
            err=True,
        )


if __name__ == "__main__":  # pragma: no cover
    main()
