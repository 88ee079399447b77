"""One render, wired: probe → plan → work directory → flow → execute → assemble.

This is the only module that knows every stage. The stylizer sees tensors, the executor sees
callables, the flow package sees arrays.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from artvid import images, video
from artvid.config import RenderConfig, to_dict
from artvid.device import resolve_device
from artvid.errors import ConfigError, DamagedFrameError, WorkDirError
from artvid.flowcache import FlowCache, default_cache_dir
from artvid.levels import ShotLevels, content_loader
from artvid.rendering.assemble import check_output, default_work_dir, write_output
from artvid.outputs import check_not_input
from artvid.rendering.execute import Executed, Parts, execute
from artvid.rendering.parts import FrameStylizer, fresh_initializer, plan_warper
from artvid.rendering.plan import Ref, RenderPlan, make_plan
from artvid.rendering.progress import Progress, Silent
from artvid.rendering.scales import CoarseScale, scale_sides
from artvid.rendering.space import needed_bytes, warn_if_short
from artvid.shots.cuts import format_cuts, resolve_cuts
from artvid.video import VideoInfo
from artvid.workdir import WorkDir

logger = logging.getLogger(__name__)

WORK_FORMAT = 1
SCALES_DIR = "scales"
"""Where a multi-scale render keeps each scale's work directory, under its own."""
_HEAL_ATTEMPTS = 3
"""How often a render recomputes frames found damaged while it runs before giving up."""


@dataclass(frozen=True)
class RunOptions:
    """How a render runs, as opposed to what it computes (not part of the work-dir manifest).

    Attributes:
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        workers: Flow worker threads (None = all cores).
        cache_dir: Flow cache root (None = :func:`artvid.flowcache.default_cache_dir`).
        work_dir: Where finished frames are kept (None = beside the output).
        fresh: Discard the work directory's frames and start over.
        progress: Receives frame and iteration events (None = silent; the CLI passes a
            :class:`artvid.rendering.TqdmProgress`, or an :class:`artvid.rendering.OverallProgress`
            on Ray).
        backend: ``local`` runs the plan in this process; ``ray`` runs its units on Ray workers
            (:mod:`artvid.rendering.ray_backend`), with identical frames.
        ray_address: ``auto`` or ``host:port`` of a Ray cluster; None starts a local Ray (a
            connection this process already has is used as it is).
        ray_workers: Stylizer workers on Ray (None = GPUs / ``gpus_per_worker``, else CPUs).
        gpus_per_worker: GPUs per Ray worker; a fraction shares a GPU between workers.
    """

    device: str = "auto"
    workers: int | None = None
    cache_dir: Path | None = None
    work_dir: Path | None = None
    fresh: bool = False
    progress: Progress | None = None
    backend: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    ray_workers: int | None = None
    gpus_per_worker: float = 1.0

    def __post_init__(self) -> None:
        if self.backend not in ("local", "ray"):
            raise ConfigError(f"expected backend local or ray, got {self.backend!r}")
        if self.ray_workers is not None and self.ray_workers < 1:
            raise ConfigError(f"expected at least 1 Ray worker, got {self.ray_workers}")
        if not self.gpus_per_worker > 0:
            raise ConfigError(f"expected a positive number of GPUs per worker, got {self.gpus_per_worker}")


@dataclass
class RenderSummary:
    """What a render did, for ``--json`` and the closing log line."""

    output: str
    work_dir: str
    device: str
    frames: int
    passes: int
    size: list[int]
    seconds: float = 0.0
    iterations: int = 0
    frames_stylized: int = 0
    frames_resumed: int = 0
    losses: dict[str, float] = field(default_factory=dict)
    workers: dict[str, int] = field(default_factory=dict)
    """Frames each worker stylized (``local`` for a local render)."""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def plan_render(frame_count: int, config: RenderConfig, cuts: tuple[int, ...] = (), refine: bool = False) -> RenderPlan:
    """The plan of a render of ``frame_count`` frames with ``config`` and 0-based ``cuts`` (of a
    multi-scale render's scale above the first with ``refine``)."""
    return make_plan(
        frame_count, config.schedule, config.flow.long_term, config.stylize.temporal_weight > 0, cuts, refine
    )


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    video.hash_file(digest, path)
    return digest.hexdigest()


def render(
    clip: Path,
    styles: Sequence[Path],
    output: Path,
    config: RenderConfig,
    options: RunOptions = RunOptions(),
) -> RenderSummary:
    """Render a stylized video (or PNG frames) from a clip, resuming finished work.

    Args:
        clip: Video file or image folder.
        styles: One or more style images.
        output: ``.mp4``/``.m4v``/``.mov`` file (H.264, the clip's fps and audio) or a folder for
            numbered PNGs.
        config: What to compute.
        options: How to run it.

    Returns:
        A summary of the run.

    Raises:
        ArtvidError: For unreadable inputs, invalid settings, unwritable outputs, or a work
            directory made with other settings.
    """
    started = time.perf_counter()
    clip, output = Path(clip), Path(output)
    if not styles:
        raise ConfigError("at least one style image is needed")
    check_output(output, [clip, *styles])
    info = video.probe(clip, size=config.size, upscale=config.upscale)
    sides = scale_sides(config.schedule.scales, max(info.height, info.width))
    # Frames too small for the loss layers (or the coarse-to-fine levels) are refused before the
    # clip is read for cuts: the first scale is the smallest.
    from artvid.encoder import min_input_side
    from artvid.stylize import coarse_to_fine_sizes

    first = info if len(sides) == 1 else video.probe(clip, size=sides[0], upscale=config.upscale)
    coarse_to_fine_sizes(first.height, first.width, config.stylize.coarse_to_fine,
                         min_input_side((*config.stylize.content_layers, *config.stylize.style_layers)))
    # Read before cut detection, which reads the whole clip: a bad style image is refused at once.
    style_frames = [images.load_image(path) for path in styles]
    cuts = resolve_cuts(clip, config.schedule.cuts, info.frame_count)
    if cuts and config.schedule.cuts != "auto":  # detection reports what it found itself
        logger.info("%d shots: new shots start at frames %s", len(cuts) + 1, format_cuts(cuts))
    scales = [_Scale(side, config, info, cuts, clip, index > 0, first if index == 0 else None)
              for index, side in enumerate(sides)]
    # On Ray the workers resolve their device (this machine may have no GPU, its workers may).
    device = resolve_device(options.device) if options.backend == "local" else None

    clip_hash = video.content_hash(clip)
    manifest = {
        "format": WORK_FORMAT,
        "clip_sha256": clip_hash,
        "frame_size": [info.height, info.width],
        "styles_sha256": [_file_sha256(path) for path in styles],
        "config": _manifest_config(config),
        "cuts": list(cuts),
    }
    if config.stylize.content_levels != "none":
        # Stretched levels were measured frame by frame before they were measured per shot: a
        # work directory of that time holds other frames.
        manifest["levels"] = "per shot"
    if info.read_as:  # deinterlaced or HDR mapped: a work directory of the frames as once read holds others
        manifest["frames"] = info.read_as
    from artvid.stylize import Stylizer, check_memory

    # Refusals come before anything is written: loading the weights may fail on a bad --weights
    # file and the frame may not fit in memory (the last scale is the largest). (On Ray, the
    # workers load the weights and check their memory once the flow is computed: see ray_backend.)
    stylizer = None
    if device is not None:
        check_memory(info.height, info.width, config.stylize, device, max(s.plan.most_temporal_targets() for s in scales))
        stylizer = Stylizer(config.stylize, style_frames, device=device)
    work_path = options.work_dir or default_work_dir(output)
    check_not_input(work_path, [clip, *styles])
    if options.progress is not None:
        options.progress.render_started([(s.plan, s.info.width * s.info.height) for s in scales])
    with _ray_backend(options) as backend:
        if len(scales) == 1:
            with WorkDir(work_path, manifest, fresh=options.fresh) as work:
                done, device, iterations, losses, workers = _render_scale(
                    scales[0], work, _scale_cache(scales[0], clip, options, clip_hash), None, backend, clip, options,
                    style_frames, stylizer, device,
                )
                write_output(clip, output, info, work, scales[0].plan.final)
        else:
            done, device, iterations, losses, workers = _render_scales(
                scales, work_path, manifest, backend, clip, output, config, options, style_frames, stylizer,
                clip_hash, device,
            )
    return RenderSummary(
        output=str(output), work_dir=str(work_path), device=str(device), frames=info.frame_count,
        passes=scales[-1].plan.passes, size=[info.height, info.width],
        seconds=round(time.perf_counter() - started, 3), iterations=iterations,
        frames_stylized=done.stylized, frames_resumed=done.resumed, losses=losses, workers=workers,
    )


class _Scale:
    """One scale of a render: its size, its config (``size`` set to it) and its plan.

    ``probed``: the clip already probed at this scale's size, if it was (probing demuxes it all).
    """

    def __init__(self, side: int, config: RenderConfig, final: VideoInfo, cuts: tuple[int, ...], clip: Path,
                 refine: bool, probed: VideoInfo | None = None) -> None:
        self.side = side
        self.refine = refine
        self.config = dataclasses.replace(config, size=side) if side != max(final.height, final.width) else config
        if self.config is config:
            self.info = final
        else:
            self.info = probed or video.probe(clip, size=side, upscale=config.upscale)
        self.plan = plan_render(final.frame_count, self.config, cuts, refine)


def _render_scale(scale: _Scale, work: WorkDir, cache: FlowCache | None, coarse, backend, clip, options,
                  style_frames, stylizer, device, check_space: bool = True):
    """Run one scale's plan in ``work`` with its flow ``cache`` (:func:`_scale_cache`): (executed,
    device, iterations, losses, frames per worker).

    ``check_space``: warn first if what it writes does not fit (a multi-scale render checks every
    scale before the first one starts instead).
    """
    _heal(work, scale.plan)
    if check_space:
        warn_if_short(needed_bytes(scale.plan, work.path, cache, scale.info.width, scale.info.height))
    _extract_content(clip, scale.config, scale.info.frame_count, work)
    if backend is None:
        done, frame_stylizer = _execute(scale.config, options, scale.plan, stylizer, work, cache, device, coarse)
        return done, device, frame_stylizer.iterations, frame_stylizer.losses, {"local": done.stylized}
    done, stats = _execute_on_ray(backend, scale.config, options, scale.plan, style_frames, work, cache,
                                  scale.info, coarse)
    return done, stats.device, stats.iterations, stats.losses, stats.workers


def _render_scales(scales, work_path, manifest, backend, clip, output, config, options, style_frames, stylizer,
                   clip_hash, device):
    """A multi-scale render: every scale in its own work directory under ``work_path/scales``,
    named by its long side and a digest of everything its frames depend on (the scales below
    included), so a changed setting starts a new one and raising the final size reuses the rest."""
    root_manifest = {key: manifest[key] for key in ("format", "clip_sha256", "styles_sha256")}
    root_manifest["scales"] = "each in scales/"
    done, iterations, losses, workers = Executed(), 0, {}, {}
    with WorkDir(work_path, root_manifest, fresh=options.fresh) as root, contextlib.ExitStack() as scale_dirs:
        if options.fresh:
            _remove_scale_dirs(root.path / SCALES_DIR)
        below: tuple[WorkDir, _Scale] | None = None
        dirs = _scale_dirs(scales, manifest, config, root.path)
        caches = [_scale_cache(scale, clip, options, clip_hash) for scale in scales]
        _warn_if_scales_short(scales, dirs, caches, root.path)
        for number, (scale, (path, scale_manifest), cache) in enumerate(zip(scales, dirs, caches), 1):
            logger.info("scale %d of %d: %d x %d px", number, len(scales), scale.info.width, scale.info.height)
            work = scale_dirs.enter_context(WorkDir(path, scale_manifest))
            coarse = None if below is None else CoarseScale(_final_frames(*below), (scale.info.height, scale.info.width))
            scale_done, device, its, losses, by_worker = _render_scale(
                scale, work, cache, coarse, backend, clip, options, style_frames, stylizer, device, check_space=False,
            )
            done.stylized += scale_done.stylized
            done.resumed += scale_done.resumed
            iterations += its
            for name, count in by_worker.items():
                workers[name] = workers.get(name, 0) + count
            below = (work, scale)
        work, scale = below
        write_output(clip, output, scale.info, work, scale.plan.final)
    return done, device, iterations, losses, workers


def _scale_dirs(scales, manifest, config, root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Each scale's work directory and manifest: the folder named by its long side and a digest
    of its manifest, which holds the digest of the scale below."""
    dirs, digest = [], None
    for scale in scales:
        scale_manifest = {
            **manifest, "frame_size": [scale.info.height, scale.info.width],
            "config": _scale_manifest_config(config, scale.refine), "below": digest,
        }
        digest = hashlib.sha256(json.dumps(scale_manifest, sort_keys=True).encode()).hexdigest()[:12]
        dirs.append((root / SCALES_DIR / f"{scale.side}px-{digest}", scale_manifest))
    return dirs


def _warn_if_scales_short(scales, dirs, caches, root: Path) -> None:
    """The disk-space warning for every scale at once, before the first starts: the last scale,
    which writes the most, may start hours into the render."""
    needed: dict[Path, int] = {}
    for scale, (path, _), cache in zip(scales, dirs, caches):
        for folder, size in needed_bytes(scale.plan, path, cache, scale.info.width, scale.info.height).items():
            # Reported as the render's work directory and the flow cache's root, not per scale.
            where = root if folder == path else folder.parent
            needed[where] = needed.get(where, 0) + size
    warn_if_short(needed)


def _final_frames(work: WorkDir, scale: _Scale):
    """Loads a finished scale's output frames (``uint8``) for the scale above."""

    def load(frame: int):
        ref = scale.plan.final[frame]
        try:
            return work.load_frame(ref.pass_index, ref.frame)
        except DamagedFrameError:
            # Removed on reading; the next run recomputes it (identically) before this scale.
            raise WorkDirError(
                f"frame {frame + 1} of the {scale.side}-px scale in {work.path} was damaged and is removed; "
                "run the same command again to recompute it"
            ) from None

    return load


def _remove_scale_dirs(folder: Path) -> None:
    """``--fresh``: remove the scales' work directories (only folders that are artvid's)."""
    import shutil

    from artvid.workdir import is_work_dir

    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.is_dir() and is_work_dir(child):
            shutil.rmtree(child)


@contextlib.contextmanager
def _ray_backend(options: RunOptions) -> Iterator[Any]:
    """The Ray backend for ``--backend ray`` (connected, closed afterwards), else None."""
    if options.backend != "ray":
        yield None
        return
    from artvid.rendering.ray_backend import RayBackend

    backend = RayBackend(options.ray_address, options.ray_workers, options.gpus_per_worker, options.device)
    try:
        yield backend
    finally:
        backend.close()


def _execute_on_ray(backend, config, options, plan, style_frames, work, cache, info, coarse=None):
    progress = options.progress or Silent()
    levels = _shot_levels(config, plan, work)
    progress.start(plan)
    tally = Executed()
    try:
        _healing(work, plan, lambda: backend.run(
            plan, work, cache, config.stylize, style_frames, config.schedule.seed, (info.height, info.width),
            progress, tally, coarse, levels,
        ))
    finally:
        progress.close()
    return _done(plan, tally), backend.stats


def _scale_cache(scale: _Scale, clip, options, clip_hash) -> FlowCache | None:
    """The flow cache a scale's plan reads (None when it warps nothing); made once per scale, as
    making one probes the clip."""
    if not scale.plan.flow_pairs:
        return None
    config = scale.config
    return FlowCache(
        options.cache_dir or default_cache_dir(), clip, config.size, config.flow, clip_hash, upscale=config.upscale
    )


def _healing(work: WorkDir, plan: RenderPlan, run) -> None:
    """Call ``run`` until no stored frame it read turned out damaged (at most a few times)."""
    for attempt in range(_HEAL_ATTEMPTS + 1):
        try:
            run()
        except DamagedFrameError as exc:
            # A stored frame was damaged while the render ran: recompute it and what read it.
            if attempt == _HEAL_ATTEMPTS or exc.pass_index < 1:
                raise
            logger.warning("%s; recomputing it and the frames that depend on it", exc)
            _discard(work, plan.dependents({Ref(exc.pass_index, exc.frame)}))
            continue
        break


def _execute(config, options, plan, stylizer, work, cache, device, coarse=None) -> tuple[Executed, FrameStylizer]:
    progress = options.progress or Silent()
    # What is stylized: the content frames, their levels stretched where asked (StylizeConfig.content_levels).
    content = content_loader(work.load_content, _shot_levels(config, plan, work))
    frame_stylizer = FrameStylizer(stylizer, content, plan, progress, device)
    flows = None if cache is None else cache.start(plan.flow_pairs, workers=options.workers)
    parts = Parts(
        stylize=frame_stylizer, warp=_no_flow if flows is None else plan_warper(flows, plan, content),
        fresh_init=fresh_initializer(content, config.schedule.seed), store=work, progress=progress,
        coarse=coarse,
    )
    try:
        progress.start(plan)
        tally = Executed()
        _healing(work, plan, lambda: execute(plan, parts, done=tally))
        if flows is not None:
            flows.close()
    finally:
        progress.close()
        if flows is not None:
            flows.cancel()
    return _done(plan, tally), frame_stylizer


def _shot_levels(config: RenderConfig, plan: RenderPlan, work: WorkDir) -> ShotLevels | None:
    """Each shot's levels map when the content's levels are stretched (``content_levels``), else None."""
    if config.stylize.content_levels == "none":
        return None
    return ShotLevels.measure(work.load_content, plan.shots)


def _done(plan: RenderPlan, tally: Executed) -> Executed:
    # Every step ran here or was found finished (a frame recomputed after damage counts once more).
    return Executed(tally.stylized, max(len(plan.steps) - tally.stylized, 0))


def _heal(work: WorkDir, plan: RenderPlan) -> None:
    """Remove damaged frames (they are recomputed) and every stored frame computed from one."""
    damaged = {Ref(p, f) for p in range(1, plan.passes + 1) for f in work.damaged(p, plan.frame_count)}
    work.damaged(0, plan.frame_count)  # content frames are extracted again, identically
    if damaged:
        logger.warning("%d damaged frame(s) in %s will be recomputed", len(damaged), work.path)
        _discard(work, plan.dependents(damaged))


def _discard(work: WorkDir, refs: set[Ref]) -> None:
    for ref in sorted(refs):
        work.discard(ref.pass_index, [ref.frame])


def _no_flow(image, i, j, chained=False):
    # make_plan derives the flow pairs from the steps' warps, so a plan without pairs never warps.
    raise RuntimeError(f"the plan has no flow pairs, yet a step warps frame {j + 1} onto {i + 1}")


def _manifest_config(config: RenderConfig) -> dict[str, Any]:
    # The number of passes does not change what a pass computes, so a render may be continued
    # with more passes and reuse every finished one. A one-scale render reads no scale setting.
    described = to_dict(config)
    for name in ("passes", "scales", "scale_iterations", "scale_iterations_first"):
        described["schedule"].pop(name)
    return described


def _scale_manifest_config(config: RenderConfig, refine: bool) -> dict[str, Any]:
    """What a multi-scale render's scale depends on besides its frame size and the scale below:
    a refining scale starts from the final pass of the scale below, so the passes count there."""
    described = to_dict(config)
    for name in ("size", "upscale"):
        described.pop(name)
    described["schedule"].pop("scales")
    if not refine:
        for name in ("passes", "scale_iterations", "scale_iterations_first"):
            described["schedule"].pop(name)
    return described


def _extract_content(clip: Path, config: RenderConfig, frame_count: int, work: WorkDir) -> None:
    missing = {i for i in range(frame_count) if not work.has_content(i)}
    if not missing:
        return
    first = min(missing)
    frames = video.iter_frames(clip, size=config.size, start=first, upscale=config.upscale)
    for index, frame in enumerate(frames, first):
        if index in missing:
            work.save_content(index, frame)
