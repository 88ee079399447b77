"""Assembling a render's output from the finished frames of its last pass: a video or PNG frames."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from artvid import video
from artvid.errors import VideoWriteError
from artvid.files import name_part
from artvid.outputs import check_frame_folder, check_not_input, write_frame_folder
from artvid.rendering.steps import Ref
from artvid.workdir import WorkDir

VIDEO_SUFFIXES = video.VIDEO_SUFFIXES


def default_output(clip: Path, style: Path) -> Path:
    """``<clip>-<style>.mp4`` in the current folder (each name cut to 100 bytes: :func:`artvid.files.name_part`)."""
    return Path(f"{name_part(Path(clip).stem)}-{name_part(Path(style).stem)}.mp4")


def is_frame_folder(output: Path) -> bool:
    """Whether ``output`` names a folder of numbered PNGs rather than a video file."""
    return output.is_dir() or str(output).endswith(("/", "\\")) or output.suffix == ""


def check_output(output: Path, inputs: Sequence[Path] = ()) -> None:
    """Refuse an output that could not or must not be written, before any work is done.

    Args:
        output: The video file or frame folder.
        inputs: The clip and style images: the output may neither be nor contain any of them.

    Raises:
        VideoWriteError: If the output's folder is missing, the suffix is unsupported, or the
            frame folder holds files artvid did not write.
        OutputIsInputError: If the output is, lies inside or contains an input.
    """
    output = Path(output)
    if not is_frame_folder(output) and output.suffix.lower() not in VIDEO_SUFFIXES:
        raise VideoWriteError(
            f"output {output} must end in {', '.join(VIDEO_SUFFIXES)} or name a folder for PNG frames"
        )
    if not output.parent.exists():
        raise VideoWriteError(f"output folder {output.parent} does not exist")
    check_not_input(output, inputs)
    if is_frame_folder(output):
        check_frame_folder(output)


def default_work_dir(output: Path) -> Path:
    """``<output>/.artvid-work`` for a frame folder, ``<output>.artvid-work`` beside a video."""
    if is_frame_folder(output):
        return output / ".artvid-work"
    return output.with_name(output.name + ".artvid-work")


def write_output(clip: Path, output: Path, info: video.VideoInfo, work: WorkDir, final: Sequence[Ref]) -> None:
    """Write each frame's final result as ``output``: H.264 with the clip's fps (or, for a variable
    frame rate, its frame times) and audio, or PNGs.

    Args:
        final: Per frame, the finished frame that is its output (:attr:`RenderPlan.final`).

    Stored frames are final (the stylizer already applied original colours when asked).
    """

    def frames() -> Iterator[np.ndarray]:
        for ref in final:
            yield work.load_frame(ref.pass_index, ref.frame)

    if is_frame_folder(output):
        write_frame_folder(output, frames())
        return
    audio = clip if info.kind == "video" and info.has_audio else None
    times = video.frame_times(clip, info.fps, info.frame_count) if info.kind == "video" else None
    with video.VideoWriter(output, info.fps, info.width, info.height, audio_from=audio, times=times) as writer:
        for frame in frames():
            writer.write(frame)
