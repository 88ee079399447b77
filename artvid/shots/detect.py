"""Hard-cut detection: which boundaries between consecutive frames change the shot.

:func:`detect_cuts` looks at each boundary between consecutive frames, at
:data:`WORK_SIZE` pixels on the long side, with three measures (:class:`Boundary`):

- ``colour``: Bhattacharyya distance of the two frames' HSV histograms (0 same, 1 disjoint);
- ``reliable``: the share of pixels whose DIS flow passes the forward-backward check of
  :func:`flow.reliability` (Ruder et al. 2016, Eq. 5-6): across a cut almost nothing does;
- ``residual``: median over pixels of the absolute RGB difference (0-255) between the frame and
  the previous frame warped onto it by that flow. Fast action leaves a large residual only where
  things move or appear, so the median stays low; across a cut most pixels have no match.

A boundary is a cut when little flow is reliable (``reliable <= RELIABLE_MAX``) and either the
colours change completely (``colour >= COLOUR_CUT``) or the residual is at least
``RESIDUAL_RATIO`` times the median residual of the neighbouring boundaries (see
:func:`neighbourhood_residual`). A boundary whose colours change completely is also a cut when its
flow looks reliable but its residual passes that relative test: flow to or from a flat frame
(a cut to black, to a title card's plain ground) is consistent both ways and matches nothing. The relative test finds cuts between shots of one scene and
palette, whose colour distance stays as low as in fast motion; comparing with the clip's own
neighbourhood keeps a fast sequence, whose every boundary has a large residual, free of cuts.

Thresholds, measured with ``python bench/shots_detect.py`` (1120 boundaries at 128 px) on real
footage joined into clips with known cuts: the Sintel cave chase of the shared data (50 frames at
10 fps, fast motion and a dragon's wing across the frame; also every second frame, a 5 fps version
with twice the motion), Sintel alley_1 and market_5 and marple8, as continuous shots and as
shuffled pieces (pieces of one scene at least 10 frames apart):

===================  ============  ============  ============  =====================
boundaries           colour        reliable      residual      residual / neighbours
===================  ============  ============  ============  =====================
cut, two scenes      0.62 .. 0.94  0.00 .. 0.18  13.5 .. 52.6  3.4 .. 26
cut, one scene       0.15 .. 0.32  0.00 .. 0.38  9.9 .. 13.9   2.6 .. 5.7
within a shot        0.03 .. 0.21  0.05 .. 0.99  1.3 .. 8.8    0.64 .. 1.60
same, 10 fps only    0.03 .. 0.14  0.21 .. 0.99  1.3 .. 5.8    0.64 .. 1.60
===================  ============  ============  ============  =====================

so ``COLOUR_CUT = 0.5`` and ``RESIDUAL_RATIO = 2`` sit in the gaps (every cut found, no false
one, also at 96, 192 and 256 px), and ``RELIABLE_MAX = 0.5`` only vetoes boundaries whose flow is
plainly fine, such as motion starting after a still passage. The mean residual separated worse
(cuts from 1.9, motion up to 1.5 times the neighbourhood).

Fades and dissolves are out of scope: they spread the change over many frames so that no single
boundary stands out; expect them to be missed, or reported as a cut at some frame inside. A flash
that changes all colours at once may be reported as a cut. Detection is deterministic: the same
frames give the same cuts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

import flow
from artvid.images import check_frame, resize_long_side

logger = logging.getLogger(__name__)

__all__ = [
    "COLOUR_CUT",
    "MIN_NEIGHBOURS",
    "MIN_SIDE",
    "RELIABLE_MAX",
    "RESIDUAL_FLOOR",
    "RESIDUAL_RATIO",
    "WINDOW",
    "WORK_SIZE",
    "Boundary",
    "boundaries",
    "cuts_from_boundaries",
    "detect_clip_cuts",
    "detect_cuts",
    "neighbourhood_residual",
]

# Long side of the frames detection works on. The separations in the module docstring were
# measured at this size; DIS needs at least 12 px on one side.
WORK_SIZE = 128
MIN_SIDE = 16
# A cut needs at most this share of reliable flow.
RELIABLE_MAX = 0.5
# Colour distance that alone (with unreliable flow) makes a cut: a change of scene.
COLOUR_CUT = 0.5
# Residual, relative to the median of the neighbouring boundaries, that makes a cut.
RESIDUAL_RATIO = 2.0
# Boundaries on each side whose residuals form a boundary's neighbourhood.
WINDOW = 4
# Fewest neighbouring boundaries for the relative test: one alone is too noisy a reference.
MIN_NEIGHBOURS = 2
# Lowest neighbourhood residual (0-255): below, compression noise of a still shot would make any
# small change look large.
RESIDUAL_FLOOR = 2.0

# The flow the thresholds were measured with, named so that a new default estimator cannot move them.
_FLOW = {"method": "dis", "preset": "medium"}
# HSV histogram bins: hue (OpenCV's 0-180), saturation, value.
_BINS = (16, 4, 4)
_RANGES = (0, 180, 0, 256, 0, 256)


@dataclass(frozen=True)
class Boundary:
    """The measures of the boundary between frames ``index - 1`` and ``index``.

    Attributes:
        index: the frame after the boundary (0-based, at least 1).
        colour: Bhattacharyya distance of the HSV histograms, in [0, 1].
        reliable: share of pixels of frame ``index`` with reliable flow to the previous frame, in [0, 1].
        residual: median over the pixels of frame ``index`` of the absolute difference (0-255,
            averaged over RGB) from the previous frame warped onto it.
    """

    index: int
    colour: float
    reliable: float
    residual: float


def _histogram(frame: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(_BINS), list(_RANGES)).ravel()
    return (hist / hist.sum()).astype(np.float32)


def _measure(index: int, prev: np.ndarray, cur: np.ndarray, hist_prev: np.ndarray,
             hist_cur: np.ndarray) -> Boundary:
    flow_cur_to_prev = flow.estimate(cur, prev, **_FLOW)
    flow_prev_to_cur = flow.estimate(prev, cur, **_FLOW)
    rel = flow.reliability(flow_cur_to_prev, flow_prev_to_cur, smooth=False)
    warped_prev = flow.warp(prev, flow_cur_to_prev, border="replicate")
    return Boundary(
        index=index,
        colour=float(cv2.compareHist(hist_prev, hist_cur, cv2.HISTCMP_BHATTACHARYYA)),
        reliable=float(rel.mean()),
        residual=float(np.median(np.abs(warped_prev - cur.astype(np.float32)).mean(axis=2))),
    )


def boundaries(frames: Iterable[np.ndarray], size: int = WORK_SIZE) -> list[Boundary]:
    """Measure every boundary between consecutive frames (see the module docstring).

    Frames are shrunk to ``size`` pixels on the long side (smaller ones are used as they are);
    only the previous frame is held in memory.

    Args:
        frames: ``(H, W, 3) uint8`` RGB frames, all of one size, at least :data:`MIN_SIDE` pixels
            on the long side.
        size: long side to measure at; the thresholds were chosen at :data:`WORK_SIZE`.

    Returns:
        One :class:`Boundary` per pair of consecutive frames, in order (none for 0 or 1 frame).

    Raises:
        ValueError: a frame is not ``(H, W, 3) uint8``, is too small, or differs in size from the first.
    """
    out: list[Boundary] = []
    prev = hist_prev = None
    shape = None
    for index, frame in enumerate(frames):
        check_frame(frame, f"frame {index}")
        if shape is None:
            shape = frame.shape
            if max(shape[:2]) < MIN_SIDE:
                raise ValueError(f"expected frames at least {MIN_SIDE} px on the long side, got {shape[1]}x{shape[0]}")
        elif frame.shape != shape:
            raise ValueError(f"expected frame {index} to have the shape of frame 0 {shape}, got {frame.shape}")
        cur = np.ascontiguousarray(resize_long_side(frame, min(size, max(shape[:2]))))
        hist_cur = _histogram(cur)
        if prev is not None:
            out.append(_measure(index, prev, cur, hist_prev, hist_cur))
        prev, hist_prev = cur, hist_cur
    return out


def neighbourhood_residual(residuals: Sequence[float], i: int, cuts: Collection[int] = ()) -> float | None:
    """The residual that boundary ``i``'s is compared with.

    Args:
        residuals: the ``residual`` of every boundary of a clip, in order.
        i: position of the boundary in ``residuals``.
        cuts: positions of boundaries already taken for cuts.

    Returns:
        The median residual of the boundaries within :data:`WINDOW` positions on either side of
        ``i`` up to the nearest cut (excluded): those of the shots ``i`` lies in or between; at
        least :data:`RESIDUAL_FLOOR`. ``None`` when there are fewer than :data:`MIN_NEIGHBOURS`.
    """
    around = []
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(residuals) and abs(j - i) <= WINDOW and j not in cuts:
            around.append(residuals[j])
            j += step
    return max(float(np.median(around)), RESIDUAL_FLOOR) if len(around) >= MIN_NEIGHBOURS else None


def cuts_from_boundaries(measured: Sequence[Boundary]) -> tuple[int, ...]:
    """Decide which measured boundaries are cuts (the rule of the module docstring).

    Colour cuts are found first; then the relative test runs again and again, each cut found
    bounding the neighbourhoods of the others (see :func:`neighbourhood_residual`), until no
    cut is added. So a boundary is compared with the shots it lies in or between, not with the
    large residuals of nearby cuts or with other scenes' motion. A boundary with fewer than
    :data:`MIN_NEIGHBOURS` neighbours (in a clip or shot of two or three frames) can only be a
    cut by its colour.

    Args:
        measured: the boundaries of one clip, in order, as :func:`boundaries` returns them.

    Returns:
        The 0-based indices of the first frame of every new shot, ascending.
    """
    residuals = [b.residual for b in measured]
    candidates = [i for i, b in enumerate(measured) if b.reliable <= RELIABLE_MAX]
    cuts = {i for i in candidates if measured[i].colour >= COLOUR_CUT}
    # Flow to or from a flat frame (black, the plain ground of a title card) passes the
    # consistency check however little it explains, so a cut to black looks reliable. Where the
    # colours change completely, a residual large for its neighbourhood makes the cut instead.
    flat = [i for i, b in enumerate(measured) if b.reliable > RELIABLE_MAX and b.colour >= COLOUR_CUT]
    while True:
        added = set()
        for i in candidates + flat:
            if i not in cuts:
                reference = neighbourhood_residual(residuals, i, cuts)
                if reference is not None and residuals[i] >= RESIDUAL_RATIO * reference:
                    added.add(i)
        if not added:
            return tuple(measured[i].index for i in sorted(cuts))
        cuts |= added


def detect_cuts(frames: Iterable[np.ndarray]) -> tuple[int, ...]:
    """Find the hard cuts of a clip.

    Fades and dissolves are not detected (see the module docstring for the method and its limits).

    Args:
        frames: ``(H, W, 3) uint8`` RGB frames, all of one size; the caller may shrink them, and
            detection works at :data:`WORK_SIZE` pixels on the long side anyway.

    Returns:
        0-based indices of the first frame of every new shot, ascending, never 0; ``()`` for a
        single shot.

    Raises:
        ValueError: as :func:`boundaries`.
    """
    return cuts_from_boundaries(boundaries(frames))


def detect_clip_cuts(clip: str | os.PathLike, size: int = WORK_SIZE) -> tuple[int, ...]:
    """Read a clip (video file or image folder) at a small size and find its hard cuts.

    Args:
        clip: the clip, as for :func:`artvid.video.iter_frames`.
        size: long side to decode at; a clip smaller than that is read at its own size.

    Returns:
        As :func:`detect_cuts`.

    Raises:
        VideoReadError: the clip cannot be read.
        ValueError: its frames are smaller than :data:`MIN_SIDE` pixels.
    """
    from artvid.video import iter_frames, probe

    info = probe(clip)
    cuts = detect_cuts(iter_frames(clip, size=min(size, max(info.width, info.height))))
    numbers = ", ".join(str(c + 1) for c in cuts)
    found = "no cuts" if not cuts else f"a cut at frame {numbers}" if len(cuts) == 1 else f"cuts at frames {numbers}"
    logger.info("%s: %s in %d frames", clip, found, info.frame_count)
    return cuts
