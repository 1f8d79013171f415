"""MTVQA's answer check, containment, as published and as kobench reads Korean. Pure functions; a score is
1.0 when the response contains an accepted answer, else 0.0.

`mtvqa_contains` is the rule behind the published numbers. lmms-eval (lmms_eval/tasks/mtvqa/utils.py,
`mtvqa_process_results`, commit d8fcb9c) and VLMEvalKit (vlmeval/dataset/image_vqa.py,
`MTVQADataset.evaluate`, since abaa7e0) apply the same one: the answer and the response are each stripped,
lower-cased and rid of every "." (the ASCII full stop only), then the answer must be a substring of the
response. The benchmark's own script (GitHub bytedance/MTVQA scripts/acc.py) removes the full stops from
the response only, so an answer written with one ("3.5") can never match there; the harnesses' rule is the
one reproduced, since it is the one kobench numbers sit next to.

`korean_contains` is kobench's reading of the same check. What it changes, and why:

- NFKC and case folding, so full-width forms (３, Ａ), conjoining jamo and case do not decide a match;
- punctuation is not compared (commas, middle dots, quotes, brackets, hyphens, all full stops), but the
  symbols that carry meaning are (% ‰ # & @ *): "1,000원" answers "1000원" and "2024.01.05" "2024-01-05";
- spacing is not compared, because Korean spacing varies between writers: "태양의 마테차" answers
  "태양의마테차" and the other way round;
- a number never matches inside a longer number, nor a Latin word inside a longer Latin word: under the
  published rule the answer "3" is found in "13개" and in "2023년", and "CU" in "CUBE". A Korean answer
  may still be followed by a particle or a copula ("서울" is found in "서울입니다").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from kobench.normalize import collapse_spaces, nfkc

MTVQA_CONTAINS_VERSION = "1"
KOREAN_CONTAINS_VERSION = "1"

# Punctuation (Unicode category P*) that still means something in an answer, and so is compared.
_MEANINGFUL = frozenset("%‰#&@*")
_LATIN = re.compile(r"[a-z]")


def mtvqa_normalize(text: str) -> str:
    """The form lmms-eval and VLMEvalKit compare: stripped, lower-cased, every "." removed."""
    return text.strip().lower().replace(".", "")


def mtvqa_contains(prediction: str, answers: Sequence[str]) -> float:
    """1.0 if some answer, in `mtvqa_normalize` form, is a substring of the response in that form.

    As published, an answer that is empty in that form (".") is found in every response; kobench's tasks
    never ask a row without an answer.
    """
    pred = mtvqa_normalize(prediction)
    return 1.0 if any(mtvqa_normalize(a) in pred for a in answers) else 0.0


def fold_for_match(text: str) -> str:
    """NFKC, case-folded, punctuation removed (but % ‰ # & @ *), each whitespace run one space, stripped."""
    kept = (
        ch
        for ch in nfkc(text).casefold()
        if ch in _MEANINGFUL or not unicodedata.category(ch).startswith("P")
    )
    return collapse_spaces("".join(kept))


def _answer_pattern(answer: str) -> re.Pattern[str] | None:
    """The answer's characters (spaces left out) with an optional space between any two, fenced so that a
    leading or trailing digit is not glued to another digit, nor a leading or trailing Latin letter to
    another Latin letter. None when nothing is left of the answer."""
    chars = answer.replace(" ", "")
    if not chars:
        return None
    body = " ?".join(re.escape(ch) for ch in chars)
    before = r"(?<!\d)" if chars[0].isdigit() else r"(?<![a-z])" if _LATIN.fullmatch(chars[0]) else ""
    after = r"(?!\d)" if chars[-1].isdigit() else r"(?![a-z])" if _LATIN.fullmatch(chars[-1]) else ""
    return re.compile(before + body + after)


def korean_contains(prediction: str, answers: Sequence[str]) -> float:
    """1.0 if the response contains some answer as kobench compares them (see the module docstring): both
    `fold_for_match`-ed, spaces ignored, no number inside a longer number and no Latin word inside a longer
    one. An answer that is only punctuation ("-") is looked for as written, NFKC and case-folded."""
    pred = fold_for_match(prediction)
    for answer in answers:
        pattern = _answer_pattern(fold_for_match(answer))
        if pattern is None:
            plain = nfkc(answer).strip().casefold()
            if plain and plain in nfkc(prediction).casefold():
                return 1.0
        elif pattern.search(pred):
            return 1.0
    return 0.0
