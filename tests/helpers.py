"""Test helpers: synthetic clips with known motion and file snapshots, shared by all test modules."""

from __future__ import annotations

import numpy as np

import flow
from flow import FlowEstimator, FlowMethodError


def textured_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture, (H, W, 3) uint8 RGB, rich enough for optical flow."""
    rng = np.random.default_rng(seed)
    import cv2

    base = rng.uniform(0, 255, size=(height // 4 + 2, width // 4 + 2, 3)).astype(np.float32)
    img = cv2.resize(base, (width + 8, height + 8), interpolation=cv2.INTER_CUBIC)
    fine = rng.uniform(-30, 30, size=img.shape).astype(np.float32)
    img = cv2.GaussianBlur(img + fine, (0, 0), 1.0)
    return np.clip(img[4 : 4 + height, 4 : 4 + width], 0, 255).astype(np.uint8)


def translating_clip(n: int, height: int, width: int, dx: int = 2, dy: int = 1, seed: int = 0) -> list[np.ndarray]:
    """``n`` frames of a texture translating by integer ``(dx, dy)`` pixels per frame.

    Frame ``t`` shows the big canvas cropped at offset ``(t*dy, t*dx)``, so content moves by
    ``(-dx, -dy)`` on screen and ``frame[t](p) == frame[t-1](p + (dx, dy))`` away from borders:
    the exact flow from frame t to frame t-1 is ``(dx, dy)`` everywhere.
    """
    canvas = textured_image(height + n * abs(dy) + 2, width + n * abs(dx) + 2, seed)
    return [canvas[t * dy : t * dy + height, t * dx : t * dx + width].copy() for t in range(n)]


def write_clip_with_audio(
    path,
    frames: list[np.ndarray],
    fps=10,
    audio_codec: str | None = "aac",
    sample_rate: int = 16000,
    video_codec: str = "libx264",
    audio_seconds: float | None = None,
    times_ms: list[int] | None = None,
    tone_from: float = 0.0,
) -> None:
    """Write ``frames`` (H, W, 3) uint8 RGB (even sides) to a video file with a sine audio track.

    The container follows the suffix (``.mp4``, ``.mkv``, ``.mov``, ...). ``audio_codec`` is an
    FFmpeg encoder name (``"aac"``, ``"mp3"``/``"libmp3lame"``, ``"pcm_s16le"``, ``"libopus"``,
    ...) or ``None`` for no audio. The audio lasts ``audio_seconds`` (default: as long as the
    video) of a 440 Hz mono tone, silent until ``tone_from`` seconds. ``times_ms``: frame ``i`` is
    shown from ``times_ms[i]`` milliseconds (a variable frame rate or a late start; ``fps`` stays
    the stream's nominal rate) instead of ``i / fps``.
    """
    from fractions import Fraction

    import av

    fps = Fraction(fps)
    height, width = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        vstream = container.add_stream(video_codec, rate=fps)
        vstream.width, vstream.height = width, height
        vstream.pix_fmt = "yuv420p"
        time_base = 1 / fps
        if times_ms is not None:
            time_base = vstream.time_base = vstream.codec_context.time_base = Fraction(1, 1000)
        astream = None
        if audio_codec is not None:
            astream = container.add_stream(audio_codec, rate=sample_rate)
            astream.layout = "mono"
        for i, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = i if times_ms is None else times_ms[i]
            vf.time_base = time_base
            container.mux(vstream.encode(vf))
        container.mux(vstream.encode(None))
        if astream is not None:
            length = len(frames) / fps if times_ms is None else times_ms[-1] / 1000 + 1 / fps
            seconds = float(length) if audio_seconds is None else audio_seconds
            n = int(round(seconds * sample_rate))
            t = np.arange(n) / sample_rate
            tone = np.where(t >= tone_from, 0.3 * np.sin(2 * np.pi * 440 * t), 0.0).astype(np.float32)
            chunk = 1024
            for start in range(0, n, chunk):
                part = tone[start : start + chunk]
                af = av.AudioFrame.from_ndarray(part[None, :], format="flt", layout="mono")
                af.sample_rate = sample_rate
                af.pts = start
                af.time_base = Fraction(1, sample_rate)
                container.mux(astream.encode(af))
            container.mux(astream.encode(None))


def write_frame_folder(folder, frames: list[np.ndarray]) -> None:
    """Write ``frames`` as ``000.png, 001.png, …`` into ``folder`` (created), an image-folder clip."""
    from pathlib import Path

    import cv2

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.ascontiguousarray(frame[:, :, ::-1]))


def snapshot(folder) -> dict[str, bytes]:
    """Every file below ``folder`` as ``{relative posix path: bytes}``, to show that none changed."""
    from pathlib import Path

    folder = Path(folder)
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def render_pairs(frame_count: int, offsets) -> list[tuple[int, int]]:
    """The flow pairs a default render with temporal ``offsets`` needs, from its plan."""
    from artvid.multipass import ScheduleConfig
    from artvid.rendering.plan import make_plan

    return list(make_plan(frame_count, ScheduleConfig(), tuple(offsets)).flow_pairs)


class ConstantFlow(FlowEstimator):
    """A fake estimator on RGB frames: a constant flow ``(dx, 0)``, ``dx`` its one parameter."""

    name = "constant"
    input = "rgb"

    def __init__(self, result_shape=None):
        self.seen = []
        self.result_shape = result_shape

    @property
    def cache_token(self):
        return "constant/1"

    def resolve_params(self, params):
        unknown = sorted(set(params) - {"dx"})
        if unknown:
            raise FlowMethodError(f"unknown parameter(s) {', '.join(unknown)} for constant: expected dx")
        return {"dx": flow.estimator.typed_param("constant", "dx", params.get("dx", 1.0), float)}

    def estimate(self, a, b, params):
        self.seen.append(a.shape)
        shape = self.result_shape or (*a.shape[:2], 2)
        out = np.zeros(shape, np.float64)
        out[..., 0] = params["dx"]
        return out


class MemoryStore:
    """A frame store in a dict, for the executor: ``(pass_index, frame) -> (H, W, 3) float32``."""

    def __init__(self):
        self.frames = {}

    def has(self, p, i):
        return (p, i) in self.frames

    def load(self, p, i):
        return self.frames[(p, i)].copy()

    def save(self, p, i, image):
        self.frames[(p, i)] = np.asarray(image, dtype=np.float32).copy()


def real_footage(data, width: int = 256, height: int = 108) -> dict[str, list[np.ndarray]]:
    """Continuous real shots from the shared data, every frame resized to ``width x height`` RGB.

    ``data`` is the shared data folder. Returns ``{"mmflow": 50 frames (the Sintel cave chase at
    10 fps; examples/sintel.mp4 is its first 12), "alley": 4, "market": 4, "marple": 5}``: four
    scenes, each one continuous shot.
    """
    from pathlib import Path

    import cv2

    from artvid.images import load_image
    from artvid.video import iter_frames

    data = Path(data)

    def fit(frame):
        return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)

    def images(pattern, numbers):
        return [fit(load_image(data / pattern.format(i))) for i in numbers]

    return {
        "mmflow": [fit(f) for f in iter_frames(data / "video" / "mmflow_demo_sintel.mp4", size=max(width, height))],
        "alley": images("sintel/alley_1_clean/frame_{:04d}.png", range(1, 5)),
        "market": images("sintel/market_5_final/frame_{:04d}.png", range(1, 5)),
        "marple": images("ruder_marple8/marple8_{:02d}.ppm", range(1, 6)),
    }


def join_shots(segments) -> tuple[list[np.ndarray], tuple[int, ...]]:
    """Concatenate lists of frames into one clip; returns its frames and its true cuts (0-based)."""
    frames, cuts = [], []
    for segment in segments:
        if frames:
            cuts.append(len(frames))
        frames.extend(segment)
    return frames, tuple(cuts)


def interrupt_stylizer_at(monkeypatch, call: int):
    """Make the ``call``-th :meth:`artvid.stylize.Stylizer.stylize` call raise KeyboardInterrupt
    (as Ctrl-C would); returns a function that puts the real method back."""
    from artvid.stylize import Stylizer

    real, calls = Stylizer.stylize, {"n": 0}

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Stylizer, "stylize", interrupted)
    return lambda: monkeypatch.setattr(Stylizer, "stylize", real)


def tiny_draft_budget(monkeypatch) -> None:
    """Make the draft preset stop after 2 iterations on a shot's first frame and 1 on the others."""
    from artvid import config

    monkeypatch.setitem(config.PRESETS, config.Quality.DRAFT, {
        "schedule": {"iterations_first": 2, "iterations": 1, "pass_iterations": 1}, "stylize": {}})


def decoded_frames(path, fmt: str = "rgb24") -> list[np.ndarray]:
    """Every frame of ``path`` as FFmpeg decodes it, converted to ``fmt``: no artvid in between."""
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format=fmt) for frame in container.decode(video=0)]
