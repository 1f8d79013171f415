"""CC-OCR's text-reading score for its Korean subset, reproduced: character tokens, each image's precision,
recall and F1 with the published 1e-9 terms, and the two track statistics, macro F1 (the mean of the images'
F1) and micro F1 (one F1 over the summed counts). Pure functions; values are fractions (0-1).

Source: the official evaluator (GitHub AlibabaResearch/AdvancedLiterateMachinery, Benchmarks/CC-OCR/
evaluation/evaluator/ocr_evaluator.py), which VLMEvalKit ships unchanged (vlmeval/dataset/utils/
ccocr_evaluator/ocr_evaluator.py, since 14385c5) and lmms-eval ports (lmms_eval/tasks/cc_ocr/evaluators/
ocr_metric.py, since 3b61454). For the multilingual track (`multi_lan_ocr`) the subsets Arabic, Japanese
and Korean are read character by character, lower-cased, with nothing filtered out; spaces do not count.

The response is scored as the model wrote it: no NFC (a syllable typed as conjoining jamo is two or three
tokens there), no removal of a preamble or of markdown. kobench's own pipeline cleans the reading first
(`kobench.extract.reading`) and normalises it to NFC; the metric stays the same.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

CCOCR_VERSION = "1"

_EPS = 1e-9  # the evaluator's smoothing term, in every division
_WHITESPACE = re.compile(r"\s")


def ccocr_char_tokens(text: str) -> list[str]:
    """The evaluator's tokens for a character-level subset (is_keep_blank False, is_lower True).

    Tabs and newlines become spaces before the markers "###" and "***" are deleted (so "#\\n##" keeps its
    three #), then no whitespace is left, and each remaining character is one token, lower-cased on its
    own ("İ" gives the one token "i̇").
    """
    text = text.replace("\t", " ").replace("\n", " ")
    text = text.replace("###", "").replace("***", "")
    return [ch.lower() for ch in _WHITESPACE.sub("", text)]


class CCOCRCounts(NamedTuple):
    """One image: tokens matched (the multiset intersection), tokens in the reference, in the reading."""

    right: int
    n_reference: int
    n_prediction: int


def ccocr_counts(prediction: str, reference: str) -> CCOCRCounts:
    """The evaluator's counts for one image (both texts stripped first, as it does)."""
    pred = Counter(ccocr_char_tokens(prediction.strip()))
    ref = Counter(ccocr_char_tokens(reference.strip()))
    return CCOCRCounts((pred & ref).total(), ref.total(), pred.total())


def ccocr_f1(counts: CCOCRCounts) -> float:
    """One image's F1 exactly as published: recall = right / (n_ref + 1e-9), precision = right /
    (n_pred + 1e-9), F1 = 2 * recall * precision / (recall + precision + 1e-9). An exact reading scores
    1 - about 1e-9, nothing right scores 0; the macro F1 of a subset is the mean of these."""
    recall = counts.right / (counts.n_reference + _EPS)
    precision = counts.right / (counts.n_prediction + _EPS)
    return 2 * recall * precision / (recall + precision + _EPS)


def ccocr_dice(counts: CCOCRCounts) -> tuple[float, int]:
    """(2 * right / (n_ref + n_pred), n_ref + n_pred): one image's share of the micro F1.

    The published micro F1 is 2RP / (R + P) with R = sum(right) / sum(n_ref) and P = sum(right) /
    sum(n_pred), which is 2 * sum(right) / (sum(n_ref) + sum(n_pred)): the mean of these values weighted by
    their second element. That holds up to the evaluator's 1e-9 terms, a relative difference below 1e-8
    for any subset with text; kept as a weighted mean, the statistic can be bootstrapped like corpus CER.
    Both texts empty: (0.0, 0), no weight.
    """
    weight = counts.n_reference + counts.n_prediction
    return (2 * counts.right / weight if weight else 0.0), weight
