"""Accuracy statistics and bootstrap intervals against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from kobench.metrics.accuracy import circular_units, macro_accuracy, mean_accuracy
from kobench.metrics.bootstrap import bootstrap_ci


def test_mean_accuracy() -> None:
    assert mean_accuracy([1, 0, 1, 1]) == 0.75
    assert math.isnan(mean_accuracy([]))


def test_macro_accuracy_weights_groups_equally() -> None:
    # group x: 3/4 right, group y: 0/1 right -> (0.75 + 0) / 2, not 3/5
    assert macro_accuracy([1, 1, 1, 0, 0], ["x", "x", "x", "x", "y"]) == pytest.approx(0.375)


def test_circular_units_need_every_rotation() -> None:
    units = circular_units([1, 1, 0, 1, 1, 1], ["q1", "q1", "q1", "q2", "q2", "q3"])
    assert units == {"q1": 0.0, "q2": 1.0, "q3": 1.0}


def test_bootstrap_ci_brackets_the_mean_and_is_deterministic() -> None:
    scores = [1.0] * 60 + [0.0] * 40
    low, high = bootstrap_ci(scores)
    assert low < 0.6 < high
    # normal approximation: 0.6 +- 1.96 * sqrt(0.24 / 100) = 0.6 +- 0.096
    assert low == pytest.approx(0.504, abs=0.03) and high == pytest.approx(0.696, abs=0.03)
    assert bootstrap_ci(scores) == (low, high)


def test_bootstrap_ci_degenerate_and_stratified() -> None:
    assert bootstrap_ci([1.0] * 10) == (1.0, 1.0)
    low, high = bootstrap_ci([1, 1, 0, 0], strata=["a", "a", "b", "b"])
    assert (low, high) == (0.5, 0.5)  # each stratum is constant, so every resample's macro mean is 0.5
