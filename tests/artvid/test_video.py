"""Tests for artvid.video: probe, streamed decode, the H.264 writer, frame folders, content hash."""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from artvid.errors import ConfigError, VideoReadError, VideoWriteError
from artvid.images import save_image
from artvid.video import VideoInfo, VideoWriter, content_hash, iter_frames, probe, write_frames
from tests.helpers import textured_image, translating_clip, write_clip_with_audio

H, W = 32, 48


def smooth_frames(n: int, height: int = H, width: int = W) -> list[np.ndarray]:
    """Frames with little chroma detail, so 4:2:0 subsampling barely changes them."""
    return [cv2.GaussianBlur(textured_image(height, width, seed), (0, 0), 4.0) for seed in range(n)]


def write_video(path: Path, frames: list[np.ndarray], fps=10, **kwargs) -> Path:
    height, width = frames[0].shape[:2]
    with VideoWriter(path, fps, width, height, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def stream_summary(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        return {
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "frames": video.frames,
            "rate": video.average_rate,
            "size": (video.width, video.height),
            "audio": audio.codec_context.codec.canonical_name if audio else None,
            "audio_seconds": float(audio.duration * audio.time_base) if audio and audio.duration else None,
        }


# ------------------------------------------------------------------ round trip


@pytest.mark.parametrize("fps", [Fraction(30000, 1001), 10, Fraction(25, 2)])
def test_round_trip_keeps_count_fps_size_and_content(tmp_path, fps):
    frames = smooth_frames(6)
    out = write_video(tmp_path / "clip.mp4", frames, fps=fps)

    info = probe(out)
    assert info == VideoInfo(path=out, kind="video", width=W, height=H, source_width=W, source_height=H,
                             fps=Fraction(fps), frame_count=6, has_audio=False, duration=float(6 / Fraction(fps)))
    assert isinstance(info.fps, Fraction)
    back = list(iter_frames(out))
    assert len(back) == 6
    for original, decoded in zip(frames, back):
        assert decoded.shape == (H, W, 3) and decoded.dtype == np.uint8
        assert np.abs(original.astype(int) - decoded).mean() < 4

    summary = stream_summary(out)
    assert summary["codec"] == "h264" and summary["pix_fmt"] == "yuv420p"
    assert summary["frames"] == 6 and summary["rate"] == Fraction(fps)


def test_output_is_faststart_and_not_private(tmp_path):
    out = write_video(tmp_path / "clip.mp4", smooth_frames(3))
    data = out.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")  # index first: browsers start playing at once
    assert out.stat().st_mode & 0o044  # not mkstemp's 0600


def test_crf_zero_is_near_lossless_for_flat_colours(tmp_path):
    frames = [np.full((H, W, 3), colour, np.uint8) for colour in [(200, 30, 40), (10, 220, 90), (128, 128, 128)]]
    back = list(iter_frames(write_video(tmp_path / "flat.mp4", frames, crf=0)))
    for original, decoded in zip(frames, back):
        assert np.abs(original.astype(int) - decoded).max() <= 3  # 8-bit limited-range YUV rounding


def test_odd_size_is_padded_by_replicating_the_edge(tmp_path):
    frame = np.zeros((33, 47, 3), np.uint8)
    frame[:, :, 0] = np.linspace(0, 255, 47, dtype=np.uint8)[None, :]
    frame[-1, :, 1] = 200  # a distinct last row, so replication is visible below it
    out = write_video(tmp_path / "odd.mp4", [frame] * 3, crf=0)
    info = probe(out)
    assert (info.source_width, info.source_height) == (48, 34)
    decoded = next(iter_frames(out))
    assert np.abs(decoded[:33, :47].astype(int) - frame).mean() < 3
    assert np.abs(decoded[:33, 47].astype(int) - decoded[:33, 46]).max() <= 4  # right column copies the edge
    assert np.abs(decoded[33, :47].astype(int) - decoded[32, :47]).max() <= 4  # bottom row copies the edge


# ------------------------------------------------------------------ audio


@pytest.mark.parametrize(
    ("suffix", "codec", "expected"),
    [(".mp4", "aac", "aac"), (".mkv", "pcm_s16le", "aac"), (".mp4", "libmp3lame", "mp3")],
    ids=["aac-remux", "pcm-transcoded", "mp3-remux"],
)
def test_audio_is_copied(tmp_path, suffix, codec, expected):
    frames = translating_clip(10, H, W)
    source = tmp_path / f"src{suffix}"
    write_clip_with_audio(source, frames, fps=10, audio_codec=codec)
    assert probe(source).has_audio

    out = write_video(tmp_path / "out.mp4", list(iter_frames(source)), fps=probe(source).fps, audio_from=source)
    info = probe(out)
    assert info.has_audio and info.frame_count == 10 and info.fps == 10
    summary = stream_summary(out)
    assert summary["audio"] == expected
    assert summary["audio_seconds"] == pytest.approx(1.0, abs=0.1)


def test_audio_is_cut_at_the_end_of_the_video(tmp_path):
    source = tmp_path / "src.mp4"
    write_clip_with_audio(source, translating_clip(4, H, W), fps=10, audio_seconds=3.0)
    out = write_video(tmp_path / "out.mp4", smooth_frames(5), fps=10, audio_from=source)
    assert stream_summary(out)["audio_seconds"] == pytest.approx(0.5, abs=0.1)


def test_audio_from_a_silent_clip_gives_a_silent_output(tmp_path):
    source = write_video(tmp_path / "silent.mp4", smooth_frames(2))
    out = write_video(tmp_path / "out.mp4", smooth_frames(2), audio_from=source)
    assert not probe(out).has_audio


def test_audio_from_missing_file_raises(tmp_path):
    with pytest.raises(VideoReadError, match="audio source not found"):
        VideoWriter(tmp_path / "out.mp4", 10, W, H, audio_from=tmp_path / "nope.mp4")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ folders


def test_folder_is_read_in_natural_order_with_default_fps(tmp_path):
    frames = smooth_frames(3)
    for name, frame in zip(["f2.png", "f10.jpg", "f1.png"], [frames[1], frames[2], frames[0]]):
        save_image(tmp_path / name, frame)
    (tmp_path / "notes.txt").write_text("not a frame")
    # What macOS leaves on an exFAT drive: AppleDouble companions with the image's own suffix.
    (tmp_path / "._f1.png").write_bytes(b"\x00\x05\x16\x07" + bytes(60))
    (tmp_path / ".DS_Store").write_bytes(bytes(60))

    info = probe(tmp_path)
    assert (info.kind, info.frame_count, info.fps, info.has_audio) == ("folder", 3, Fraction(24), False)
    assert (info.width, info.height) == (W, H)
    back = list(iter_frames(tmp_path))
    assert np.array_equal(back[0], frames[0]) and np.array_equal(back[1], frames[1])
    assert np.abs(back[2].astype(int) - frames[2]).mean() < 3  # the JPEG one


def test_folder_fps_and_conversions(tmp_path):
    gray16 = (np.arange(H * W, dtype=np.uint16).reshape(H, W) * 20).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "000001.png"), gray16)
    rgba = np.zeros((H, W, 4), np.uint8)  # fully transparent -> white
    cv2.imwrite(str(tmp_path / "000002.png"), rgba)
    info = probe(tmp_path, fps=Fraction(12))
    assert info.fps == Fraction(12) and info.duration == pytest.approx(2 / 12)
    first, second = iter_frames(tmp_path)
    assert first.shape == (H, W, 3) and first.dtype == np.uint8
    assert np.array_equal(first[..., 0], first[..., 2])
    assert first[-1, -1, 0] == round(int(gray16[-1, -1]) / 257)
    assert (second == 255).all()


def test_folder_with_mixed_sizes_names_the_offending_file(tmp_path):
    save_image(tmp_path / "000001.png", textured_image(H, W))
    save_image(tmp_path / "000002.png", textured_image(H, W))
    save_image(tmp_path / "000003.png", textured_image(H + 2, W))
    with pytest.raises(VideoReadError, match=r"000003\.png has size 48x34, expected 48x32"):
        probe(tmp_path)
    frames = iter_frames(tmp_path)
    next(frames), next(frames)
    with pytest.raises(VideoReadError, match=r"000003\.png"):
        next(frames)


def test_empty_folder_and_bad_fps(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(VideoReadError, match="expected image files"):
        probe(tmp_path)
    with pytest.raises(VideoReadError, match="expected image files"):
        iter_frames(tmp_path)
    save_image(tmp_path / "1.png", textured_image(H, W))
    with pytest.raises(ConfigError, match="fps"):
        probe(tmp_path, fps=0)
    video = write_video(tmp_path / "v.mp4", smooth_frames(1))
    with pytest.raises(ConfigError, match="image folder"):
        probe(video, fps=25)


def test_unreadable_image_in_folder(tmp_path):
    save_image(tmp_path / "000001.png", textured_image(H, W))
    (tmp_path / "000002.png").write_bytes(b"not a png")
    with pytest.raises(VideoReadError, match="000002.png"):
        probe(tmp_path)


def test_folder_of_very_large_images(tmp_path, monkeypatch):
    write_frames(tmp_path, smooth_frames(2))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", H * W - 1)  # Pillow warns: read, logged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert probe(tmp_path).frame_count == 2 and len(list(iter_frames(tmp_path))) == 2
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow refuses
    with pytest.raises(VideoReadError, match=r"000001\.png: expected at most 200 pixels"):
        probe(tmp_path)
    with pytest.raises(VideoReadError, match=r"frame 0: .*000001\.png: expected at most 200 pixels"):
        next(iter_frames(tmp_path))


def test_write_frames_round_trip(tmp_path):
    frames = translating_clip(3, H, W)
    paths = write_frames(tmp_path, frames)
    assert [p.name for p in paths] == ["000001.png", "000002.png", "000003.png"]
    assert all(np.array_equal(a, b) for a, b in zip(frames, iter_frames(tmp_path)))
    assert write_frames(tmp_path, frames[:1], start_index=7)[0].name == "000007.png"
    with pytest.raises(VideoWriteError, match="does not exist"):
        write_frames(tmp_path / "missing", frames)
    with pytest.raises(ConfigError, match="start_index"):
        write_frames(tmp_path, frames, start_index=-1)


# ------------------------------------------------------------------ resizing and streaming


def test_resize_long_side(tmp_path):
    video = write_video(tmp_path / "v.mp4", smooth_frames(2))
    small = probe(video, size=24)
    assert (small.width, small.height, small.source_width, small.source_height) == (24, 16, W, H)
    assert all(f.shape == (16, 24, 3) for f in iter_frames(video, size=24))
    assert next(iter_frames(video, size=96, upscale=True)).shape == (64, 96, 3)  # enlarging works too
    (tmp_path / "f").mkdir()
    save_image(tmp_path / "f" / "1.png", textured_image(33, 47))
    info = probe(tmp_path / "f", size=20)
    assert (info.width, info.height) == (20, 14)  # 33 * 20 / 47 = 14.04, rounded, not made even
    assert next(iter_frames(tmp_path / "f", size=20)).shape == (14, 20, 3)
    with pytest.raises(ConfigError, match="size"):
        probe(video, size=0)
    with pytest.raises(ConfigError, match="size"):
        iter_frames(video, size=12.5)


@pytest.mark.parametrize("kind", ["video", "folder"])
def test_size_above_the_long_side_is_refused_unless_upscale(tmp_path, kind):
    if kind == "video":
        path = write_video(tmp_path / "v.mp4", smooth_frames(2))
    else:
        path = tmp_path / "f"
        path.mkdir()
        write_frames(path, smooth_frames(2))
    message = r"^--size 100000 is larger than the clip's long side \(48 px\); add --upscale to enlarge$"
    with pytest.raises(ConfigError, match=message):
        probe(path, size=100000)
    frames = iter_frames(path, size=100000)  # the size is known at the first frame
    with pytest.raises(ConfigError, match=message):
        next(frames)
    assert (probe(path, size=W).width, next(iter_frames(path, size=W)).shape) == (W, (H, W, 3))  # not larger
    info = probe(path, size=96, upscale=True)
    assert (info.width, info.height) == (96, 64)
    assert next(iter_frames(path, size=96, upscale=True)).shape == (64, 96, 3)
    with pytest.raises(ConfigError, match="expected upscale to be True or False, got 'yes'"):
        probe(path, size=96, upscale="yes")
    with pytest.raises(ConfigError, match="upscale"):
        iter_frames(path, upscale=1)


@pytest.mark.parametrize("kind", ["video", "folder"])
def test_start_stop_select_the_same_frames_as_a_full_read(tmp_path, kind):
    frames = translating_clip(8, H, W)
    path = write_video(tmp_path / "v.mp4", frames) if kind == "video" else (tmp_path / "f")
    if kind == "folder":
        path.mkdir()
        write_frames(path, frames)
    full = list(iter_frames(path))
    part = iter_frames(path, start=2, stop=5)
    assert not isinstance(part, list) and iter(part) is part  # streamed, not materialised
    part = list(part)
    assert len(part) == 3 and all(np.array_equal(a, b) for a, b in zip(part, full[2:5]))
    assert len(list(iter_frames(path, start=6, stop=100))) == 2
    assert list(iter_frames(path, start=3, stop=3)) == []
    with pytest.raises(ConfigError, match="start"):
        iter_frames(path, start=-1)
    with pytest.raises(ConfigError, match="stop"):
        iter_frames(path, start=4, stop=2)


# ------------------------------------------------------------------ read errors


def test_missing_garbage_empty_and_single_image(tmp_path):
    with pytest.raises(VideoReadError, match="not found"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(VideoReadError, match="not found"):
        iter_frames(tmp_path / "missing.mp4")
    garbage = tmp_path / "notes.mp4"
    garbage.write_text("this is a text file, not a video\n" * 20)
    with pytest.raises(VideoReadError, match=r"expected a video file .*got Invalid data"):
        probe(garbage)
    with pytest.raises(VideoReadError, match="expected a video file"):
        iter_frames(garbage)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoReadError, match="expected a video file"):
        probe(empty)
    image = save_image(tmp_path / "still.png", textured_image(H, W))
    with pytest.raises(VideoReadError, match="single image"):
        probe(image)


def test_zero_frame_video(tmp_path):
    path = tmp_path / "zero.mp4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        container.start_encoding()
    with pytest.raises(VideoReadError, match="expected a video stream .* got none"):
        probe(path)


def test_no_video_stream(tmp_path):
    path = tmp_path / "audio_only.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(VideoReadError, match=r"expected a video stream .*\(1 audio stream"):
        probe(path)
    with pytest.raises(VideoReadError, match="expected a video stream"):
        iter_frames(path)


def test_truncated_file_is_a_clear_error(tmp_path, caplog):
    data = write_video(tmp_path / "full.mp4", translating_clip(20, H, W)).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.8)])  # faststart: the index survives, the tail does not

    with pytest.raises(VideoReadError, match=r"truncated or damaged: expected the 20 frames .* got \d+ decodable"):
        probe(cut)
    # Streaming alone still reads what is there, with a warning.
    with caplog.at_level(logging.WARNING, logger="artvid.video"):
        frames = list(iter_frames(cut))
    assert 1 <= len(frames) < 20
    assert "truncated" in caplog.text

    cut.write_bytes(data[:1200])  # the index and no complete frame
    with pytest.raises(VideoReadError, match="decodable"):
        probe(cut)


def _write_millisecond_avi(path: Path, frames: list[np.ndarray], interval_ms: int) -> Path:
    # FFmpeg's AVI muxer at a 1/1000 time base (how it stores a variable-rate source) lists one
    # index entry per millisecond, empty between frames.
    from fractions import Fraction as F

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=1000)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuvj420p"
        stream.time_base = stream.codec_context.time_base = F(1, 1000)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i * interval_ms, F(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def test_an_avi_indexed_by_the_millisecond_has_its_frames_and_their_rate(tmp_path):
    frames = translating_clip(8, H, W)
    clip = _write_millisecond_avi(tmp_path / "ms.avi", frames, interval_ms=83)
    with av.open(str(clip)) as container:
        assert container.streams.video[0].frames > 7 * 83  # the index counts ticks, not frames
    info = probe(clip)
    assert info.frame_count == 8 == len(list(iter_frames(clip)))
    assert info.fps == Fraction(1000, 83)
    # Cut short, it is still refused as truncated: its frames end before its index does.
    cut = tmp_path / "cut.avi"
    cut.write_bytes(clip.read_bytes()[: int(clip.stat().st_size * 0.6)])
    with pytest.raises(VideoReadError, match=r"truncated or damaged: expected the \d+ frames"):
        probe(cut)


def test_truncated_matroska_counts_complete_packets(tmp_path):
    source = tmp_path / "full.mkv"
    write_clip_with_audio(source, translating_clip(20, H, W), audio_codec=None)
    data = source.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    info = probe(cut)
    assert 1 <= info.frame_count < 20
    assert len(list(iter_frames(cut))) == info.frame_count


# ------------------------------------------------------------------ write errors and atomicity


def test_writer_errors(tmp_path, monkeypatch):
    with pytest.raises(VideoWriteError, match="does not exist"):
        VideoWriter(tmp_path / "missing" / "out.mp4", 10, W, H)
    with pytest.raises(VideoWriteError, match="expected an output video"):
        VideoWriter(tmp_path / "out.avi", 10, W, H)
    with pytest.raises(ConfigError, match="fps"):
        VideoWriter(tmp_path / "out.mp4", 0, W, H)
    with pytest.raises(ConfigError, match="fps"):
        VideoWriter(tmp_path / "out.mp4", "fast", W, H)
    with pytest.raises(ConfigError, match="width"):
        VideoWriter(tmp_path / "out.mp4", 10, 0, H)
    with pytest.raises(ConfigError, match="crf"):
        VideoWriter(tmp_path / "out.mp4", 10, W, H, crf=60)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(VideoWriteError, match="Permission denied"):
        VideoWriter(tmp_path / "out.mp4", 10, W, H)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_unwritable_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(VideoWriteError, match="cannot write"):
            VideoWriter(folder / "out.mp4", 10, W, H)
    finally:
        folder.chmod(0o700)


def test_frame_checks_and_closed_writer(tmp_path):
    writer = VideoWriter(tmp_path / "out.mp4", 10, W, H)
    with pytest.raises(ValueError, match="expected a frame of 32x48"):
        writer.write(np.zeros((H + 1, W, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        writer.write(np.zeros((H, W, 3), np.float32))
    writer.write(smooth_frames(1)[0])
    assert writer.close() == tmp_path / "out.mp4"
    writer.close()  # twice is harmless
    with pytest.raises(VideoWriteError, match="closed"):
        writer.write(smooth_frames(1)[0])


def test_writes_are_atomic(tmp_path):
    final = tmp_path / "out.mp4"
    writer = VideoWriter(final, 10, W, H)
    writer.write(smooth_frames(1)[0])
    assert not final.exists()
    temps = list(tmp_path.iterdir())
    assert len(temps) == 1 and temps[0].name.startswith(".out.")  # hidden, same folder

    with pytest.raises(RuntimeError):
        with VideoWriter(final, 10, W, H) as crashing:
            crashing.write(smooth_frames(1)[0])
            raise RuntimeError("render crashed")
    writer.abort()
    assert list(tmp_path.iterdir()) == []

    with pytest.raises(VideoWriteError, match="at least one frame"):
        with VideoWriter(final, 10, W, H):
            pass
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ content hash


def test_content_hash(tmp_path):
    video = write_video(tmp_path / "a.mp4", smooth_frames(2))
    first = content_hash(video)
    assert len(first) == 64 and first == content_hash(video)
    copy = tmp_path / "b.mp4"
    copy.write_bytes(video.read_bytes())
    assert content_hash(copy) == first  # content, not path
    data = bytearray(video.read_bytes())
    data[-10] ^= 1
    copy.write_bytes(bytes(data))
    assert content_hash(copy) != first

    folder = tmp_path / "frames"
    folder.mkdir()
    write_frames(folder, translating_clip(2, H, W))
    folder_hash = content_hash(folder)
    (folder / "notes.txt").write_text("ignored")
    assert content_hash(folder) == folder_hash
    (folder / "000002.png").rename(folder / "000003.png")
    assert content_hash(folder) != folder_hash
    with pytest.raises(VideoReadError, match="not found"):
        content_hash(tmp_path / "missing.mp4")
