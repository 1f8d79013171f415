"""Document and chart VQA: ANLS, Korean-aware exact match, ChartQA's relaxed accuracy, and the extraction
of a short answer from a chatty response. Pure functions; scores are fractions (0-1).

Numbers are compared by value with their units (see `parse_number`), because Korean answers write
the same amount many ways: "1,234,000원", "1234000", "₩1,234,000", "123만 4천"... (the last is not read).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from rapidfuzz.distance import Levenshtein

from kobench.extract.thinking import strip_thinking

ANLS_VERSION = "1"
EXACT_MATCH_VERSION = "1"
RELAXED_ACCURACY_VERSION = "1"
SHORT_ANSWER_VERSION = "1"

# Float slack for "within tolerance" and "equal value": decimal strings are not exact in binary.
_EPS = 1e-9


def _require_answers(answers: Sequence[str]) -> None:
    if not answers:
        raise ValueError("a question needs at least one reference answer")


def anls(prediction: str, answers: Sequence[str], threshold: float = 0.5) -> float:
    """ANLS for one question (DocVQA): the max over answers of 1 - NL if NL < threshold, else 0.

    NL = Levenshtein distance / the longer string's length, on NFKC, lower-cased, whitespace-collapsed
    strings (two empty strings: NL = 0). The dataset score is the mean over questions.
    """
    _require_answers(answers)

    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", s).lower().split())

    pred = norm(prediction)
    best = 0.0
    for answer in answers:
        ref = norm(answer)
        longest = max(len(pred), len(ref))
        nl = Levenshtein.distance(pred, ref) / longest if longest else 0.0
        best = max(best, 1.0 - nl if nl < threshold else 0.0)
    return best


_TRAILING_PUNCT = re.compile(r"[\s.。!?]+$")
_QUOTE_PAIRS = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("「", "」"), ("『", "』"), ("`", "`"))


def _strip_edges(s: str) -> str:
    """Trailing . 。 ! ? and wrapping quote pairs, repeatedly ("'서울'." -> 서울)."""
    while True:
        s = _TRAILING_PUNCT.sub("", s.strip())
        for opening, closing in _QUOTE_PAIRS:
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
    s = _strip_edges(unicodedata.normalize("NFKC", s))
    return "".join(s.lower().split())


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
    text = unicodedata.normalize("NFKC", s).strip()
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


# The last answer cue decides: "정답은", "정답:", "최종 답:", "답변은", "The answer is", "Answer:".
_ANSWER_CUE = re.compile(
    r"(?:최종\s*)?(?:정답|답변|답)\s*(?:은|는|:|=|->|→)\s*(?:다음과\s*같습니다\s*[:.]?)?"
    r"|(?i:\b(?:final\s+)?answer\s*(?:is\s*:?|:|=))"
)
# Without an answer cue, "따라서/그러므로/결론적으로/즉 ..." introduces the conclusion.
_CONCLUSION_CUE = re.compile(r"(?:따라서|그러므로|결론적으로|즉(?![가-힣]))\s*,?\s*")
_TOPIC = re.compile(r"[은는]\s")
_SENTENCE_END = re.compile(r"\n|[.。!?](?=\s|$)")
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_COPULA = re.compile(r"(?:입니다|이다|이에요|예요|에요)$")
_WRAPS = (*_QUOTE_PAIRS, ("__", "__"))


def extract_short_answer(response: str) -> str:
    """The short answer a chatty response gives: kobench's robust extraction for document/chart VQA.

    1. Think blocks are removed (an unclosed one gives "": the answer was cut off).
    2. The last `\\boxed{...}` if any; else the sentence after the last answer cue ("정답은", "답:",
       "최종 답:", "Answer:", "The answer is"); else, after the last "따라서"/"그러므로"/"결론적으로"/"즉",
       that sentence, and when it ends in a copula, what follows its last topic particle ("따라서 총
       매출은 1,234,000원입니다" -> "1,234,000원입니다"); else the whole response.
    3. Then, repeatedly: trailing . 。 ! ? removed, a final copula (입니다, 이다, 이에요, 예요, 에요)
       removed, a final 요 removed only when a number remains ("3개요", but "필요" stays), and wrapping
       quotes, 「」, 『』, backticks and markdown bold removed, with stray * at the edges.
    Nothing else is cut: a response with no cue and several sentences stays whole (and scores 0).
    """
    text = strip_thinking(response)
    if text is None:
        return ""
    if boxed := _BOXED.findall(text):
        return _clean_answer(boxed[-1])
    cues = list(_ANSWER_CUE.finditer(text))
    if cues:
        return _clean_answer(_first_sentence(text[cues[-1].end() :]))
    conclusions = list(_CONCLUSION_CUE.finditer(text))
    if conclusions:
        sentence = _first_sentence(text[conclusions[-1].end() :])
        topics = list(_TOPIC.finditer(sentence))
        if topics and _COPULA.search(_TRAILING_PUNCT.sub("", sentence)):
            sentence = sentence[topics[-1].end() :]
        return _clean_answer(sentence)
    return _clean_answer(text)


def _first_sentence(text: str) -> str:
    text = text.strip()
    end = _SENTENCE_END.search(text)
    return text[: end.start()] if end else text


def _clean_answer(text: str) -> str:
    while True:
        before = text
        text = _TRAILING_PUNCT.sub("", text.strip()).strip("*").strip()
        text = _COPULA.sub("", text)
        if text.endswith("요") and parse_number(text[:-1]) is not None:
            text = text[:-1]
        for opening, closing in _WRAPS:
            if (
                len(text) > len(opening) + len(closing)
                and text.startswith(opening)
                and text.endswith(closing)
            ):
                text = text[len(opening) : -len(closing)]
                break
        if text == before:
            return text
