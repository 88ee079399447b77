"""Compare stylised versions of one clip: temporal consistency, style loss, content loss.

:func:`run_compare` is the library side of ``artvid compare``; :mod:`artvid.report` writes what
it returns. The package is split along its concepts:

* :mod:`~artvid.compare.config`: :class:`CompareConfig`, the settings (the CLI's options).
* :mod:`~artvid.compare.sources`: probing the inputs, the evaluation size, aligned frame streams.
* :mod:`~artvid.compare.flows`: which frame pairs the temporal metrics use, from estimated flow
  (the flow cache) or MPI-Sintel ground truth, and in which direction.
* :mod:`~artvid.compare.perceptual`: the VGG style and content losses.
* :mod:`~artvid.compare.result`: :class:`CompareResult`, the scores and their JSON form.
* :mod:`~artvid.compare.run`: :func:`run_compare`, the loop over frames.

Importing this package loads numpy and OpenCV but not torch.
"""

from artvid.compare.config import DEFAULT_MAX_SIDE, REFERENCE_NAME, CompareConfig, default_report_dir
from artvid.compare.result import CompareInput, CompareResult
from artvid.compare.run import run_compare
from artvid.compare.sources import default_names, iter_aligned

__all__ = [
    "DEFAULT_MAX_SIDE",
    "REFERENCE_NAME",
    "CompareConfig",
    "CompareInput",
    "CompareResult",
    "default_names",
    "default_report_dir",
    "iter_aligned",
    "run_compare",
]
