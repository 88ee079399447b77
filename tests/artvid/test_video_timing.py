"""Frame times: a variable-rate clip's uneven frame times reach its output, a constant rate stays
one, and the audio is timed from the first video frame."""

from __future__ import annotations

import json
import logging
from fractions import Fraction

import av
import numpy as np
import pytest
from click.testing import CliRunner

from artvid import cli
from artvid.errors import ConfigError, VideoWriteError
from artvid.video import FrameTimes, VideoWriter, frame_times, iter_frames, probe
from tests.helpers import tiny_draft_budget, translating_clip, write_clip_with_audio

H, W = 32, 48
VFR_MS = [0, 100, 150, 300, 400, 433, 500, 700]
"""A phone-like clip: nominally 10 fps, with frames bunched (150, 433) and missing (600)."""


def vfr_clip(path, audio_codec=None, times_ms=VFR_MS):
    write_clip_with_audio(path, translating_clip(len(times_ms), H, W), fps=10, audio_codec=audio_codec,
                          times_ms=times_ms)
    return path


def shown_at(path) -> list[Fraction]:
    """Each decoded frame's presentation time in seconds from the first."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [frame.pts for frame in container.decode(stream)]
        return [(p - pts[0]) * stream.time_base for p in pts]


def audio_seconds(path) -> float:
    """When the audio stops (Matroska keeps no stream duration)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return float(max(p.pts + p.duration for p in container.demux(stream) if p.pts is not None) * stream.time_base)


def test_a_variable_rate_clip_gives_the_time_of_every_frame(tmp_path):
    source = vfr_clip(tmp_path / "phone.mp4")
    info = probe(source)
    times = frame_times(source, info.fps, info.frame_count)
    assert times is not None
    assert times.starts == tuple(Fraction(ms, 1000) for ms in VFR_MS)
    assert times.end == pytest.approx(0.8, abs=1e-3)  # the last frame lasts its packet's duration
    assert times.until(3) == Fraction(3, 10) and times.until(len(VFR_MS)) == times.end


def test_the_output_shows_each_frame_at_its_source_time_with_the_audio_in_step(tmp_path):
    source = vfr_clip(tmp_path / "phone.mp4", audio_codec="aac")
    info = probe(source)
    times = frame_times(source, info.fps, info.frame_count)
    frames = list(iter_frames(source))
    out = tmp_path / "out.mp4"
    with VideoWriter(out, info.fps, W, H, audio_from=source, times=times) as writer:
        for frame in frames:
            writer.write(frame)
    assert shown_at(out) == list(times.starts)
    assert probe(out).frame_count == len(VFR_MS)
    assert audio_seconds(out) == pytest.approx(0.8, abs=0.07)  # the source's audio, cut at the last frame's end


@pytest.mark.parametrize("fps", [10, 25, Fraction(30000, 1001)])
@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])  # Matroska rounds timestamps to milliseconds
def test_a_constant_rate_clip_has_no_frame_times(tmp_path, fps, suffix):
    source = tmp_path / f"cfr{suffix}"
    write_clip_with_audio(source, translating_clip(12, H, W), fps=fps, audio_codec=None)
    info = probe(source)
    assert info.fps == fps
    assert frame_times(source, info.fps, info.frame_count) is None


def test_jitter_under_a_quarter_frame_is_a_constant_rate(tmp_path):
    source = vfr_clip(tmp_path / "jitter.mp4", times_ms=[0, 102, 199, 301, 400, 498, 603, 700])
    info = probe(source)
    assert frame_times(source, info.fps, info.frame_count) is None


def test_timestamps_that_are_not_one_per_frame_are_not_trusted(tmp_path):
    source = vfr_clip(tmp_path / "phone.mp4")
    info = probe(source)
    assert frame_times(source, info.fps, info.frame_count + 1) is None


def test_frame_times_must_start_at_zero_and_increase():
    tenth = Fraction(1, 10)
    with pytest.raises(ValueError, match="starting at 0"):
        FrameTimes((tenth, 2 * tenth), Fraction(1))
    with pytest.raises(ValueError, match="strictly increasing"):
        FrameTimes((Fraction(0), tenth, tenth), Fraction(1))
    with pytest.raises(ValueError, match="strictly increasing"):
        FrameTimes((Fraction(0), tenth), tenth)


def test_the_writer_refuses_frames_beyond_its_times_and_leaves_nothing(tmp_path):
    frames = translating_clip(3, H, W)
    times = FrameTimes((Fraction(0), Fraction(1, 10)), Fraction(3, 10))
    with pytest.raises(VideoWriteError, match="cover 2 frames"):
        with VideoWriter(tmp_path / "out.mp4", 10, W, H, times=times) as writer:
            for frame in frames:
                writer.write(frame)
    with pytest.raises(ConfigError, match="apart"):
        VideoWriter(tmp_path / "out.mp4", 10, W, H, times=FrameTimes((Fraction(0), Fraction(1, 10**6)), Fraction(1)))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".m4v", ".mov"])
def test_every_suffix_the_render_accepts_is_written(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    with VideoWriter(out, Fraction(30000, 1001), W, H) as writer:
        for frame in translating_clip(5, H, W):
            writer.write(frame)
    info = probe(out)
    assert info.frame_count == 5 and info.fps == Fraction(30000, 1001)


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
def test_a_render_of_a_variable_rate_clip_keeps_its_frame_times(tmp_path, style, monkeypatch, suffix, caplog):
    tiny_draft_budget(monkeypatch)
    caplog.set_level(logging.INFO, logger="artvid.video.timing")
    source = vfr_clip(tmp_path / "phone.mp4", audio_codec="aac")
    out = tmp_path / f"painted{suffix}"
    result = CliRunner().invoke(cli.main, [
        "render", str(source), "--style", str(style), "--quality", "draft", "--workers", "1", "--device", "cpu",
        "--cache-dir", str(tmp_path / "c"), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["frames"] == len(VFR_MS)
    assert "variable frame rate" in caplog.text
    assert shown_at(out) == [Fraction(ms, 1000) for ms in VFR_MS]
    assert audio_seconds(out) == pytest.approx(0.8, abs=0.07)


@pytest.mark.parametrize("suffix", [".mkv", ".avi"])  # .mkv was refused only once the render had run
def test_an_output_suffix_no_writer_takes_is_refused_before_any_work(tmp_path, clip, style, suffix):
    out = tmp_path / f"o{suffix}"
    result = CliRunner().invoke(cli.main, ["render", str(clip), "--style", str(style), "-o", str(out), "-q",
                                           "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert f"output {out} must end in .mp4, .m4v, .mov or name a folder" in result.output
    assert list(tmp_path.glob("o.*")) == []


def audio_start_and_loudness(path) -> tuple[float, float]:
    """When the output's audio starts (seconds) and its RMS over 0.07–0.17 s."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        first = min(p.pts for p in container.demux(stream) if p.pts is not None and p.duration)
        container.seek(0)
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
        # Read while the file is open: PyAV 18.1.1 refuses a closed container's stream attributes.
        rate, time_base = stream.rate, stream.time_base
    # Past the encoder's priming and the first packet's ramp-in.
    head = samples[int(0.07 * rate):int(0.17 * rate)]
    return float(first * time_base), float(np.sqrt(np.mean(head.astype(np.float64) ** 2)))


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", "aac"), (".mkv", "pcm_s16le")], ids=["remux", "transcode"])
def test_audio_is_timed_from_the_first_video_frame(tmp_path, suffix, codec):
    # The video starts 0.5 s into the recording; the audio is silent until then, a tone after.
    source = tmp_path / f"late{suffix}"
    write_clip_with_audio(source, translating_clip(8, H, W), fps=10, audio_codec=codec,
                          times_ms=[500 + 100 * i for i in range(8)], audio_seconds=1.3, tone_from=0.5)
    info = probe(source)
    assert frame_times(source, info.fps, info.frame_count) is None  # a constant rate, a late start
    out = tmp_path / "out.mp4"
    with VideoWriter(out, info.fps, W, H, audio_from=source) as writer:
        for frame in iter_frames(source):
            writer.write(frame)
    start, loudness = audio_start_and_loudness(out)
    assert start == pytest.approx(0.0, abs=0.07)
    assert loudness > 0.1  # the tone that plays with the first frame, not the silence before it
    assert audio_seconds(out) == pytest.approx(0.8, abs=0.07)


@pytest.mark.parametrize("default", [0, 1])
def test_of_several_audio_streams_the_default_one_is_copied_and_that_is_said(tmp_path, caplog, default):
    source = tmp_path / "two.mkv"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        tracks = [container.add_stream("pcm_s16le", rate=8000) for _ in range(2)]
        for index, track in enumerate(tracks):
            track.layout = "mono"
            track.disposition = av.stream.Disposition.default if index == default else av.stream.Disposition(0)
        for index, track in enumerate(tracks):  # the default track plays a tone, the other is silent
            level = 0.3 if index == default else 0.0
            tone = (level * 32767 * np.sin(np.arange(8000) / 8000 * 2 * np.pi * 440)).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(tone[None, :], format="s16", layout="mono")
            frame.sample_rate, frame.pts = 8000, 0
            container.mux(track.encode(frame))
            container.mux(track.encode(None))
        for index, image in enumerate(translating_clip(10, H, W)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
    caplog.set_level(logging.INFO, logger="artvid.video.audio")
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 10, W, H, audio_from=source) as writer:
        for frame in iter_frames(source):
            writer.write(frame)
    assert f"has 2 audio streams; copying stream {default + 1} (its default)" in caplog.text
    _, loudness = audio_start_and_loudness(out)
    assert loudness > 0.1
