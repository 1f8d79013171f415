"""Caption n-gram metrics (CIDEr-D, BLEU-1..4, ROUGE-L) with pycocoevalcap's own scorers, and the parts
needed to bootstrap corpus BLEU. Pure functions on already-tokenised, space-joined strings (see
`kobench.metrics.morphemes`); values stay in the scorers' own scale (BLEU and ROUGE-L 0-1, CIDEr-D 0-10).

Inputs are positional: `references[i]` (a list of reference captions) and `predictions[i]` belong to
image i. pycocoevalcap takes dicts keyed by image id and returns per-image lists in the dicts' key order,
so the dicts are built with keys "0".."n-1" in input order and per-unit lists come back aligned.

Empty strings, checked against pycocoevalcap 1.2:
- An empty prediction is scored as it is, with no placeholder: Bleu and Cider split on whitespace and
  score it 0 (BLEU counts its length 0 in the corpus brevity penalty, which is exactly right: a
  placeholder token would add a guessed unigram and one word of length to the corpus counts); Rouge
  splits on " " and sees one empty token, which matches nothing once the references hold no empty
  tokens (below), so it scores 0 too.
- An empty reference string is dropped: it describes nothing, and pycocoevalcap would let it match an
  empty prediction (Rouge scores "" against "" as 1.0), offer length 0 as BLEU's closest reference length,
  and count it in CIDEr's division by the number of references. An image left with no reference is an
  error (ValueError naming its index), as is an empty reference list.
- Every string is whitespace-normalised (runs to one space, stripped): Rouge splits on a single space,
  so a double space would otherwise become an empty token.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kobench.metrics.bootstrap import percentile_interval, resampled_sums

NGRAM_METRICS_VERSION = "1"
BLEU_MAX_N = 4
# BleuScorer's smoothing constants (pycocoevalcap/bleu/bleu_scorer.py, compute_score): `tiny` in the
# numerators and `small` in the denominators keep an order with no guessed n-gram (0/0) from dividing by
# zero while scoring it ~0. The same values make bleu_from_parts reproduce its corpus BLEU.
BLEU_TINY = 1e-15
BLEU_SMALL = 1e-9
# Column layout of bleu_parts: clipped matches for n=1..4, guessed n-grams for n=1..4, hypothesis length,
# effective reference length.
BLEU_PARTS_COLUMNS = 2 * BLEU_MAX_N + 2
# Bootstrap memory bound: index and count matrices hold at most this many cells (8 MB each) at a time.


@dataclass(frozen=True)
class CorpusScore:
    """A corpus statistic as the scorer reports it, and per-image scores aligned with the inputs."""

    value: float
    per_unit: list[float]


def ngram_scores(references: Sequence[Sequence[str]], predictions: Sequence[str]) -> dict[str, CorpusScore]:
    """CIDEr-D, BLEU-1..4 (corpus) and ROUGE-L over the whole set, by pycocoevalcap's scorers.

    The "cider_d" key is pycocoevalcap's `Cider` class: its scorer is CIDEr-D (Vedantam et al. 2015, the
    COCO server's variant), not the original CIDEr: it clips the hypothesis tf-idf weights by the
    reference's (`min(vec_hyp, vec_ref)`), applies a Gaussian length penalty (sigma 6) and multiplies by
    10, with no stemming. Its document frequencies come from the references being scored, so the value
    depends on the whole set: score the full split at once, never a few images at a time.

    The per-image BLEU values are pycocoevalcap's sentence-level BLEU; the corpus value is not their mean.
    """
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    gts, res = scorer_inputs(references, predictions)
    cider, cider_per = Cider().compute_score(gts, res)
    bleu, bleu_per = Bleu(BLEU_MAX_N).compute_score(gts, res, verbose=0)
    rouge, rouge_per = Rouge().compute_score(gts, res)
    scores = {"cider_d": CorpusScore(float(cider), [float(x) for x in cider_per])}
    for k in range(BLEU_MAX_N):
        scores[f"bleu_{k + 1}"] = CorpusScore(float(bleu[k]), [float(x) for x in bleu_per[k]])
    scores["rouge_l"] = CorpusScore(float(rouge), [float(x) for x in rouge_per])
    return scores


def scorer_inputs(
    references: Sequence[Sequence[str]], predictions: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The (gts, res) dicts pycocoevalcap's scorers take: keys "0".."n-1" in input order."""
    refs, preds = _clean(references, predictions)
    gts = {str(i): r for i, r in enumerate(refs)}
    res = {str(i): [p] for i, p in enumerate(preds)}
    return gts, res


def bleu_parts(references: Sequence[Sequence[str]], predictions: Sequence[str]) -> np.ndarray:
    """Per image, BLEU's additive counts as pycocoevalcap's BleuScorer keeps them, shape (n, 10).

    Columns: clipped n-gram matches for n=1..4 (each hypothesis n-gram counted at most as often as it
    occurs in one reference, the maximum over references), guessed n-grams for n=1..4 (hypothesis length
    - n + 1, at least 0), hypothesis length, and the effective reference length: the reference length
    closest to the hypothesis length, the shorter one on a tie (BleuScorer's "closest" option, which
    pycocoevalcap's Bleu uses). Corpus BLEU is a function of the column sums (`bleu_from_parts`), not a
    mean of per-image values, so a bootstrap resamples these rows.
    """
    refs, preds = _clean(references, predictions)
    parts = np.zeros((len(preds), BLEU_PARTS_COLUMNS), dtype=float)
    for i, (ref_list, pred) in enumerate(zip(refs, preds, strict=True)):
        hyp = pred.split()
        max_ref_counts: Counter[tuple[str, ...]] = Counter()
        for ref in ref_list:
            max_ref_counts |= _ngrams(ref.split())  # | keeps the maximum count per n-gram
        for gram, count in _ngrams(hyp).items():
            parts[i, len(gram) - 1] += min(count, max_ref_counts[gram])
        for k in range(1, BLEU_MAX_N + 1):
            parts[i, BLEU_MAX_N + k - 1] = max(0, len(hyp) - k + 1)
        ref_lens = [len(ref.split()) for ref in ref_list]
        parts[i, 2 * BLEU_MAX_N] = len(hyp)
        parts[i, 2 * BLEU_MAX_N + 1] = min(ref_lens, key=lambda n: (abs(n - len(hyp)), n))
    return parts


def bleu_from_parts(summed: np.ndarray) -> list[float]:
    """Corpus BLEU-1..4 from a column sum of `bleu_parts` rows, as BleuScorer computes it."""
    correct = [float(x) for x in summed[:BLEU_MAX_N]]
    guess = [float(x) for x in summed[BLEU_MAX_N : 2 * BLEU_MAX_N]]
    hyp_len, ref_len = float(summed[2 * BLEU_MAX_N]), float(summed[2 * BLEU_MAX_N + 1])
    scores = []
    product = 1.0
    for k in range(BLEU_MAX_N):
        # BLEU-k is the geometric mean of the first k precisions: a running product, then the k-th root.
        product *= (correct[k] + BLEU_TINY) / (guess[k] + BLEU_SMALL)
        scores.append(product ** (1.0 / (k + 1)))
    ratio = (hyp_len + BLEU_TINY) / (ref_len + BLEU_SMALL)
    if ratio < 1:
        # Brevity penalty: only a corpus shorter than its effective reference length is penalised.
        scores = [s * math.exp(1 - 1 / ratio) for s in scores]
    return scores


def resample_ci(
    parts: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI of a corpus statistic computed from the column sums of resampled rows
    (units = images): the right resampling for corpus BLEU or METEOR, whose value is not a mean of
    per-image values. Resamples whose statistic is nan are left out; (nan, nan) when there are no rows."""
    sums = resampled_sums(parts, n_resamples=n_resamples, seed=seed)
    return percentile_interval(np.array([float(statistic(row)) for row in sums]), confidence)


def _ngrams(tokens: list[str]) -> Counter[tuple[str, ...]]:
    return Counter(
        tuple(tokens[i : i + k]) for k in range(1, BLEU_MAX_N + 1) for i in range(len(tokens) - k + 1)
    )


def _clean(
    references: Sequence[Sequence[str]], predictions: Sequence[str]
) -> tuple[list[list[str]], list[str]]:
    """Whitespace-normalised strings, empty references dropped; checks the shapes (see module doc)."""
    if isinstance(predictions, str) or len(references) != len(predictions):
        raise ValueError(
            f"references and predictions must be aligned lists: {len(references)} reference lists, "
            f"{len(predictions)} predictions"
        )
    if not predictions:
        raise ValueError("no images to score: CIDEr-D and BLEU need at least one image")
    refs = []
    for i, ref_list in enumerate(references):
        if isinstance(ref_list, str):
            raise ValueError(f"image {i}: references must be a list of strings, got one string")
        kept = [r for r in (" ".join(ref.split()) for ref in ref_list) if r]
        if not kept:
            raise ValueError(f"image {i}: no non-empty reference caption ({len(ref_list)} given)")
        refs.append(kept)
    return refs, [" ".join(p.split()) for p in predictions]
