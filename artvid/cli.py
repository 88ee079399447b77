"""The ``artvid`` command: maps options to config objects and library errors to one clear line."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path

import click

from artvid import __version__
from artvid.errors import ArtvidError
from artvid.flowcache import FlowConfig
from flow import CHECKS as _FLOW_CHECKS

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


_FLOW = _defaults(FlowConfig)


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
@click.option("--method", type=click.Choice(["dis", "deepflow"]), default=_FLOW["method"], help="Optical-flow estimator.")
@click.option("--long-term", "long_term", default=",".join(map(str, _FLOW["long_term"])), callback=_offsets, help="Frame offsets J, comma-separated (paper: 1,10,20,40).")
@click.option("--check", type=click.Choice(list(_FLOW_CHECKS)), default=_FLOW["check"], help="Consistency check for the reliability masks.")
@click.option("--size", type=click.IntRange(min=16), default=None, help="Resize frames: long side in pixels (default: native).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Flow worker threads (default: all cores).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Flow cache root (default: $ARTVID_CACHE or ~/.cache/artvid/flow).")
@click.option("--export", "export_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Also write Ruder-compatible forward_i_j.flo / backward_j_i.flo / reliable_j_i.pgm here.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary to stdout.")
def flow_command(clip, method, long_term, check, size, workers, cache_dir, export_dir, quiet, as_json):
    """Compute and cache forward/backward flow and reliability for CLIP.

    A second run with the same settings reuses the cache and returns at once.

    Example: artvid flow examples/sintel.mp4 --long-term 1,10 --export flow_out/
    """
    import time

    from artvid.flowcache import FlowCache, default_cache_dir, pairs_for

    _setup_logging(quiet)
    started = time.perf_counter()
    config = FlowConfig(method=method, long_term=long_term, check=check)
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


# --------------------------------------------------------------------------- compare

from artvid.compare import CompareConfig  # noqa: E402  (numpy + OpenCV only; no torch)

_COMPARE = _defaults(CompareConfig)


@main.command("compare")
@click.argument("content", type=_PATH_IN)
@click.argument("stylized", nargs=-1, type=_PATH_IN)
@click.option("--style", type=_PATH_IN, default=None, help="Style image for the style loss (required with --baselines).")
@click.option("--names", default=None, help="Comma-separated display names, one per STYLIZED input.")
@click.option("--gt-flow", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None, help="Sintel-layout ground truth (flow/, occlusions/, invalid/) instead of estimated flow.")
@click.option("--flow-method", type=click.Choice(["deepflow", "dis"]), default=_COMPARE["flow_method"], help="Estimator for CONTENT's flow (differs from render's default on purpose).")
@click.option("--long-term", type=click.IntRange(min=2), default=_COMPARE["long_term"], help="Interval of the long-term metric.")
@click.option("--size", type=click.IntRange(min=16), default=None, help="Evaluation long side (default: CONTENT's, capped at 512).")
@click.option("-o", "--output", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Report folder (default: compare-<content>/).")
@click.option("--baselines", is_flag=True, help="Also render the independent per-frame Gatys baseline and the single-pass result (same budget) and compare them.")
@click.option("--quality", type=click.Choice(["draft", "balanced", "paper"]), default="balanced", help="Budget preset of the --baselines renders.")
@click.option("--no-side-by-side", is_flag=True, help="Skip the side-by-side video.")
@click.option("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Flow worker threads (default: all cores).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Flow cache root.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or logs.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON summary instead of the table.")
def compare_command(content, stylized, style, names, gt_flow, flow_method, long_term, size, report_dir, baselines,
                    quality, no_side_by_side, device, workers, cache_dir, quiet, as_json):
    """Score stylized versions of CONTENT: temporal consistency, style and content loss.

    Writes metrics.csv, summary.json, a plot and a side-by-side video to the report folder and
    prints a table (one row per input; CONTENT itself is the reference floor).

    Example: artvid compare examples/sintel.mp4 out.mp4 fast/ --style examples/starry_night.jpg
    """
    from artvid.compare import default_names, run_compare
    from artvid.errors import ConfigError
    from artvid.report import format_table, summary_json, write_report

    _setup_logging(quiet)
    report_dir = report_dir or Path(f"compare-{content.stem}")
    name_list = tuple(n.strip() for n in names.split(",")) if names else None
    stylized = list(stylized)
    if baselines:
        if style is None:
            raise ConfigError("--baselines needs --style")
        rendered = _render_baselines(content, style, report_dir / "baselines", quality, size, device, workers, cache_dir, quiet)
        stylized = list(rendered.values()) + stylized
        if name_list is not None:
            name_list = tuple(rendered) + name_list
        else:
            name_list = tuple(rendered) + default_names(stylized[len(rendered):])
    if not stylized:
        raise ConfigError("nothing to compare: give STYLIZED clips or --baselines")
    config = CompareConfig(
        names=name_list, style=style, gt_flow=gt_flow, flow_method=flow_method, long_term=long_term, size=size,
        device=device, cache_dir=cache_dir, workers=workers,
    )
    result = run_compare(content, stylized, config, progress=not quiet)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create report folder {report_dir}: {exc.strerror or exc}") from None
    write_report(result, report_dir, side_by_side=not no_side_by_side)
    click.echo(summary_json(result) if as_json else format_table(result))
    if not quiet:
        click.echo(f"artvid: report in {report_dir}", err=True)


def _render_baselines(content, style, folder, quality, size, device, workers, cache_dir, quiet) -> dict[str, Path]:
    """The classic ablation's first two rungs, rendered with the same budget preset."""
    from artvid.config import build_config
    from artvid.multipass import Init
    from artvid.rendering import RunOptions, TqdmProgress, render

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
        options = RunOptions(device=device, workers=workers, cache_dir=cache_dir, progress=None if quiet else TqdmProgress())
        if not quiet:
            click.echo(f"artvid: rendering the {name} baseline", err=True)
        render(content, [style], out, config, options)
        outputs[name] = out
    return outputs


if __name__ == "__main__":  # pragma: no cover
    main()
