"""Shot-cut detection on real footage joined into clips with known cuts: the numbers behind the
thresholds of :mod:`artvid.shots`.

Builds clips from the shared data (the Sintel cave chase at 10 fps and, with every second frame,
at 5 fps; Sintel alley_1 and market_5; marple8): the continuous chase alone (no cut may be
found), segments of the chase in shuffled order (cuts between shots of one scene and one palette)
and shuffled segments of all four scenes, several arrangements each. Prints every boundary with
its measures (``colour``, ``reliable``, ``residual`` and ``ratio`` = residual over the median of
its neighbourhood) and whether it is a true and a detected cut, then the range of each measure
over cut and non-cut boundaries, and the misses and false cuts.

Run: ``python bench/shots_detect.py [DATA_DIR] [--seeds 12] [--size 128] [--quiet]`` (default data:
``../shared/data`` next to the repo).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from artvid import shots  # noqa: E402
from tests.helpers import join_shots, real_footage  # noqa: E402

# Segments of one scene are at least this many frames apart in the source, so that the join is a
# change of camera position, not a skipped frame or two of a continuous shot.
MIN_JUMP = 10


def _arrange(pieces: list[tuple[str, int, int]], rng: np.random.Generator) -> list[tuple[str, int, int]]:
    """``pieces`` (scene, start, stop) shuffled so that two pieces of one scene are never joined
    nearly continuously (less than :data:`MIN_JUMP` frames apart)."""
    for _ in range(1000):
        order = [pieces[i] for i in rng.permutation(len(pieces))]
        if all(a[0] != b[0] or abs(b[1] - a[2]) >= MIN_JUMP for a, b in zip(order, order[1:])):
            return order
    raise SystemExit("no arrangement without near-continuous joins")


def _chase_pieces(length: int, rng: np.random.Generator) -> list[tuple[str, int, int]]:
    """The chase cut into pieces of 4-9 frames."""
    pieces, start = [], 0
    while start < length:
        stop = min(length, start + int(rng.integers(4, 10)))
        pieces.append(("mmflow", start, stop))
        start = stop
    return pieces


Clip = tuple[list[np.ndarray], tuple[int, ...], set[int]]


def clips(footage: dict[str, list[np.ndarray]], seeds: int) -> dict[str, Clip]:
    """``{name: (frames, true cuts, the cuts between two pieces of one scene)}``."""
    chase = footage["mmflow"]
    out = {"chase 10 fps": (chase, (), set()), "chase 5 fps": (chase[::2], (), set())}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        pieces = _chase_pieces(len(chase), rng)
        same = _arrange(pieces, rng)
        mixed = _arrange(same[:4] + [(k, 0, len(footage[k])) for k in ("alley", "market", "marple")], rng)
        for label, order in ((f"chase shuffled #{seed}", same), (f"scenes shuffled #{seed}", mixed)):
            frames, cuts = join_shots([footage[k][a:b] for k, a, b in order])
            one_scene = {cut for cut, a, b in zip(cuts, order, order[1:]) if a[0] == b[0]}
            out[label] = (frames, cuts, one_scene)
    return out


def _ratios(measured: list[shots.Boundary], found: tuple[int, ...]) -> list[float]:
    """Each boundary's residual over its neighbourhood's, the other detected cuts left out, as the rule saw it."""
    residuals = [b.residual for b in measured]
    cuts = {i for i, b in enumerate(measured) if b.index in found}
    out = []
    for i, b in enumerate(measured):
        reference = shots.neighbourhood_residual(residuals, i, cuts - {i})
        out.append(b.residual / reference if reference else float("nan"))
    return out


def _span(values: list[float]) -> str:
    return f"{min(values):6.3f} .. {max(values):6.3f} (n={len(values)})" if values else "-"


def main(data: Path, seeds: int, quiet: bool, size: int) -> None:
    footage = real_footage(data)
    rows = {"cut, two scenes": [], "cut, one scene": [], "within a shot": [], "within, 10 fps": []}
    misses, false_cuts, seconds, boundaries = [], [], 0.0, 0
    for name, (frames, truth, one_scene) in clips(footage, seeds).items():
        t0 = time.perf_counter()
        measured = shots.boundaries(frames, size)
        found = shots.cuts_from_boundaries(measured)
        seconds += time.perf_counter() - t0
        boundaries += len(measured)
        misses += [(name, c) for c in truth if c not in found]
        false_cuts += [(name, c) for c in found if c not in truth]
        if not quiet:
            print(f"\n{name}: {len(frames)} frames, true cuts {list(truth)}, found {list(found)}")
            print(f"{'frame':>6s} {'true':>5s} {'found':>5s} {'colour':>7s} {'reliable':>8s} {'residual':>8s} "
                  f"{'ratio':>6s}")
        for b, ratio in zip(measured, _ratios(measured, found)):
            values = (b.colour, b.reliable, b.residual, ratio)
            is_cut = b.index in truth
            if is_cut:
                rows["cut, one scene" if b.index in one_scene else "cut, two scenes"].append(values)
            else:
                rows["within a shot"].append(values)
            if not is_cut and name != "chase 5 fps":
                rows["within, 10 fps"].append(values)
            if not quiet:
                print(f"{b.index:6d} {'CUT' if is_cut else '':>5s} {'CUT' if b.index in found else '':>5s} "
                      f"{values[0]:7.3f} {values[1]:8.3f} {values[2]:8.2f} {values[3]:6.2f}")
    print(f"\n{'boundaries':16s} {'colour':>24s} {'reliable':>24s} {'residual':>24s} {'ratio':>24s}")
    for label, values in rows.items():
        columns = list(zip(*values)) if values else [[]] * 4
        print(f"{label:16s} " + " ".join(f"{_span([v for v in col if v == v]):>24s}" for col in columns))
    print(f"\nthresholds: colour >= {shots.COLOUR_CUT}, reliable <= {shots.RELIABLE_MAX}, "
          f"ratio >= {shots.RESIDUAL_RATIO} (window {shots.WINDOW}, floor {shots.RESIDUAL_FLOOR})")
    print(f"missed cuts: {misses or 'none'}; false cuts: {false_cuts or 'none'}")
    print(f"{boundaries} boundaries in {seconds:.1f} s ({1000 * seconds / max(boundaries, 1):.1f} ms each, "
          f"at {size} px)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--seeds", type=int, default=12, help="arrangements of each shuffled clip")
    parser.add_argument("--size", type=int, default=shots.WORK_SIZE, help="long side to measure at")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args()
    main(args.data, args.seeds, args.quiet, args.size)
