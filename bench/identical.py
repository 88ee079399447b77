"""Behaviour check for redesigns: the same render with the same seed gives byte-identical frames.

Renders the bundled example with fixed settings to PNG frames and compares each frame's SHA-256
with the list in ``bench/identical.sha256``, which was written by the code before the render-plan
redesign (commit 886969d)::

    artvid render examples/sintel.mp4 --style examples/starry_night.jpg \\
        --quality draft --passes 2 --seed 3 -o OUT/

(since the defaults changed, with ``--carry image --content-levels none --iterations-first 80
--tolerance-first 1e-4`` added, which were the defaults then).

Usage: ``python bench/identical.py [--out DIR] [--write]`` (``--write`` records a new list after a
deliberate change of behaviour). Takes about 2.5 minutes on 2 CPU cores. Exit status 1 on any
difference. The list holds for CPU runs with this project's torch version; another torch, CPU
kernel set or a GPU may round differently.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import artvid

ROOT = Path(__file__).resolve().parents[1]
CHECKSUMS = Path(__file__).with_suffix(".sha256")
SETTINGS = {"quality": "draft", "passes": 2, "seed": 3, "carry": "image", "content_levels": "none",
            "iterations_first": 80, "tolerance_first": 1e-4}
"""Ruder's carry, the content as it is and draft's first-frame budget then: the defaults when the
list was written."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Frame folder (default: a temporary one).")
    parser.add_argument("--write", action="store_true", help="Record the frames' checksums as the new reference.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "frames"
        artvid.render(
            ROOT / "examples/sintel.mp4", ROOT / "examples/starry_night.jpg", f"{out}/", device="cpu",
            cache_dir=Path(tmp) / "cache", **SETTINGS,
        )
        got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.png"))}
    if args.write:
        CHECKSUMS.write_text("".join(f"{digest}  {name}\n" for name, digest in got.items()))
        print(f"wrote {len(got)} checksums to {CHECKSUMS}")
        return 0
    expected = dict(reversed(line.split()) for line in CHECKSUMS.read_text().splitlines())
    differ = sorted(name for name in expected.keys() | got.keys() if expected.get(name) != got.get(name))
    for name in sorted(expected.keys() | got.keys()):
        print(f"{name}  {'identical' if name not in differ else 'DIFFERENT'}")
    print(f"{len(expected) - len(differ)}/{len(expected)} frames byte-identical to the reference")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
