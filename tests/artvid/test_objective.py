"""Tests for artvid.stylize.objective: loss terms are data, their sum is the total."""

from __future__ import annotations

import pytest
import torch

from artvid.stylize import Objective, StylizeConfig, Targets, TemporalTarget, Term
from artvid.stylize.objective import TOTAL


def _encode(image: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"relu1_1": image.repeat(1, 2, 1, 1), "relu4_2": image * 2}


def _targets(image: torch.Tensor, temporal=()) -> Targets:
    grams = {"relu1_1": torch.zeros(1, 6, 6)}
    return Targets({"relu4_2": torch.zeros_like(image)}, grams, list(temporal))


CONFIG = StylizeConfig(content_layers=("relu4_2",), style_layers=("relu1_1",))


def test_names_are_the_terms_in_order_then_total():
    objective = Objective.from_config(CONFIG, _encode)
    assert objective.names == ("content", "style", "tv", "temporal", "total")


def test_total_is_the_sum_left_to_right():
    image = torch.rand(1, 3, 8, 8)
    temporal = [TemporalTarget(torch.rand(1, 3, 8, 8), torch.ones(1, 1, 8, 8))]
    values = Objective.from_config(CONFIG, _encode)(image, _targets(image, temporal))
    assert all(values[name] > 0 for name in ("content", "style", "tv", "temporal"))
    expected = values["content"] + values["style"] + values["tv"] + values["temporal"]
    assert torch.equal(values[TOTAL], expected)


def test_adding_a_term_is_one_entry():
    image = torch.rand(1, 3, 8, 8)
    base = Objective.from_config(CONFIG, _encode)
    brightness = Term(2.0, lambda point: point.image.mean())
    extended = Objective({**base.terms, "brightness": brightness}, _encode)
    values = extended(image, _targets(image))
    assert extended.names[-2:] == ("brightness", TOTAL)
    torch.testing.assert_close(values["brightness"], 2.0 * image.mean())
    torch.testing.assert_close(values[TOTAL], base(image, _targets(image))[TOTAL] + values["brightness"])


def test_zero_weight_and_targetless_terms_are_zero_and_not_computed():
    def never(point):
        raise AssertionError("a zero-weight term must not be evaluated")

    image = torch.rand(1, 3, 8, 8)
    objective = Objective({"off": Term(0.0, never), "none": Term(1.0, lambda point: None)}, _encode)
    values = objective(image, _targets(image))
    assert values["off"] == 0 and values["none"] == 0 and values[TOTAL] == 0
    # No temporal targets: the temporal term is zero whatever its weight.
    assert Objective.from_config(CONFIG, _encode)(image, _targets(image))["temporal"] == 0


@pytest.mark.parametrize("terms", [{}, {"total": Term(1.0, lambda point: None)}])
def test_total_is_reserved_and_a_term_is_needed(terms):
    with pytest.raises(ValueError, match="expected at least one term"):
        Objective(terms, _encode)
