"""Paired bootstrap of the difference between two runs scored on the same units (deterministic: fixed seed).

Each resample draws one set of unit indices and recomputes both runs' statistic on it, so the noise the
two runs share (hard units stay hard for both) cancels in the difference; resampling each run on its own
would make the interval of the difference far too wide.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from kobench.metrics.bootstrap import resampled_sums

PAIRED_BOOTSTRAP_VERSION = "1"


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # A weighted mean over units whose weights sum to 0 (CER on empty references) is undefined, not 0.
    return np.divide(num, den, out=np.full(np.shape(num), np.nan), where=den != 0)


def _groups(n: int, strata: Sequence[Hashable] | None) -> list[np.ndarray]:
    """Unit indices per stratum, strata in order of first appearance (one group without strata)."""
    if strata is None:
        return [np.arange(n)]
    labels = np.asarray([str(s) for s in strata])
    if labels.size != n:
        raise ValueError(f"{labels.size} strata for {n} units")
    return [np.flatnonzero(labels == label) for label in dict.fromkeys(labels.tolist())]


def _parts(
    base_scores: Sequence[float],
    cand_scores: Sequence[float],
    base_weights: Sequence[float] | None,
    cand_weights: Sequence[float] | None,
) -> np.ndarray:
    """Units x [base value*weight, base weight, candidate value*weight, candidate weight]: every statistic
    here is a ratio of sums of these, so a resample only needs their column sums."""
    b = np.asarray(base_scores, dtype=float)
    c = np.asarray(cand_scores, dtype=float)
    if b.ndim != 1 or b.shape != c.shape:
        raise ValueError(f"paired scores must be two lists of equal length, got {b.shape} and {c.shape}")
    # Each run keeps its own weights: K-LLaVA-W's weights are that run's judged reference scores.
    wb = np.ones_like(b) if base_weights is None else np.asarray(base_weights, dtype=float)
    wc = np.ones_like(c) if cand_weights is None else np.asarray(cand_weights, dtype=float)
    if wb.shape != b.shape or wc.shape != c.shape:
        raise ValueError("weights must be aligned with the scores")
    return np.stack([b * wb, wb, c * wc, wc], axis=1)


def _statistics(sums_per_stratum: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Macro mean over strata of each stratum's weighted mean, for both runs (last axis: the 4 parts)."""
    base = np.mean([_ratio(s[..., 0], s[..., 1]) for s in sums_per_stratum], axis=0)
    cand = np.mean([_ratio(s[..., 2], s[..., 3]) for s in sums_per_stratum], axis=0)
    return base, cand


def paired_statistic(
    scores: Sequence[float],
    *,
    weights: Sequence[float] | None = None,
    strata: Sequence[Hashable] | None = None,
) -> float:
    """The task's aggregate from its per-unit parts: the mean; with weights, sum(v*w)/sum(w) (corpus CER,
    K-LLaVA-W's ratio of means); with strata, the mean over strata of the per-stratum (weighted) means."""
    parts = _parts(scores, scores, weights, weights)
    if parts.shape[0] == 0:
        return float("nan")
    base, _ = _statistics([parts[g].sum(axis=0) for g in _groups(parts.shape[0], strata)])
    return float(base)


def resampled_statistics(
    base_scores: Sequence[float],
    cand_scores: Sequence[float],
    *,
    base_weights: Sequence[float] | None = None,
    cand_weights: Sequence[float] | None = None,
    strata: Sequence[Hashable] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Both runs' statistic on each of `n_resamples` paired resamples (the same unit indices for both).

    With strata, units are drawn within each stratum (as many as it has) so every stratum stays
    represented: the macro mean is undefined on a resample that loses one. A resample whose weights sum
    to 0 gives NaN.
    """
    parts = _parts(base_scores, cand_scores, base_weights, cand_weights)
    if parts.shape[0] == 0:
        return np.full(n_resamples, np.nan), np.full(n_resamples, np.nan)
    rng = np.random.default_rng(seed)
    sums = [
        resampled_sums(parts[g], n_resamples=n_resamples, seed=rng, chunk=50)
        for g in _groups(parts.shape[0], strata)
    ]
    return _statistics(sums)


def paired_bootstrap(
    base_scores: Sequence[float],
    cand_scores: Sequence[float],
    *,
    base_weights: Sequence[float] | None = None,
    cand_weights: Sequence[float] | None = None,
    strata: Sequence[Hashable] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float, float, float, float]:
    """(baseline, candidate, delta = candidate - baseline, delta's CI low, CI high) on the scale of the
    scores given (fractions in, fractions out); the CI is the percentile interval at level 1 - alpha.

    Unit i of the baseline and unit i of the candidate must be the same unit (match ids first).
    """
    point_base = paired_statistic(base_scores, weights=base_weights, strata=strata)
    point_cand = paired_statistic(cand_scores, weights=cand_weights, strata=strata)
    base, cand = resampled_statistics(
        base_scores,
        cand_scores,
        base_weights=base_weights,
        cand_weights=cand_weights,
        strata=strata,
        n_resamples=n_resamples,
        seed=seed,
    )
    deltas = cand - base
    deltas = deltas[~np.isnan(deltas)]
    if deltas.size == 0:
        low = high = float("nan")
    else:
        low, high = (float(q) for q in np.quantile(deltas, [alpha / 2.0, 1.0 - alpha / 2.0]))
    return point_base, point_cand, point_cand - point_base, low, high
