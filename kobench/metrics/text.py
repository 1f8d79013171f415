"""Text reading metrics for Korean OCR: CER, bag-of-characters P/R/F1 and char IoU, on a reading already
extracted (`kobench.extract.reading`). Pure functions; values are fractions (0-1; a CER can exceed 1
when the prediction inserts more characters than the reference has).

All comparisons run on `normalize_text` output: NFC (so a Hangul syllable typed as jamo equals the
precomposed one) and every whitespace run collapsed to one space. The bag-of-characters metrics also
drop the spaces, as CC-OCR does for Korean, because Korean spacing varies between writers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from kobench.normalize import collapse_spaces, nfc

CER_VERSION = "1"
CHAR_BAG_VERSION = "1"


def normalize_text(s: str) -> str:
    """NFC, each run of whitespace (newlines, tabs, U+3000 included) to one space, stripped."""
    return collapse_spaces(nfc(s))


def edit_distance(a: str, b: str) -> int:
    """Character Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    return Levenshtein.distance(a, b)


def cer_counts(prediction: str, reference: str) -> tuple[int, int]:
    """(edits, reference length) on normalized text: one row's contribution to `corpus_cer`."""
    pred, ref = normalize_text(prediction), normalize_text(reference)
    return edit_distance(pred, ref), len(ref)


def corpus_cer(pairs: Sequence[tuple[int, int]]) -> float:
    """Total edits / total reference length over `cer_counts` pairs; nan when the references are all empty.

    A corpus statistic, not the mean of per-row ratios: a mean of ratios gives a 2-character label
    with one error (0.5) the same weight as a 200-character page with 100 errors, so short rows would
    dominate and the result would depend on how the text was cut into rows. Summing first weights
    every reference character equally (sacrebleu does the same for its corpus scores).
    """
    edits = sum(e for e, _ in pairs)
    total = sum(n for _, n in pairs)
    return edits / total if total > 0 else math.nan


def row_cer(edits: int, ref_len: int) -> float:
    """One row's CER, kept for the bootstrap (weighted by `ref_len`, whose weighted mean is corpus CER).

    An empty reference has no ratio; it gives 0.0 when nothing was predicted and 1.0 otherwise, so the
    value stays finite (its bootstrap weight is 0 anyway; `corpus_cer` still counts its edits).
    """
    if ref_len == 0:
        return 0.0 if edits == 0 else 1.0
    return edits / ref_len


def _char_bags(prediction: str, reference: str) -> tuple[Counter[str], Counter[str]]:
    def bag(s: str) -> Counter[str]:
        return Counter(normalize_text(s).replace(" ", ""))

    return bag(prediction), bag(reference)


def char_bag_prf(prediction: str, reference: str) -> tuple[float, float, float]:
    """Bag-of-characters (multiset) precision, recall and F1 on normalized text without spaces.

    matched = sum over characters of min(count in prediction, count in reference);
    precision = matched / |prediction|, recall = matched / |reference|, F1 their harmonic mean.
    Order is ignored (CC-OCR's Korean metric). Edge cases: both empty -> (1, 1, 1), a correct
    reading of an empty region; exactly one empty -> (0, 0, 0), since nothing right was read.
    """
    pred, ref = _char_bags(prediction, reference)
    n_pred, n_ref = pred.total(), ref.total()
    if n_pred == 0 and n_ref == 0:
        return 1.0, 1.0, 1.0
    if n_pred == 0 or n_ref == 0:
        return 0.0, 0.0, 0.0
    matched = (pred & ref).total()
    precision, recall = matched / n_pred, matched / n_ref
    f1 = 2 * precision * recall / (precision + recall) if matched else 0.0
    return precision, recall, f1


def char_iou(prediction: str, reference: str) -> float:
    """|multiset intersection| / |multiset union| of characters (spaces removed); both empty -> 1.0."""
    pred, ref = _char_bags(prediction, reference)
    union = (pred | ref).total()
    return (pred & ref).total() / union if union else 1.0
