"""The steps a render plan is made of: which finished frame (:class:`Ref`), how a step starts
(:class:`Start`), and one frame optimisation (:class:`Step`). Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass

from artvid.multipass import Init


@dataclass(frozen=True, order=True)
class Ref:
    """A finished frame: ``frame`` (0-based) of pass ``pass_index`` (1-based)."""

    pass_index: int
    frame: int


@dataclass(frozen=True)
class Start:
    """How a step's optimisation starts.

    Exactly one form applies:

    * ``fresh`` set: noise or the content (:data:`artvid.multipass.FRESH_INITS`).
    * ``result`` set, ``neighbour`` None: that finished frame, warped onto this frame's grid when
      ``warped`` (``Init.PREV_WARPED``), as it is otherwise (``Init.PREV``, ``Init.FIRST``, or the
      frame's own previous-pass result).
    * ``result`` and ``neighbour`` set: Ruder's blend of the frame's previous-pass result with the
      neighbour of this sweep warped onto it.
    * ``coarse`` set: the scale below's final result of this frame, upsampled; with ``result``
      set (warped), that result warped where its flow is reliable and the upsampled coarse
      result only where it is not (:class:`artvid.rendering.scales.CoarseScale`).
    """

    fresh: Init | None = None
    result: Ref | None = None
    warped: bool = False
    neighbour: Ref | None = None
    coarse: bool = False


@dataclass(frozen=True)
class Step:
    """One frame optimisation.

    Attributes:
        pass_index: 1-based pass.
        frame: 0-based frame.
        iterations: Iteration cap.
        start: Where the optimisation starts.
        temporal: Finished frames warped onto this frame as temporal targets, closest first.
        from_scratch: The step starts from noise or the content (coarse-to-fine applies).
        tolerance: Early-stopping tolerance of this step; None = the stylizer's ``tolerance``
            (a shot's first frame and a keyframe have ``schedule.tolerance_first``).
        anchor: A keyframe this step's chunk runs into (see :mod:`artvid.rendering.segments`): one
            more temporal target, outside Ruder's long-term exclusion.
        anchor_weight: The anchor's share a of the temporal weight; the other targets keep 1 - a.
        chained: The start and temporal targets come across several frames along the consecutive
            flows in between (:func:`flow.chain`) rather than by one direct estimate across the
            span (a keyframe from the previous one). An anchor always comes this way.
    """

    pass_index: int
    frame: int
    iterations: int
    start: Start
    temporal: tuple[Ref, ...] = ()
    from_scratch: bool = False
    tolerance: float | None = None
    anchor: Ref | None = None
    anchor_weight: float = 0.0
    chained: bool = False

    @property
    def ref(self) -> Ref:
        """The frame this step produces."""
        return Ref(self.pass_index, self.frame)

    @property
    def target_count(self) -> int:
        """How many temporal targets the stylizer gets (the anchor is one)."""
        return len(self.temporal) + (self.anchor is not None)

    def needs(self) -> list[Ref]:
        """Finished frames this step reads, in the order it reads them."""
        refs = [r for r in (self.start.result, self.start.neighbour) if r is not None]
        refs += [r for r in self.temporal if r not in refs]
        return refs + [self.anchor] if self.anchor is not None and self.anchor not in refs else refs

    def warps(self) -> list[tuple[int, int, bool]]:
        """``(i, j, chained)``: frame ``j``'s result is warped onto ``i``, along the consecutive
        flows in between when ``chained``."""
        sources: list[tuple[int, bool]] = []
        if self.start.warped and self.start.result is not None:
            sources.append((self.start.result.frame, self.chained))
        if self.start.neighbour is not None:
            sources.append((self.start.neighbour.frame, self.chained))
        sources += [(r.frame, self.chained) for r in self.temporal]
        if self.anchor is not None:
            sources.append((self.anchor.frame, True))
        return [(self.frame, j, chained) for j, chained in dict.fromkeys(sources)]

    def flow_pairs(self) -> list[tuple[int, int]]:
        """``(a, b)`` pairs, ``a < b``, whose flow this step's warps read: a chained warp reads
        every consecutive pair between its two frames."""
        pairs: list[tuple[int, int]] = []
        for i, j, chained in self.warps():
            if chained:
                pairs += [(min(m, n), max(m, n)) for m, n in consecutive_steps(i, j)]
            else:
                pairs.append((min(i, j), max(i, j)))
        return list(dict.fromkeys(pairs))


def consecutive_steps(i: int, j: int) -> list[tuple[int, int]]:
    """The one-frame steps from ``i`` to ``j`` that a chained warp follows: ``[(i, i±1), …, (j∓1, j)]``."""
    direction = 1 if j > i else -1
    return [(m, m + direction) for m in range(i, j, direction)]
