"""Document and chart VQA: ANLS (two definitions), Korean-aware exact match and ChartQA's relaxed
accuracy, on an answer already extracted (`kobench.extract.short_answer`). Pure functions; scores are
fractions (0-1).

ANLS has two definitions in use, and they differ exactly where short Korean answers often land,
NL = 0.5 (one syllable of two wrong, two of four):

- `anls`, the paper's: 1 - NL if NL < 0.5, else 0 (ST-VQA, Biten et al. 2019, eq. 1; DocVQA, Mathew et
  al. 2021, which takes it over). NL = 0.5 scores 0.
- `anls_lmms`, the evaluation code's: 1 - NL, set to 0 only if 1 - NL < 0.5. NL = 0.5 scores 0.5. This
  is the RRC's InfographicVQA script as Qwen-VL ships it (eval_mm/infographicsvqa_eval.py), copied into
  lmms-eval (lmms_eval/api/metrics.py `anls`, behind its docvqa/infovqa tasks) and VLMEvalKit
  (vlmeval/dataset/utils/vqa_eval.py `hit_calculate`): the code behind most published DocVQA and
  InfoVQA numbers.

They are two named metrics with their own versions, so a number under one rule never carries the
other's name (`metric:anls@1` and `metric:anls_lmms@1` in a signature).

Numbers are compared by value with their units (see `parse_number`), because Korean answers write
the same amount many ways: "1,234,000원", "1234000", "₩1,234,000", "123만 4천"... (the last is not read).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal

from rapidfuzz.distance import Levenshtein

from kobench.normalize import WRAPPER_PAIRS, collapse_spaces, drop_spaces, nfkc, strip_final_stops

# Version 1 of each ANLS includes NFKC folding (full-width digits and letters, ３ -> 3) before anything else:
# a change to the folding is a new version.
ANLS_VERSION = "1"
ANLS_LMMS_VERSION = "1"
EXACT_MATCH_VERSION = "1"
RELAXED_ACCURACY_VERSION = "1"

# Float slack for "within tolerance" and "equal value": decimal strings are not exact in binary.
_EPS = 1e-9


def _require_answers(answers: Sequence[str]) -> None:
    if not answers:
        raise ValueError("a question needs at least one reference answer")


def anls(prediction: str, answers: Sequence[str], threshold: float = 0.5) -> float:
    """ANLS for one question, the paper's rule: the max over answers of 1 - NL if NL < threshold, else 0
    (NL = 0.5 exactly scores 0; `anls_lmms` scores it 0.5).

    NL = Levenshtein distance / the longer string's length, both on the normalised strings: NFKC-folded,
    lower-cased, whitespace runs collapsed to one space and stripped (two empty strings: NL = 0). The
    dataset score is the mean over questions. Version `ANLS_VERSION`; the NFKC folding is part of it.
    """
    _require_answers(answers)

    def norm(s: str) -> str:
        return collapse_spaces(nfkc(s).lower())

    pred = norm(prediction)
    best = 0.0
    for answer in answers:
        ref = norm(answer)
        longest = max(len(pred), len(ref))
        nl = Levenshtein.distance(pred, ref) / longest if longest else 0.0
        best = max(best, 1.0 - nl if nl < threshold else 0.0)
    return best


def anls_lmms(prediction: str, answers: Sequence[str], threshold: float = 0.5) -> float:
    """ANLS for one question as lmms-eval (from Qwen-VL's copy of the RRC InfographicVQA script) computes
    it: 1 - (the least NL over answers), set to 0 only if it is below `threshold` (NL = 0.5 exactly
    scores 0.5; the paper's `anls` scores it 0).

    As in that code, the distance is between the normalised strings (stripped, lower-cased, whitespace
    runs joined by one space) but the length it is divided by is the longer of the texts before that
    normalisation, upper-cased (`len(answer.upper())`): surrounding or repeated whitespace lengthens the
    denominator and so lowers NL. NL = 0 when both texts are empty. kobench's one addition: both texts
    are NFKC-folded first (full-width digits and letters, ３ -> 3), part of version `ANLS_LMMS_VERSION`.
    """
    _require_answers(answers)
    raw_pred = nfkc(prediction)
    pred = collapse_spaces(raw_pred.lower())
    values = []
    for answer in answers:
        raw_ref = nfkc(answer)
        length = max(len(raw_ref.upper()), len(raw_pred.upper()))
        dist = Levenshtein.distance(collapse_spaces(raw_ref.lower()), pred)
        values.append(0.0 if length == 0 else dist / length)
    score = 1.0 - min(values)
    return 0.0 if score < threshold else score


def _strip_edges(s: str) -> str:
    """Trailing . 。 ! ? and wrapping quote pairs, repeatedly ("'서울'." -> 서울)."""
    while True:
        s = strip_final_stops(s.strip())
        for opening, closing in WRAPPER_PAIRS:
            if len(s) >= 2 and s.startswith(opening) and s.endswith(closing):
                s = s[1:-1]
                break
        else:
            return s


def normalize_answer(s: str) -> str:
    """The form answers are compared in: NFKC (full-width forms to ASCII), trailing . 。 ! ? and wrapping
    quotes removed, lower-cased, and every space removed.

    All spaces go, not only those between Hangul and digits: Korean spacing is inconsistent ("3 개" /
    "3개", "서울 특별시" / "서울특별시"), and the cost, English words run together ("new york" equals
    "newyork"), cannot turn a wrong answer into a right one in practice.
    """
    return drop_spaces(_strip_edges(nfkc(s)).lower())


_MAGNITUDES = {"십": 10, "백": 100, "천": 1_000, "만": 10_000, "억": 10**8, "조": 10**12}
# Units after which a preceding 십/백/천/만/억/조 is a magnitude ("3만 원", "5천만"); before any other
# word it is part of the unit ("3조각" is 3 pieces, not 3 trillion 각).
_MAGNITUDE_UNITS = "원|달러|위안|엔|유로|명|개|건|대|회|가구|톤|마리|권|표|곳|채|주|장|병"
_CURRENCY = {"₩": "원", "$": "달러"}
_UNIT_ALIASES = {"퍼센트": "%", "프로": "%"}
_NUMBER = re.compile(
    r"(?P<sign1>[-+−])?\s*(?P<currency>[₩$])?\s*(?P<sign2>[-+−])?\s*"
    r"(?P<digits>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)\s*"
    rf"(?P<magnitude>[십백천만억조]+(?=\s*(?:{_MAGNITUDE_UNITS})?$))?\s*"
    r"(?P<unit>%p?|‰|°[CcFf]?|[^\W\d_][^\W_]{0,9}(?:/[^\W\d_][^\W_]{0,4})?)?"
)


def parse_number(s: str) -> tuple[float, str] | None:
    """(value, unit) when the text is one number with an optional unit, else None. Unit '' if none.

    Read: NFKC first (full-width digits); a sign (- + or −); a currency prefix ₩ (unit 원) or $ (unit
    달러); digits with correctly grouped thousands separators ("1,234,000"; "1,23" is not a number) and
    an optional decimal part; Korean magnitude words 십 백 천 만 억 조, multiplied together ("3천만" =
    3e7), but only at the end or before a common currency or counter ("3만 원" -> (30000, "원"));
    then a unit: %, %p, ‰, °, or a word of letters (원, 개, 명, kg, km/h, 퍼센트 = 프로 = %),
    lower-cased. Not read: spelled-out numbers ("삼", "three"), compounds ("1억 2천만"), ranges.
    """
    text = nfkc(s).strip()
    m = _NUMBER.fullmatch(text)
    if not m or (m["sign1"] and m["sign2"]):
        return None
    value = Decimal(m["digits"].replace(",", ""))
    for char in m["magnitude"] or "":
        value *= _MAGNITUDES[char]
    if (m["sign1"] or m["sign2"] or "+") in "-−":
        value = -value
    unit = (m["unit"] or "").lower()
    unit = _UNIT_ALIASES.get(unit, unit)
    if m["currency"]:
        implied = _CURRENCY[m["currency"]]
        if unit not in ("", implied):
            return None
        unit = implied
    return float(value), unit


def _units_compatible(pred_unit: str, ref_unit: str) -> bool:
    """The same unit, or one side gives none: "1234000" answers "1,234,000원" and "50%" answers "50"
    (questions often imply the unit), but "3개" never answers "3명"."""
    return pred_unit == ref_unit or not pred_unit or not ref_unit


def korean_exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 if the prediction equals any answer, else 0.0.

    Equal means: the same `normalize_answer` form, or both read by `parse_number` as the same value
    (relative slack 1e-9) with compatible units (`_units_compatible`).
    """
    _require_answers(answers)
    pred = normalize_answer(prediction)
    pred_number = parse_number(pred)
    for answer in answers:
        ref = normalize_answer(answer)
        if pred == ref:
            return 1.0
        ref_number = parse_number(ref)
        if (
            pred_number is not None
            and ref_number is not None
            and math.isclose(pred_number[0], ref_number[0], rel_tol=_EPS)
            and _units_compatible(pred_number[1], ref_number[1])
        ):
            return 1.0
    return 0.0


def relaxed_accuracy(prediction: str, answers: Sequence[str], tolerance: float = 0.05) -> float:
    """ChartQA's relaxed accuracy: 1.0 if the prediction matches any answer, else 0.0.

    A numeric answer matches a numeric prediction with compatible units within `tolerance` relative
    error, |p - a| <= tolerance * |a| (exactly 5% passes; a = 0 needs p = 0); a numeric answer is
    never matched by a non-numeric prediction. A non-numeric answer falls back to `korean_exact_match`.
    """
    _require_answers(answers)
    pred_number = parse_number(normalize_answer(prediction))
    for answer in answers:
        ref_number = parse_number(normalize_answer(answer))
        if ref_number is None:
            if korean_exact_match(prediction, [answer]):
                return 1.0
            continue
        if pred_number is None or not _units_compatible(pred_number[1], ref_number[1]):
            continue
        p, a = pred_number[0], ref_number[0]
        if abs(p - a) <= abs(a) * (tolerance + _EPS):
            return 1.0
    return 0.0
