"""Accuracy statistics over scoring units. Pure functions; values are fractions (0-1)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

ACCURACY_VERSION = "1"


def mean_accuracy(scores: Sequence[float]) -> float:
    if not scores:
        return float("nan")
    return sum(scores) / len(scores)


def macro_accuracy(scores: Sequence[float], strata: Sequence[Hashable]) -> float:
    """Mean over strata of each stratum's accuracy (K-MMStar: over l2_category)."""
    by_stratum: dict[Hashable, list[float]] = defaultdict(list)
    for score, stratum in zip(scores, strata, strict=True):
        by_stratum[stratum].append(score)
    if not by_stratum:
        return float("nan")
    return sum(sum(v) / len(v) for v in by_stratum.values()) / len(by_stratum)


def circular_units(row_scores: Sequence[float], groups: Sequence[Hashable]) -> dict[Hashable, float]:
    """MMBench circular evaluation: a group (a question and its rotations) scores 1 only if
    every row of it is right. Returns group -> 0/1 in first-seen order."""
    out: dict[Hashable, float] = {}
    for score, group in zip(row_scores, groups, strict=True):
        out[group] = min(out.get(group, 1.0), 1.0 if score >= 1.0 else 0.0)
    return out
