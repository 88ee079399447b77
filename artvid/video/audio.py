"""Copying a clip's audio into the output video, interleaved with the frames as they arrive.

aac, mp3, alac and opus packets are remuxed untouched; other codecs (pcm, vorbis, ...) are
transcoded to AAC. :meth:`AudioCopy.mux_until` is called after each video frame, so the audio is
cut after the last video frame's end time. The output's first frame is shown at time 0, so the
audio is timed from the source's first video frame: where the video starts later than the audio
(camcorder MPEG-TS, clips cut from a longer recording), the audio before it is left out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av

from artvid.errors import VideoReadError, VideoWriteError
from artvid.video.avio import AV_ERRORS, av_reason, open_video

log = logging.getLogger(__name__)

__all__ = ["AudioCopy", "open_audio_copy"]

# Audio codecs the mp4 muxer stores as they are; anything else is transcoded to AAC.
_REMUX_AUDIO = frozenset({"aac", "mp3", "alac", "opus"})


def _standard_layout(stream) -> str:
    """A named channel layout for the AAC encoder, which rejects unnamed ones ("1 channels",
    as Matroska PCM tracks report)."""
    named = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
    layout = stream.layout
    if layout.name in named.values():
        return layout.name
    return named.get(stream.channels, "stereo")


def open_audio_copy(source: Path, container: av.container.OutputContainer, output: Path) -> AudioCopy | None:
    """Add ``source``'s main audio stream (its default one, else its first) to ``container``.

    Args:
        source: media file whose audio is copied.
        container: the output container, before its first packet is muxed.
        output: the output file, for error messages.

    Returns:
        An :class:`AudioCopy`, or ``None`` when ``source`` has no audio stream (a silent output).

    Raises:
        VideoReadError: ``source`` is missing or unreadable.
        VideoWriteError: FFmpeg cannot add the stream to ``container``.
    """
    if not source.exists():
        raise VideoReadError(f"audio source not found: {source}")
    audio_in = open_video(source)
    if not audio_in.streams.audio:
        log.info("%s has no audio stream; writing a silent video", source)
        audio_in.close()
        return None
    stream = _main_audio(audio_in)
    if len(audio_in.streams.audio) > 1:
        log.info("%s has %d audio streams; copying stream %d (%s)", source, len(audio_in.streams.audio),
                 stream.index, "its default" if stream.disposition & av.stream.Disposition.default else "the first")
    try:
        return AudioCopy(audio_in, container, source, output, start=_video_start(audio_in), stream=stream)
    except BaseException:
        audio_in.close()
        raise


def _main_audio(audio_in: av.container.InputContainer):
    """The audio stream a player starts with: the first one flagged default, else the first."""
    audio = audio_in.streams.audio
    return next((s for s in audio if s.disposition & av.stream.Disposition.default), audio[0])


def _video_start(audio_in: av.container.InputContainer) -> Fraction:
    """When the first video frame of ``audio_in`` is shown, in seconds of its timeline (0 without video)."""
    if not audio_in.streams.video:
        return Fraction(0)
    video = audio_in.streams.video[0]
    if video.start_time is None or video.time_base is None:
        return Fraction(0)
    return video.start_time * Fraction(video.time_base)


class AudioCopy:
    """The audio packets of one input, muxed into an output container up to a given time.

    Args:
        audio_in: the open input; :meth:`close` closes it.
        container: the output container.
        source: the input file, for messages.
        output: the output file, for messages.
        start: the time of the source (seconds) that becomes the output's 0: its first video
            frame's. Audio that starts before it is left out.
        stream: the audio stream to copy (default: the input's first).

    Raises:
        VideoWriteError: FFmpeg cannot add the stream to ``container``.
    """

    def __init__(self, audio_in: av.container.InputContainer, container: av.container.OutputContainer,
                 source: Path, output: Path, start: Fraction = Fraction(0), stream=None) -> None:
        self._audio_in = audio_in
        self._container = container
        self._start = Fraction(start)
        self._pending: av.Packet | None = None
        in_stream = audio_in.streams.audio[0] if stream is None else stream
        codec = in_stream.codec_context.codec.canonical_name  # "mp3", not the decoder's "mp3float"
        try:
            if codec in _REMUX_AUDIO:
                out_stream = container.add_stream_from_template(in_stream)
                self._packets: Iterator[av.Packet] | None = self._remux(in_stream, out_stream)
            else:
                out_stream = container.add_stream("aac", rate=in_stream.rate)
                out_stream.layout = _standard_layout(in_stream)
                self._packets = self._transcode(in_stream, out_stream)
        except AV_ERRORS as exc:
            raise VideoWriteError(f"cannot add the audio of {source} to {output}: {av_reason(exc)}") from None
        log.debug("audio from %s: %s (%s)", source, codec, "remux" if codec in _REMUX_AUDIO else "to aac")

    def _remux(self, in_stream, out_stream) -> Iterator[av.Packet]:
        shift = round(self._start / Fraction(in_stream.time_base)) if self._start else 0
        for packet in self._audio_in.demux(in_stream):
            if packet.dts is None:  # demuxer flush packet
                continue
            if shift:
                if packet.pts is None or packet.pts < shift:
                    continue  # before the first video frame
                packet.pts -= shift
                packet.dts -= shift
            packet.stream = out_stream
            yield packet

    def _transcode(self, in_stream, out_stream) -> Iterator[av.Packet]:
        samples = 0 if not self._start else None
        for packet in self._audio_in.demux(in_stream):
            for frame in packet.decode():
                if samples is None:  # the first frame at or after the first video frame sets the clock
                    if frame.pts is None or frame.time_base is None:
                        continue
                    offset = frame.pts * Fraction(frame.time_base) - self._start
                    if offset < 0:
                        continue
                    samples = round(offset * frame.sample_rate)
                # Timestamps counted in samples: continuous whatever the source's time base.
                frame.pts = samples
                frame.time_base = Fraction(1, frame.sample_rate)
                samples += frame.samples
                yield from out_stream.encode(frame)
        yield from out_stream.encode(None)

    def mux_until(self, end: float | None) -> None:
        """Mux audio packets starting before ``end`` seconds (all when ``None``)."""
        if self._packets is None:
            return
        while True:
            if self._pending is None:
                self._pending = next(self._packets, None)
                if self._pending is None:
                    self._packets = None
                    return
            packet = self._pending
            ts = packet.pts if packet.pts is not None else packet.dts
            if end is not None and ts is not None and float(ts * packet.time_base) >= end:
                return
            self._container.mux(packet)
            self._pending = None

    def close(self) -> None:
        """Close the input. Closing twice is harmless."""
        self._packets = None
        self._pending = None
        if self._audio_in is not None:
            self._audio_in.close()
            self._audio_in = None
