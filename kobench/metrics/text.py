"""Text reading metrics for Korean OCR: CER, bag-of-characters P/R/F1, char IoU, and the cleaning of a
chatty reading. Pure functions; values are fractions (0-1; a CER can exceed 1 when the prediction
inserts more characters than the reference has).

All comparisons run on `normalize_text` output: NFC (so a Hangul syllable typed as jamo equals the
precomposed one) and every whitespace run collapsed to one space. The bag-of-characters metrics also
drop the spaces, as CC-OCR does for Korean, because Korean spacing varies between writers.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from kobench.extract.thinking import strip_thinking

CER_VERSION = "1"
CHAR_BAG_VERSION = "1"
READING_CLEANER_VERSION = "1"

_SPACES = re.compile(r"\s+")


def normalize_text(s: str) -> str:
    """NFC, each run of whitespace (newlines, tabs, U+3000 included) to one space, stripped."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", s)).strip()


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


# Reasoning blocks (same reading as kobench.extract.choice): a closed block is dropped; a close tag
# without an opening one means the opening was in the chat template; an unclosed one means the answer
# was cut off.


# A line that is only a code fence marker, with an optional language tag.
_FENCE = re.compile(r"^[ \t]*```[ \t]*[\w+-]*[ \t]*$", re.MULTILINE)
_NOUN = r"(?:텍스트|글자|글씨|문구|문자)"
# A preamble that announces the reading, ending in a colon (or, for a full sentence, a period) and
# followed by the text. Each is anchored at the start and must name the text, so the text itself
# ("영업시간: 10:00", "주의: 미끄럼") is never taken for one.
_PREAMBLES = (
    # labels: "텍스트:", "추출된 텍스트:", "이미지의 글자:", "OCR 결과:", "인식 결과:"
    re.compile(
        r"(?:(?:이미지|사진|그림|영역|박스)\s*(?:의|에\s*있는|에서|속의?|안의?)?\s*)?"
        r"(?:(?:(?:인식|추출|판독)(?:된|한)|읽은|적힌|쓰인)\s*)?"
        rf"(?:{_NOUN}(?:\s*내용)?(?:\s*(?:인식\s*)?결과)?|OCR(?:\s*결과)?|(?:인식|판독|추출)\s*결과)(?:은|는)?\s*[:：]"
    ),
    # Korean sentences: "이미지의 텍스트는 다음과 같습니다:", "이미지에 적힌 글자는 다음과 같아요."
    re.compile(
        rf"[^\n:：]{{0,40}}{_NOUN}[^\n:：]{{0,30}}(?:다음과\s*같(?:습니다|아요|다)|다음(?:입니다|과\s*같이\s*"
        rf"(?:적혀|쓰여)\s*있습니다))\s*[:：.]?"
    ),
    # English: "The text in the image reads:", "Here is the extracted text:", "Text:", "Transcription:"
    re.compile(
        r"(?i:(?:the\s+)?(?:text|writing|words?)\b[^\n:]{0,50}?\b(?:reads?|says?|is|are)(?:\s+as\s+follows)?"
        r"|here\s+(?:is|are)\s+the\s+(?:\w+\s+){0,2}(?:text|transcription)[^\n:]{0,30}"
        r"|(?:(?:extracted|recognized|detected|ocr)\s+)?(?:text|transcription)|ocr(?:\s+result)?)\s*:"
    ),
)
# "Sure! The text reads: ..." -- skipped only together with a preamble that follows it.
_ACKNOWLEDGEMENT = re.compile(r"(?:(?i:sure|okay|ok|certainly|of\s+course)|네|물론(?:이죠|입니다))[!.,]*\s+")
# Wrapping pairs removed from a reading that they enclose entirely and do not occur inside.
_WRAPPERS = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("「", "」"), ("『", "』"), ("`", "`"))


def clean_reading(response: str) -> str:
    """The text a chatty model read: kobench's robust extraction for reading tasks.

    In order: think blocks removed (an unclosed one gives ""), code fence marker lines removed (their
    content kept), one leading preamble that names the text ("이미지의 텍스트는 다음과 같습니다:",
    "텍스트:", "The text in the image reads:") removed only when text follows it, then a wrapping pair
    of quotes, 「」, 『』, backticks or markdown bold removed while it encloses the whole remainder and
    does not occur inside it. Nothing else is dropped: a trailing comment stays and costs CER, because
    it cannot be told apart from text in the image with certainty.
    """
    text = strip_thinking(response)
    if text is None:
        return ""
    text = _FENCE.sub("", text).strip()
    start = m.end() if (m := _ACKNOWLEDGEMENT.match(text)) else 0
    for preamble in _PREAMBLES:
        m = preamble.match(text, start)
        if m and text[m.end() :].strip():
            text = text[m.end() :].strip()
            break
    return _unwrap(text)


def _unwrap(text: str) -> str:
    while True:
        for opening, closing in (*_WRAPPERS, ("**", "**")):
            inner = text[len(opening) : -len(closing)]
            if (
                len(text) > len(opening) + len(closing)
                and text.startswith(opening)
                and text.endswith(closing)
                and opening not in inner
                and closing not in inner
            ):
                text = inner.strip()
                break
        else:
            return text
