"""Display geometry: how the frames a phone stored sideways are turned upright, and how the
non-square pixels of anamorphic footage are made square.

A phone records with the sensor's orientation and stores how to show the frames in the file: the
mp4/mov track matrix (its ``rotate`` tag), which FFmpeg hands to the decoder as a *display matrix*
(``AV_FRAME_DATA_DISPLAYMATRIX``). Players apply it; so does :func:`artvid.video.iter_frames`, and
:func:`artvid.video.probe` reports the upright size. Only quarter turns, optionally mirrored, are
supported (phones write nothing else); FFmpeg's own ``ffmpeg -i IN OUT.mp4`` applies any other
angle when re-encoding.

Anamorphic footage (HDV's 1440x1080, DV and DVD's 720x480 or 720x576, DVCPRO HD) stores pixels
wider or narrower than they are shown: the stream's *sample aspect ratio*. Shown with square
pixels, its picture is squeezed. :func:`pixel_aspect` reads it and :func:`display_width` gives
the width it is shown at (FFmpeg's ``iw*sar``, the height kept); the reader resizes the frames to
it, before turning them upright.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from artvid.errors import VideoReadError

__all__ = ["UPRIGHT", "Orientation", "display_width", "frame_orientation", "pixel_aspect"]


@dataclass(frozen=True)
class Orientation:
    """How to turn a stored frame to show it upright.

    Attributes:
        quarter_turns: counter-clockwise quarter turns, 0-3, applied after the mirroring.
        mirrored: whether the stored frame is first flipped upside down.
    """

    quarter_turns: int = 0
    mirrored: bool = False

    def upright_size(self, width: int, height: int) -> tuple[int, int]:
        """``(width, height)`` of a stored ``width`` x ``height`` frame once turned upright."""
        return (height, width) if self.quarter_turns % 2 else (width, height)

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Turn a stored frame upright.

        Args:
            frame: ``(H, W, C)`` array as decoded.

        Returns:
            ``frame`` itself when nothing is to be done, else a contiguous turned copy.
        """
        if self == UPRIGHT:
            return frame
        turned = np.flipud(frame) if self.mirrored else frame
        return np.ascontiguousarray(np.rot90(turned, self.quarter_turns))


UPRIGHT = Orientation()


def frame_orientation(frame: av.VideoFrame, path: Path) -> Orientation:
    """The orientation a decoded frame's display matrix asks for.

    Args:
        frame: a decoded video frame.
        path: the clip, for the error message.

    Returns:
        :data:`UPRIGHT` when the frame carries no (or a degenerate) display matrix.

    Raises:
        VideoReadError: the matrix rotates by an angle that is not a multiple of 90 degrees.
    """
    side_data = frame.side_data.get(av.sidedata.sidedata.Type.DISPLAYMATRIX)
    if side_data is None:
        return UPRIGHT
    # Nine native int32 in 16.16 fixed point, row-major; only the 2x2 rotation/scale part matters.
    a, b, _, c, d = (int(v) for v in np.frombuffer(bytes(side_data), dtype=np.int32)[:5])
    scale_x, scale_y = math.hypot(a, c), math.hypot(b, d)
    if not scale_x or not scale_y:
        return UPRIGHT
    # As FFmpeg's av_display_rotation_get: the angle the matrix turns the frame counter-clockwise.
    degrees = -math.degrees(math.atan2(b / scale_y, a / scale_x))
    quarter_turns = round(degrees / 90)
    if abs(degrees - 90 * quarter_turns) > 1:
        raise VideoReadError(f"{path}: expected a display rotation by a multiple of 90 degrees, got {degrees:.1f}; "
                             f"re-encode it upright first (e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)")
    return Orientation(quarter_turns=quarter_turns % 4, mirrored=a * d - b * c < 0)


def pixel_aspect(stream: av.video.stream.VideoStream) -> Fraction:
    """A video stream's sample (pixel) aspect ratio, width over height; 1 when square or unknown."""
    sar = stream.sample_aspect_ratio
    if not sar or sar <= 0:
        return Fraction(1)
    return Fraction(sar.numerator, sar.denominator)


def display_width(width: int, aspect: Fraction) -> int:
    """The width a stored frame of ``width`` pixels of ``aspect`` is shown at (at least 1)."""
    return width if aspect == 1 else max(1, round(width * aspect))
