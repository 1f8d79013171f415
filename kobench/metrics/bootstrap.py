"""Percentile bootstrap confidence intervals over scoring units (deterministic: fixed seed)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

BOOTSTRAP_VERSION = "1"


def bootstrap_ci(
    scores: Sequence[float],
    strata: Sequence[Hashable] | None = None,
    *,
    weights: Sequence[float] | None = None,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """CI of the mean (with weights, the weighted mean: a corpus statistic such as CER; with strata,
    the macro mean over strata).

    With strata, units are resampled within each stratum so every stratum stays represented
    (the macro mean is undefined for a resample that loses one).
    """
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        idx = rng.integers(0, values.size, size=(n_resamples, values.size))
        totals = w[idx].sum(axis=1)
        stats = np.divide(
            (values * w)[idx].sum(axis=1), totals, out=np.full(n_resamples, np.nan), where=totals > 0
        )
        stats = stats[~np.isnan(stats)]
        if stats.size == 0:
            return float("nan"), float("nan")
    elif strata is None:
        idx = rng.integers(0, values.size, size=(n_resamples, values.size))
        stats = values[idx].mean(axis=1)
    else:
        labels = np.asarray([str(s) for s in strata])
        per_stratum = []
        for label in dict.fromkeys(labels):
            group = values[labels == label]
            idx = rng.integers(0, group.size, size=(n_resamples, group.size))
            per_stratum.append(group[idx].mean(axis=1))
        stats = np.mean(per_stratum, axis=0)
    return percentile_interval(stats, confidence)


def percentile_interval(stats: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap statistics; NaN resamples (an undefined statistic) left out."""
    stats = np.asarray(stats, dtype=float)
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return float(low), float(high)


RESAMPLE_CELLS = 1_000_000  # units x resamples drawn at once: tens of MB whatever the sizes


def resampled_sums(
    parts: np.ndarray,
    *,
    n_resamples: int = 1000,
    seed: int | np.random.Generator = 0,
    chunk: int | None = None,
) -> np.ndarray:
    """Column sums of `parts` (units x counts) for each bootstrap resample of the units: what a corpus
    statistic built from summed counts (corpus BLEU, METEOR) is recomputed from. Drawn in chunks so
    5,000 units x 1,000 resamples never hold every resampled row at once. `seed` may be a Generator that
    several calls share (the gate's strata draw one after another from one stream)."""
    parts = np.asarray(parts, dtype=float)
    if parts.ndim != 2 or parts.shape[0] == 0:
        return np.zeros((0, parts.shape[-1] if parts.ndim == 2 else 0))
    rng = np.random.default_rng(seed)
    n = parts.shape[0]
    chunk = chunk or max(1, min(n_resamples, RESAMPLE_CELLS // n))
    out = np.empty((n_resamples, parts.shape[1]))
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        # Counting how often each unit was drawn turns the gather into one matrix product.
        flat = (idx + (np.arange(size) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=size * n).reshape(size, n).astype(float)
        out[start : start + size] = counts @ parts
    return out
