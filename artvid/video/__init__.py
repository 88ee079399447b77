"""Video and image-folder input, H.264 output: the first and last stage of a render.

Input is a video file (mp4, mov, mkv, avi, webm, ... anything FFmpeg demuxes) or a folder of
numbered images; both are read as a stream of *frames*, ``np.ndarray (H, W, 3) uint8`` RGB, never
the whole clip at once. Output is a browser-playable H.264/yuv420p mp4 at exactly the input's frame
rate (a variable-rate clip's frame times, :mod:`~artvid.video.timing`), with the input's audio
copied across, or a folder of numbered PNGs.

Rules the rest of artvid relies on:

- ``probe(path).frame_count`` is the number of frames ``iter_frames(path)`` yields. It comes from
  the container when the container's count agrees with a demux of the packets (cheap: no
  decoding); when the container lacks a count, the demuxed packet count is used; when the two
  disagree, the frames are decoded and counted, and fewer than the index lists (a truncated or
  damaged file) raises :class:`~artvid.errors.VideoReadError`: a render must not silently be
  shorter than its clip.
- ``iter_frames`` alone reads a damaged file up to its first undecodable packet and logs a
  warning. A file with no decodable frame at all raises :class:`~artvid.errors.VideoReadError`.
- Sizes: ``size`` is the long side in pixels; the aspect ratio is kept and each side is rounded to
  the nearest integer, at least 1 (see :func:`artvid.images.fit_long_side`). Sides may be odd.
- Every FFmpeg/OpenCV/Pillow failure surfaces as ``VideoReadError`` or ``VideoWriteError`` with a
  one-line message; no raw ``av`` exception escapes.

Modules: :mod:`~artvid.video.inputs` (paths, image folders, ``size``/``fps`` checks),
:mod:`~artvid.video.probe` (:class:`VideoInfo`), :mod:`~artvid.video.decode` (FFmpeg decoding),
:mod:`~artvid.video.interlace` (deinterlacing), :mod:`~artvid.video.hdr` (HDR to SDR),
:mod:`~artvid.video.reader` (:func:`iter_frames`),
:mod:`~artvid.video.writer` (:class:`VideoWriter`, :func:`write_frames`),
:mod:`~artvid.video.timing` (variable frame rates), :mod:`~artvid.video.audio` (audio copying),
:mod:`~artvid.video.hashing` (:func:`content_hash`), :mod:`~artvid.video.avio` (FFmpeg error
handling).
"""

from artvid.video.hashing import content_hash, hash_file
from artvid.video.inputs import DEFAULT_FOLDER_FPS, IMAGE_SUFFIXES
from artvid.video.probe import VideoInfo, probe
from artvid.video.reader import iter_frames
from artvid.video.timing import FrameTimes, frame_times
from artvid.video.writer import VIDEO_SUFFIXES, VideoWriter, write_frames

__all__ = [
    "DEFAULT_FOLDER_FPS",
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "FrameTimes",
    "VideoInfo",
    "VideoWriter",
    "content_hash",
    "frame_times",
    "hash_file",
    "iter_frames",
    "probe",
    "write_frames",
]
