"""Per-frame stylization (Gatys et al. 2016 with Ruder et al. 2016's temporal terms).

One concept per module:

* :mod:`~artvid.stylize.config`: :class:`StylizeConfig`, the settings (the CLI reads its fields).
* :mod:`~artvid.stylize.objective`: the named weighted loss terms whose sum is the total.
* :mod:`~artvid.stylize.solve`: the safeguarded L-BFGS/Adam loop at one image size.
* :mod:`~artvid.stylize.coarse`: coarse-to-fine levels around the solver.
* :mod:`~artvid.stylize.style_image`: the one style-image resize every consumer uses.
* :mod:`~artvid.stylize.memory`: what one iteration needs in memory, to refuse frames that cannot fit.
* :mod:`~artvid.stylize.stylizer`: :class:`Stylizer`, targets and Grams, the entry point.
"""

from artvid.stylize.coarse import MIN_LEVEL_SIDE, coarse_to_fine_sizes
from artvid.stylize.config import OptimizerName, Pooling, StylizeConfig
from artvid.stylize.memory import check_memory, estimate_iteration_bytes
from artvid.stylize.objective import Objective, Targets, TemporalTarget, Term
from artvid.stylize.solve import Callback
from artvid.stylize.style_image import STYLE_RESAMPLING, prepare_style, style_target_size
from artvid.stylize.stylizer import StylizeResult, Stylizer

__all__ = [
    "MIN_LEVEL_SIDE",
    "STYLE_RESAMPLING",
    "Callback",
    "Objective",
    "OptimizerName",
    "Pooling",
    "StylizeConfig",
    "StylizeResult",
    "Stylizer",
    "Targets",
    "TemporalTarget",
    "Term",
    "coarse_to_fine_sizes",
    "check_memory",
    "estimate_iteration_bytes",
    "prepare_style",
    "style_target_size",
]
