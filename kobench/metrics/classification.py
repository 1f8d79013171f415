"""Macro-averaged F1 over classes, as lm-evaluation-harness reports it for KoBEST (its
`utils.macro_f1_score`: scikit-learn's `f1_score(golds, preds, average="macro")`). Pure functions; values
are fractions (0-1)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from kobench.metrics.bootstrap import percentile_interval, resampled_sums

MACRO_F1_VERSION = "1"


def _counts(golds: Sequence[Hashable], preds: Sequence[Hashable]) -> np.ndarray:
    """Per unit, for each class seen (in golds or preds): [tp, fp, fn] indicators, classes side by side."""
    if len(golds) != len(preds):
        raise ValueError(f"{len(golds)} golds but {len(preds)} predictions")
    classes = list(dict.fromkeys([*golds, *preds]))
    parts = np.zeros((len(golds), 3 * len(classes)))
    index = {c: k for k, c in enumerate(classes)}
    for n, (gold, pred) in enumerate(zip(golds, preds, strict=True)):
        if gold == pred:
            parts[n, 3 * index[gold]] = 1
        else:
            parts[n, 3 * index[pred] + 1] = 1
            parts[n, 3 * index[gold] + 2] = 1
    return parts


def _macro_f1_from_sums(sums: np.ndarray) -> np.ndarray:
    """Macro F1 of each row (a resample) of summed [tp, fp, fn] per class. A class absent from a resample
    (no gold, no prediction) is left out, as scikit-learn averages only over the labels it sees;
    F1 = 2tp / (2tp + fp + fn)."""
    sums = sums.reshape(sums.shape[0], -1, 3)  # resamples x classes x [tp, fp, fn]
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    denominator = 2 * tp + fp + fn
    seen = denominator > 0
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=seen)
    n_seen = seen.sum(axis=1)
    return np.divide(f1.sum(axis=1), n_seen, out=np.full(n_seen.shape, np.nan), where=n_seen > 0)


def macro_f1(golds: Sequence[Hashable], preds: Sequence[Hashable]) -> float:
    """The unweighted mean over classes (those in golds or preds) of each class's F1."""
    if not golds:
        return float("nan")
    return float(_macro_f1_from_sums(_counts(golds, preds).sum(axis=0, keepdims=True))[0])


def macro_f1_ci(
    golds: Sequence[Hashable],
    preds: Sequence[Hashable],
    *,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of macro F1, the units (rows) resampled."""
    if not golds:
        return float("nan"), float("nan")
    sums = resampled_sums(_counts(golds, preds), n_resamples=n_resamples, seed=seed)
    return percentile_interval(_macro_f1_from_sums(sums), confidence)
