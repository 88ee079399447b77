"""artvid's public Python API: render a clip, stylize an image, compute flow, compare clips.

(``compare_clips`` rather than ``compare``: ``artvid.compare`` is the module that scores clips.)

The ``artvid`` command is built on exactly these functions. Settings are keyword arguments named
as the config fields (and the command-line options, with ``_`` for ``-``): ``style_weight=50``,
``passes=3``, ``long_term=(1, 10)``, ``flow_method="deepflow"``. Nothing here prints unless asked:
``progress=True`` shows bars on stderr, or pass your own :class:`artvid.rendering.Progress`.

Heavy modules (torch, the VGG encoder) are imported when a function runs, not when ``artvid`` is
imported.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from artvid.compare import CompareResult
    from artvid.config import RenderConfig
    from artvid.rendering import Progress, RenderSummary

PathLike = Union[str, "os.PathLike[str]"]


def _paths(value: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(value, (str, os.PathLike)):
        return [Path(value)]
    return [Path(v) for v in value]


def _progress(progress: bool | Progress | None, overall: bool = False) -> Progress | None:
    from artvid.rendering import OverallProgress, TqdmProgress

    if progress is True:
        return OverallProgress() if overall else TqdmProgress()
    return progress or None


def render(
    clip: PathLike,
    style: PathLike | Sequence[PathLike],
    output: PathLike | None = None,
    *,
    quality: str = "balanced",
    size: int | None = None,
    upscale: bool = False,
    config: RenderConfig | None = None,
    device: str = "auto",
    work_dir: PathLike | None = None,
    fresh: bool = False,
    cache_dir: PathLike | None = None,
    workers: int | None = None,
    progress: bool | Progress | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    ray_workers: int | None = None,
    gpus_per_worker: float = 1.0,
    **settings: Any,
) -> RenderSummary:
    """Render a stylized video (or numbered PNGs) from a clip; an interrupted render resumes.

    Args:
        clip: Video file or folder of images.
        style: One style image, or several (blended; see ``style_blend_weights``).
        output: ``.mp4``/``.m4v``/``.mov`` (H.264 with the clip's fps and audio) or a folder for
            PNGs; None = ``<clip>-<style>.mp4`` in the current folder.
        quality: Budget preset: ``draft``, ``balanced`` or ``paper``; settings override it.
        size: Long side of the frames in pixels (None = the clip's size).
        upscale: Allow ``size`` above the clip's own long side.
        config: A complete :class:`artvid.config.RenderConfig` instead of ``quality``, ``size``
            and settings.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        work_dir: Where finished frames are kept (None = beside the output).
        fresh: Discard the work directory's frames and start over.
        cache_dir: Flow cache root (None = ``$ARTVID_CACHE`` or ``~/.cache/artvid/flow``).
        workers: Flow worker threads (None = all cores).
        progress: True for progress bars on stderr (one bar over every frame and pass on Ray),
            or a :class:`artvid.rendering.Progress`.
        backend: ``local`` (this process) or ``ray`` (the plan's units on Ray workers; identical
            frames).
        ray_address: ``auto`` or ``host:port`` of a Ray cluster; None starts a local Ray.
        ray_workers: Stylizer workers on Ray (None = GPUs / ``gpus_per_worker``, else CPUs).
        gpus_per_worker: GPUs per Ray worker; a fraction shares a GPU.
        **settings: Config fields by name (``style_weight``, ``passes``, ``flow_method``, …).

    Returns:
        A :class:`artvid.rendering.RenderSummary`.

    Raises:
        ArtvidError: For unreadable inputs, invalid settings, unwritable outputs, or a work
            directory made with other settings.
    """
    from artvid.config import build_config, split_settings
    from artvid.errors import ConfigError
    from artvid.rendering import RunOptions, default_output
    from artvid.rendering import render as run_render

    styles = _paths(style)
    if config is None:
        config = build_config(quality, size=size, upscale=upscale, **split_settings(settings))
    elif settings or size is not None or upscale:
        raise ConfigError("give either config= or quality/size/settings, not both")
    output = Path(output) if output is not None else default_output(Path(clip), styles[0])
    options = RunOptions(
        device=device, workers=workers, cache_dir=Path(cache_dir) if cache_dir else None,
        work_dir=Path(work_dir) if work_dir else None, fresh=fresh,
        progress=_progress(progress, overall=backend == "ray"), backend=backend, ray_address=ray_address,
        ray_workers=ray_workers, gpus_per_worker=gpus_per_worker,
    )
    return run_render(Path(clip), styles, output, config, options)


def stylize_image(
    content: PathLike,
    style: PathLike | Sequence[PathLike],
    output: PathLike,
    *,
    size: int | None = None,
    device: str = "auto",
    progress: bool = False,
    **settings: Any,
) -> dict[str, Any]:
    """Stylize one image with the video engine's per-frame optimisation and write ``output``.

    Args:
        content: The image.
        style: One style image or several.
        output: Output image (``.png``, ``.jpg``).
        size: Long side in pixels (None = the image's size; never enlarged).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        progress: Show a progress bar on stderr.
        **settings: :class:`artvid.stylize.StylizeConfig` fields by name, and the still image's
            budget and start as a video's first frame has them: ``iterations`` (default: a render's
            ``iterations_first``), ``tolerance_first`` (default: a render's; None = ``tolerance``),
            ``init`` (``content`` or ``random``) and ``seed``.

    Returns:
        A JSON-friendly summary: output, size, iterations, seconds, losses, device.
    """
    from artvid.images import check_image_output
    from artvid.multipass import Init, ScheduleConfig
    from artvid.outputs import check_not_input
    from artvid.still import stylize_image as run_still
    from artvid.stylize import StylizeConfig

    first = ScheduleConfig()
    if "tolerance_first" in settings:  # checked, and named in an error, as a render's is
        first = ScheduleConfig(tolerance_first=settings.pop("tolerance_first"))
    iterations = settings.pop("iterations", first.iterations_first)
    init, seed = Init(settings.pop("init", first.init_first)), settings.pop("seed", first.seed)
    styles = _paths(style)
    # Refused before the optimisation, which may take minutes.
    check_image_output(output)
    check_not_input(Path(output), [Path(content), *styles])
    return run_still(
        Path(content), styles, Path(output), StylizeConfig(**settings), iterations=iterations,
        tolerance=first.tolerance_first, init=init, seed=seed, size=size, device=device, progress=progress,
    )


def compute_flow(
    clip: PathLike,
    *,
    size: int | None = None,
    cache_dir: PathLike | None = None,
    workers: int | None = None,
    export_dir: PathLike | None = None,
    cuts: str = "auto",
    scales: str | None = None,
    progress: bool = False,
    **settings: Any,
) -> dict[str, Any]:
    """Compute and cache forward/backward flow and reliability for every pair a render needs.

    Args:
        clip: Video file or folder of images.
        size: Long side in pixels (None = the clip's size); use the render's ``size``.
        cache_dir: Flow cache root (None = ``$ARTVID_CACHE`` or ``~/.cache/artvid/flow``).
        workers: Worker threads (None = all cores).
        export_dir: Also write Ruder-compatible ``.flo``/``.pgm`` files here.
        cuts: Shot cuts as for :func:`render` (``"auto"``, ``"0"``, ``"120,340"``): no flow is
            computed across a cut.
        scales: The render's ``scales`` (:mod:`artvid.rendering.scales`; None = the render's
            default): flow is computed at every scale's size.
        progress: Show a progress bar on stderr.
        **settings: :class:`artvid.flowcache.FlowConfig` fields (``method``, ``long_term``,
            ``check``, ``params``).

    Returns:
        A JSON-friendly summary: clip, frames, size, pairs, computed, cache, exported_files, seconds
        (of the final scale), and ``scales``: size, pairs, computed and cache of every scale.
    """
    from artvid.errors import ConfigError
    from artvid.flowcache import FlowCache, FlowConfig, default_cache_dir
    from artvid.multipass import ScheduleConfig
    from artvid.rendering.plan import make_plan
    from artvid.rendering.scales import scale_sides
    from artvid.rendering.space import missing_flow_bytes, warn_if_short
    from artvid.shots.cuts import resolve_cuts

    started = time.perf_counter()
    config = FlowConfig(**settings)
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    cache = FlowCache(root, Path(clip), size, config)
    if cache.info.frame_count < 2:
        raise ConfigError(f"flow needs a clip of at least 2 frames, got {cache.info.frame_count}")
    # The pairs a render with these offsets warps with (its plan is the one place that says so).
    schedule = ScheduleConfig(cuts=cuts, **({} if scales is None else {"scales": scales}))
    shot_cuts = resolve_cuts(Path(clip), schedule.cuts, cache.info.frame_count)
    pairs = list(make_plan(cache.info.frame_count, schedule, config.long_term, cuts=shot_cuts).flow_pairs)
    final = max(cache.info.height, cache.info.width)
    below = [FlowCache(root, Path(clip), side, config, cache.clip_hash) for side in scale_sides(schedule.scales, final)[:-1]]
    warn_if_short({root: sum(missing_flow_bytes(scale, pairs) for scale in [*below, cache])}, "flow computation",
                  "--cache-dir")
    scales_done = []
    for scale in [*below, cache]:
        scales_done.append({
            "size": [scale.info.height, scale.info.width], "pairs": len(pairs),
            "computed": scale.ensure(pairs, workers=workers, progress=progress), "cache": str(scale.dir),
        })
    exported = cache.export(Path(export_dir), pairs) if export_dir else 0
    return {
        "clip": str(clip), "frames": cache.info.frame_count, "size": [cache.info.height, cache.info.width],
        "cuts": [c + 1 for c in shot_cuts], "pairs": len(pairs), "computed": scales_done[-1]["computed"],
        "cache": str(cache.dir), "exported_files": exported, "scales": scales_done,
        "seconds": round(time.perf_counter() - started, 3),
    }


def compare_clips(
    content: PathLike,
    stylized: Sequence[PathLike] = (),
    *,
    report_dir: PathLike | None = None,
    side_by_side: bool = True,
    baselines: bool = False,
    quality: str = "balanced",
    progress: bool = False,
    **settings: Any,
) -> CompareResult:
    """Score stylized versions of ``content``: temporal consistency, style and content loss.

    Args:
        content: The content clip (CONTENT itself is scored as the reference floor).
        stylized: Stylized clips (videos or image folders) with CONTENT's frame count (or at
            least ``frames`` of them).
        report_dir: Write ``metrics.csv``, ``summary.json``, ``metrics.png`` and (with
            ``side_by_side``) ``side_by_side.mp4`` here.
        side_by_side: Include the labelled side-by-side video in the report.
        baselines: Also render the independent per-frame Gatys baseline and the single-pass result
            with the ``quality`` preset (needs ``style``) into ``report_dir/baselines`` and score them.
        quality: Budget preset of the baseline renders.
        progress: Show progress bars on stderr.
        **settings: :class:`artvid.compare.CompareConfig` fields (``style``, ``names``,
            ``gt_flow``, ``flow_method``, ``long_term``, ``size``, ``device``, …).

    Returns:
        A :class:`artvid.compare.CompareResult` (``artvid.report.format_table`` prints it).
    """
    from artvid.compare import CompareConfig, default_names, default_report_dir, run_compare
    from artvid.errors import ConfigError

    config = CompareConfig(**settings)
    stylized = [Path(p) for p in stylized]
    names = config.names
    if baselines:
        if config.style is None:
            raise ConfigError("--baselines needs --style (style= from Python)")
        folder = Path(report_dir or default_report_dir(content)) / "baselines"
        rendered = _render_baselines(Path(content), config, folder, quality, progress)
        names = tuple(rendered) + (names if names is not None else default_names(stylized))
        stylized = list(rendered.values()) + stylized
    if not stylized:
        raise ConfigError("nothing to compare: give STYLIZED clips or --baselines")
    from dataclasses import replace

    result = run_compare(Path(content), stylized, replace(config, names=names), progress=progress)
    if report_dir is not None:
        from artvid.report import write_report

        report_dir = Path(report_dir)
        try:
            report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create report folder {report_dir}: {exc.strerror or exc}") from None
        write_report(result, report_dir, side_by_side=side_by_side)
    return result


def _render_baselines(content: Path, config, folder: Path, quality: str, progress: bool) -> dict[str, Path]:
    """The classic ablation's first two rungs, rendered with the same budget preset."""
    import logging

    from artvid.errors import ArtvidError

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArtvidError(f"cannot create {folder}: {exc.strerror or exc}") from None
    runs = {
        "independent": {"init": "random", "init_first": "random", "temporal_weight": 0.0},
        "single-pass": {},
    }
    outputs = {}
    for name, settings in runs.items():
        logging.getLogger(__name__).info("rendering the %s baseline", name)
        outputs[name] = folder / f"{name}.mp4"
        render(
            content, config.style, outputs[name], quality=quality, size=config.size, device=config.device,
            cache_dir=config.cache_dir, workers=config.workers, progress=progress, **settings,
        )
    return outputs
