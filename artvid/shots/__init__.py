"""Shots: where a clip cuts from one to the next, found in the frames or given by the user.

A render starts every shot like a first frame, since the previous frame warped by optical flow
means nothing across a cut. Cuts are the 0-based indices of the first frame of each new shot.

Modules: :mod:`~artvid.shots.detect` (hard-cut detection on the frames; numpy, OpenCV and
:mod:`flow`, no torch) and :mod:`~artvid.shots.cuts` (the ``--cuts`` option, checks, the shots as
ranges of frames).
"""

from artvid.shots import cuts, detect
from artvid.shots.cuts import check_cuts, crosses_cut, format_cuts, normalise_cuts, parse_cuts, resolve_cuts, shots
from artvid.shots.detect import (
    COLOUR_CUT,
    MIN_NEIGHBOURS,
    MIN_SIDE,
    RELIABLE_MAX,
    RESIDUAL_FLOOR,
    RESIDUAL_RATIO,
    WINDOW,
    WORK_SIZE,
    Boundary,
    boundaries,
    cuts_from_boundaries,
    detect_clip_cuts,
    detect_cuts,
    neighbourhood_residual,
)

__all__ = sorted([*cuts.__all__, *detect.__all__])
