"""The stylization objective: named, weighted loss terms whose sum is the total.

Loss terms are data (pystiche's ``MultiLayerEncodingLoss``/``PerceptualLoss`` keep named terms in
a container whose sum is the total). :class:`Objective` holds an ordered mapping
``name → Term(weight, function)``; evaluating it returns every weighted term by name plus
``"total"``, their sum taken left to right in the mapping's order. Adding a loss term is one
function of :class:`Point` and one entry in :meth:`Objective.from_config`.

The terms of Ruder et al. 2016, Eq. 7 (without the temporal terms, Gatys et al. 2016, Eq. 7)::

    total = content_weight·L_content + style_weight·L_style + tv_weight·L_tv
            + temporal_weight·Σ_j L_temporal(x, ω_j, c_j)

(The total-variation term is neural-style's addition; see :mod:`artvid.losses` for every
normalisation.) A term whose weight is 0, or that has nothing to compare against (no content
layers, no temporal targets), is a zero tensor and is not computed.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from torch import Tensor

from artvid.losses import content_loss, style_loss, temporal_loss, tv_loss
from artvid.stylize.config import StylizeConfig

TOTAL = "total"
"""Name of the sum of all terms in an evaluation."""


@dataclass
class TemporalTarget:
    """One temporal constraint of Ruder et al. 2016 (Sec. 3.2, long-term: Sec. 3.3).

    Attributes:
        warped: ``(1, 3, H, W)`` float32 in ``[0, 1]``: a previous result warped onto this frame.
        weight: ``(1, 1, H, W)`` float32 in ``[0, 1]``: per-pixel ``c`` (long-term corrected).
    """

    warped: Tensor
    weight: Tensor


@dataclass(frozen=True)
class Targets:
    """What one frame's terms compare against, computed once per frame size under no_grad.

    Attributes:
        content: ``{content layer: (1, C, H_l, W_l)}`` features of the content frame; empty when
            the content term is off.
        grams: ``{style layer: (1, C, C)}`` blended target Grams.
        temporal: The frame's temporal constraints (may be empty).
    """

    content: Mapping[str, Tensor]
    grams: Mapping[str, Tensor]
    temporal: Sequence[TemporalTarget]


@dataclass(frozen=True)
class Point:
    """The image being evaluated, its features and the targets: what a term function reads.

    Attributes:
        image: ``(1, 3, H, W)`` float32, ``[0, 1]`` scale (may leave it while optimising).
        features: ``{layer: activations}`` of ``image``.
        targets: The frame's targets.
    """

    image: Tensor
    features: Mapping[str, Tensor]
    targets: Targets


TermFunction = Callable[[Point], "Tensor | None"]
"""An unweighted loss of a point, or ``None`` when the term has nothing to compare against."""


@dataclass(frozen=True)
class Term:
    """One named entry of an :class:`Objective`: ``weight · function(point)``."""

    weight: float
    function: TermFunction


def content_term(point: Point, layers: Sequence[str]) -> Tensor | None:
    """Gatys et al. 2016, Eq. 1, summed over ``layers`` (``None`` without content targets)."""
    if not point.targets.content:
        return None
    return sum(content_loss(point.features[layer], point.targets.content[layer]) for layer in layers)


def style_term(point: Point, layers: Sequence[str]) -> Tensor:
    """Gatys et al. 2016, Eqs. 3–5, summed over ``layers``."""
    return style_loss(point.features, point.targets.grams, layers)


def tv_term(point: Point) -> Tensor:
    """neural-style's total-variation smoothness term on the 0–255 scale."""
    return tv_loss(point.image)


def temporal_term(point: Point) -> Tensor | None:
    """Ruder et al. 2016, Sec. 3.2–3.3: one term per temporal target, summed (``None`` without)."""
    if not point.targets.temporal:
        return None
    return sum(temporal_loss(point.image, t.warped, t.weight) for t in point.targets.temporal)


class Objective:
    """Named weighted loss terms; an evaluation returns each of them and their sum.

    Args:
        terms: ``{name: Term}`` in summation order; ``"total"`` is reserved.
        encode: Image → ``{layer: activations}`` (the encoder, under autocast where enabled).

    Raises:
        ValueError: A term is named ``"total"`` or there is none.
    """

    def __init__(self, terms: Mapping[str, Term], encode: Callable[[Tensor], Mapping[str, Tensor]]) -> None:
        if not terms or TOTAL in terms:
            raise ValueError(f"expected at least one term and none named {TOTAL!r}, got {list(terms)}")
        self.terms = dict(terms)
        self.encode = encode

    @classmethod
    def from_config(cls, config: StylizeConfig, encode: Callable[[Tensor], Mapping[str, Tensor]]) -> Objective:
        """The objective of Ruder et al. 2016, Eq. 7 with ``config``'s weights and layers."""
        return cls(
            {
                "content": Term(config.content_weight, functools.partial(content_term, layers=config.content_layers)),
                "style": Term(config.style_weight, functools.partial(style_term, layers=config.style_layers)),
                "tv": Term(config.tv_weight, tv_term),
                "temporal": Term(config.temporal_weight, temporal_term),
            },
            encode,
        )

    @property
    def names(self) -> tuple[str, ...]:
        """Names of an evaluation's entries: the terms in order, then ``"total"`` (last)."""
        return (*self.terms, TOTAL)

    def __call__(self, image: Tensor, targets: Targets) -> dict[str, Tensor]:
        """Evaluate every term at ``image``.

        Args:
            image: ``(1, 3, H, W)`` float32 ``[0, 1]`` scale (may require grad).
            targets: The frame's targets at ``image``'s size.

        Returns:
            ``{name: scalar tensor}`` for each weighted term, then ``"total"``: their sum, added
            left to right in term order.
        """
        point = Point(image, self.encode(image), targets)
        zero = image.new_zeros(())
        values: dict[str, Tensor] = {}
        for name, term in self.terms.items():
            raw = term.function(point) if term.weight else None
            values[name] = zero if raw is None else term.weight * raw
        values[TOTAL] = functools.reduce(operator.add, values.values())
        return values
