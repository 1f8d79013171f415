"""Resampled column sums: what corpus BLEU and METEOR intervals are recomputed from."""

from __future__ import annotations

import numpy as np

from kobench.metrics.bootstrap import resampled_sums


def test_resampled_sums_equal_summing_the_drawn_rows() -> None:
    rng = np.random.default_rng(3)
    parts = rng.integers(0, 9, size=(37, 4)).astype(float)
    sums = resampled_sums(parts, n_resamples=120, seed=5, chunk=50)
    # The same draws, gathered row by row (the obvious, slow way).
    draw = np.random.default_rng(5)
    expected = []
    for start in range(0, 120, 50):
        idx = draw.integers(0, 37, size=(min(50, 120 - start), 37))
        expected.extend(parts[row].sum(axis=0) for row in idx)
    np.testing.assert_allclose(sums, np.array(expected))


def test_resampled_sums_vary_and_keep_the_total_scale() -> None:
    parts = np.random.default_rng(1).random((100, 2))
    sums = resampled_sums(parts, n_resamples=300)
    assert sums.shape == (300, 2)
    assert len({tuple(r) for r in sums}) > 250  # resamples differ
    # Each resample draws 100 units: its mean sum is the full sum on average.
    assert abs(sums[:, 0].mean() - parts[:, 0].sum()) < 0.05 * parts[:, 0].sum()
    assert resampled_sums(np.zeros((0, 3))).shape == (0, 3)
