"""Wires the stages together: video → frames → flow cache → per-frame optimiser → passes → video.

This is the only module that knows every stage. The stylizer sees tensors, the scheduler sees
callables, the flow package sees arrays.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import flow
from artvid import images, video
from artvid.config import RenderConfig, to_dict
from artvid.device import resolve_device
from artvid.errors import ConfigError, VideoWriteError
from artvid.flowcache import FlowCache, FlowJob, default_cache_dir, pairs_for
from artvid.multipass import Init, Temporal, run_passes, starts_from_scratch
from artvid.frames import image_tensor, mask_tensor, random_init
from artvid.workdir import WorkDir

logger = logging.getLogger(__name__)

WORK_FORMAT = 1
_BAR_EVERY = 10  # iterations between progress-bar updates (each reads the losses off the device)
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")


@dataclass(frozen=True)
class RunOptions:
    """How a render runs, as opposed to what it computes (not part of the work-dir manifest).

    Attributes:
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        workers: Flow worker threads (None = all cores).
        cache_dir: Flow cache root (None = :func:`default_cache_dir`).
        work_dir: Where finished frames are kept (None = beside the output).
        fresh: Discard the work directory's frames and start over.
        progress: Show progress bars on stderr.
        on_iteration: Called as ``on_iteration(pass_index, frame, iteration, losses)`` after
            every optimiser iteration (for benchmarks and programmatic progress; each call
            reads the losses back from the device).
    """

    device: str = "auto"
    workers: int | None = None
    cache_dir: Path | None = None
    work_dir: Path | None = None
    fresh: bool = False
    progress: bool = True
    on_iteration: Callable[[int, int, int, dict[str, float]], None] | None = None


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

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def default_output(clip: Path, style: Path) -> Path:
    """``<clip>-<style>.mp4`` in the current folder."""
    return Path(f"{Path(clip).stem}-{Path(style).stem}.mp4")


def _is_frame_folder(output: Path) -> bool:
    return output.is_dir() or str(output).endswith(("/", "\\")) or output.suffix == ""


def check_output(output: Path) -> None:
    """Refuse an output that could not be written, before any work is done.

    Raises:
        VideoWriteError: If the output's folder is missing or the suffix is unsupported.
    """
    output = Path(output)
    if _is_frame_folder(output):
        if not output.parent.exists():
            raise VideoWriteError(f"output folder {output.parent} does not exist")
        return
    if output.suffix.lower() not in VIDEO_SUFFIXES:
        raise VideoWriteError(
            f"output {output} must end in {', '.join(VIDEO_SUFFIXES)} or name a folder for PNG frames"
        )
    if not output.parent.exists():
        raise VideoWriteError(f"output folder {output.parent} does not exist")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    video.hash_file(digest, path)
    return digest.hexdigest()


def flow_pairs(frame_count: int, config: RenderConfig) -> list[tuple[int, int]]:
    """The frame pairs a render needs flow for (none for a single image or independent frames)."""
    schedule = config.schedule
    temporal = config.stylize.temporal_weight > 0
    warps_init = schedule.init is Init.PREV_WARPED
    if frame_count < 2 or not (temporal or warps_init or schedule.passes > 1):
        return []
    offsets = set(config.flow.long_term) if temporal else set()
    if warps_init or schedule.passes > 1:
        offsets.add(1)
    return pairs_for(frame_count, sorted(offsets))


class _Renderer:
    """The callables handed to the scheduler, with the state they share."""

    def __init__(self, config: RenderConfig, stylizer, work: WorkDir, flows: FlowJob | None, device, progress: bool,
                 on_iteration: Callable[[int, int, int, dict[str, float]], None] | None = None, frame_count: int = 0):
        self.config = config
        self.frame_count = frame_count
        self.stylizer = stylizer
        self.work = work
        self.flows = flows
        self.device = device
        self.progress = progress
        self.on_iteration = on_iteration
        self.iterations = 0
        self.stylized = 0
        self.resumed = 0
        self.losses: dict[str, float] = {}
        self._bar = None
        self._bar_pass = 0
        self._content_cache: tuple[int, Any] | None = None

    def content(self, frame: int):
        if self._content_cache is None or self._content_cache[0] != frame:
            self._content_cache = (frame, images.to_tensor(self.work.load_content(frame), self.device))
        return self._content_cache[1]

    def fresh_init(self, frame: int, kind: Init) -> np.ndarray:
        content = self.work.load_content(frame).astype(np.float32) / 255.0
        if kind is Init.CONTENT:
            return content
        return random_init(content.shape, self.config.schedule.seed, frame)

    def warp(self, image: np.ndarray, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        pair = self.flows.wait(i, j)
        return flow.warp(image, pair.flow, border="mean"), pair.reliability

    def stylize(self, frame: int, init: np.ndarray, temporal: Sequence[Temporal], iterations: int, pass_index: int) -> np.ndarray:
        from artvid.losses import long_term_weights
        from artvid.stylize import TemporalTarget

        weights = [t.reliability for t in temporal]
        if len(weights) > 1:
            # Ruder et al. 2016, Eq. 8: each longer-term target only counts where no closer one does.
            weights = [np.asarray(w, dtype=np.float32) for w in long_term_weights(weights)]
        targets = [
            TemporalTarget(
                warped=image_tensor(t.warped, self.device),
                weight=mask_tensor(w, self.device),
            )
            for t, w in zip(temporal, weights)
        ]
        self._ensure_bar(pass_index)
        start = time.perf_counter()

        def on_iteration(iteration: int, losses: dict[str, float]) -> None:
            if self.on_iteration is not None:
                self.on_iteration(pass_index, frame, iteration, losses)
            if self._bar is not None and (iteration + 1) % _BAR_EVERY == 0:
                rate = (iteration + 1) / max(time.perf_counter() - start, 1e-9)
                self._bar.set_postfix_str(_postfix(frame, iteration + 1, iterations, losses, rate), refresh=True)

        wants_callback = self._bar is not None or self.on_iteration is not None
        result = self.stylizer.stylize(
            self.content(frame), image_tensor(init, self.device), iterations=iterations,
            temporal=targets, callback=on_iteration if wants_callback else None,
            callback_every=1 if self.on_iteration is not None else _BAR_EVERY,
            coarse_to_fine=None if starts_from_scratch(self.config.schedule, pass_index, frame) else 1,
        )
        self.iterations += result.iterations
        self.stylized += 1
        self.losses = dict(result.losses)
        if self._bar is not None:
            rate = result.iterations / max(time.perf_counter() - start, 1e-9)
            self._bar.set_postfix_str(_postfix(frame, result.iterations, iterations, result.losses, rate), refresh=False)
        return images.to_frame(result.image).astype(np.float32) / 255.0

    def on_frame(self, pass_index: int, frame: int, skipped: bool) -> None:
        if skipped:
            self.resumed += 1
        self._ensure_bar(pass_index)
        if self._bar is not None:
            self._bar.update()

    def _ensure_bar(self, pass_index: int) -> None:
        from tqdm import tqdm

        if pass_index == self._bar_pass:
            return
        self.close_bar()
        self._bar_pass = pass_index
        if self.progress:
            total = self.config.schedule.passes
            self._bar = tqdm(
                total=self.frame_count, desc=f"pass {pass_index}/{total}", unit="frame", dynamic_ncols=True
            )

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _postfix(frame: int, iteration: int, cap: int, losses: dict[str, float], rate: float) -> str:
    terms = " ".join(f"{k}={v:.3g}" for k, v in losses.items() if k != "total")
    return f"frame {frame + 1} it {iteration}/{cap} {rate:.1f}it/s {terms}"


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
        output: ``.mp4``/``.mov``/``.mkv`` file (H.264, the clip's fps and audio) or a folder for
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
    check_output(output)
    info = video.probe(clip, size=config.size)
    pairs = flow_pairs(info.frame_count, config)
    style_frames = [images.load_image(path) for path in styles]
    device = resolve_device(options.device)

    clip_hash = video.content_hash(clip)
    manifest = {
        "format": WORK_FORMAT,
        "clip_sha256": clip_hash,
        "frame_size": [info.height, info.width],
        "styles_sha256": [_file_sha256(path) for path in styles],
        "config": _manifest_config(config),
    }
    from artvid.stylize import Stylizer, coarse_to_fine_sizes

    # Refusals come before anything is written: loading the weights may fail on a bad --weights
    # file, and the first frame (always started from scratch) may be too small for the levels.
    stylizer = Stylizer(config.stylize, style_frames, device=device)
    coarse_to_fine_sizes(info.height, info.width, config.stylize.coarse_to_fine)
    work_path = options.work_dir or _default_work_dir(output)
    work = WorkDir(work_path, manifest, fresh=options.fresh)
    _extract_content(clip, config.size, info.frame_count, work)
    flows = None
    if pairs:
        cache = FlowCache(options.cache_dir or default_cache_dir(), clip, config.size, config.flow, clip_hash)
        flows = cache.start(pairs, workers=options.workers)
    renderer = _Renderer(config, stylizer, work, flows, device, options.progress, options.on_iteration, info.frame_count)
    summary = RenderSummary(
        output=str(output), work_dir=str(work.path), device=str(device), frames=info.frame_count,
        passes=config.schedule.passes, size=[info.height, info.width],
    )
    try:
        run_passes(
            info.frame_count,
            config.schedule,
            config.flow.long_term,
            temporal_enabled=config.stylize.temporal_weight > 0,
            stylize=renderer.stylize,
            warp=renderer.warp,
            fresh_init=renderer.fresh_init,
            store=work,
            on_frame=renderer.on_frame,
        )
        if flows is not None:
            flows.close()
    finally:
        renderer.close_bar()
        if flows is not None:
            flows.cancel()
    _write_output(clip, output, info, work, config)
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.iterations = renderer.iterations
    summary.frames_stylized = renderer.stylized
    summary.frames_resumed = renderer.resumed
    summary.losses = renderer.losses
    return summary


def _manifest_config(config: RenderConfig) -> dict[str, Any]:
    # The number of passes does not change what a pass computes, so a render may be continued
    # with more passes and reuse every finished one.
    described = to_dict(config)
    described["schedule"].pop("passes")
    return described


def _default_work_dir(output: Path) -> Path:
    if _is_frame_folder(output):
        return output / ".artvid-work"
    return output.with_name(output.name + ".artvid-work")


def _extract_content(clip: Path, size: int | None, frame_count: int, work: WorkDir) -> None:
    missing = [i for i in range(frame_count) if not work.content_path(i).exists()]
    if not missing:
        return
    for index, frame in enumerate(video.iter_frames(clip, size=size, start=missing[0]), missing[0]):
        if not work.content_path(index).exists():
            work.save_content(index, frame)


def _write_output(clip: Path, output: Path, info, work: WorkDir, config: RenderConfig) -> None:
    # Stored frames are final (the stylizer already applied original colours when asked).
    last = config.schedule.passes

    def frames():
        for i in range(info.frame_count):
            yield images.load_image(work.frame_path(last, i))

    if _is_frame_folder(output):
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VideoWriteError(f"cannot create output folder {output}: {exc.strerror or exc}") from None
        video.write_frames(output, frames())
        return
    audio = clip if info.kind == "video" and info.has_audio else None
    with video.VideoWriter(output, info.fps, info.width, info.height, audio_from=audio) as writer:
        for frame in frames():
            writer.write(frame)
