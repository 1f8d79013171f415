"""Document/chart VQA metrics and answer extraction against values worked out by hand."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence

import pytest

from kobench.extract.short_answer import extract_short_answer
from kobench.metrics.docvqa import (
    anls,
    anls_lmms,
    korean_exact_match,
    normalize_answer,
    parse_number,
    relaxed_accuracy,
)


def test_anls() -> None:
    assert anls("서울", ["서울"]) == 1.0
    assert anls("  New   York ", ["new york"]) == 1.0  # lower-cased, whitespace collapsed
    assert anls("１２３", ["123"]) == 1.0  # NFKC: full-width digits
    # "kitten" -> "sitting": 3 edits / max(6, 7) = 3/7 = 0.4286 < 0.5, so 1 - 3/7 = 4/7
    assert anls("kitten", ["sitting"]) == pytest.approx(4 / 7)
    # 4 edits / 4 = 1.0 >= 0.5 -> 0
    assert anls("abcd", ["wxyz"]) == 0.0
    # boundary: 1 edit / 2 = 0.5 is not < 0.5 -> 0
    assert anls("ab", ["ac"]) == 0.0
    # max over answers: vs "안녕" 3 edits / 5 = 0.6 -> 0; vs "안녕하세요" 1 / 5 = 0.2 -> 0.8
    assert anls("안녕하새요", ["안녕", "안녕하세요"]) == pytest.approx(0.8)
    # a lower threshold: 3/7 = 0.4286 >= 0.4 -> 0
    assert anls("kitten", ["sitting"], threshold=0.4) == 0.0
    assert anls("", [""]) == 1.0  # NL = 0 for two empty strings
    with pytest.raises(ValueError):
        anls("서울", [])


# Two independent re-implementations of the ANLS rules, written from the reference code, not from kobench's.


def ref_levenshtein(s1: str, s2: str) -> int:  # Qwen-VL eval_mm/infographicsvqa_eval.py levenshtein_distance
    if len(s1) > len(s2):
        s1, s2 = s2, s1
    distances = list(range(len(s1) + 1))
    for i2, c2 in enumerate(s2):
        row = [i2 + 1]
        for i1, c1 in enumerate(s1):
            if c1 == c2:
                row.append(distances[i1])
            else:
                row.append(1 + min((distances[i1], distances[i1 + 1], row[-1])))
        distances = row
    return distances[-1]


def ref_anls_lmms(prediction: str, references: Sequence[str], thresh_hold: float = 0.5) -> float:
    """lmms-eval lmms_eval/api/metrics.py `anls` (= Qwen-VL infographicsvqa_eval.py evaluate_method), line by
    line, after the one step kobench adds: NFKC folding of both texts."""
    pred = unicodedata.normalize("NFKC", prediction)
    values = []
    for raw in references:
        answer = unicodedata.normalize("NFKC", raw)
        gt_answer = " ".join(answer.strip().lower().split())
        det_answer = " ".join(pred.strip().lower().split())
        dist = ref_levenshtein(gt_answer, det_answer)
        length = max(len(answer.upper()), len(pred.upper()))
        values.append(0.0 if length == 0 else float(dist) / float(length))
    question_result = 1 - min(values)
    if question_result < thresh_hold:
        question_result = 0
    return question_result


def ref_anls_paper(prediction: str, answers: Sequence[str], tau: float = 0.5) -> float:
    """ST-VQA / DocVQA eq. 1: max_j s(a_j, o), s = 1 - NL if NL < tau else 0, NL on NFKC, lower-cased,
    whitespace-collapsed strings, divided by the longer normalised length."""

    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", s).lower().split())

    o = norm(prediction)
    best = 0.0
    for a in map(norm, answers):
        longest = max(len(a), len(o))
        nl = ref_levenshtein(a, o) / longest if longest else 0.0
        best = max(best, 1 - nl if nl < tau else 0.0)
    return best


@pytest.mark.parametrize(
    ("prediction", "answers", "paper", "lmms"),
    [
        ("서울", ["서울"], 1.0, 1.0),
        # 울 -> 을: 1 edit / 2 syllables, NL = 0.5 exactly: the paper's rule drops it, the code's keeps 0.5
        ("서을", ["서울"], 0.0, 0.5),
        ("5개", ["3개"], 0.0, 0.5),  # 1 of 2
        ("대한항공", ["대한민국"], 0.0, 0.5),  # 민국 -> 항공: 2 of 4
        ("대한제국", ["대한민국"], 0.75, 0.75),  # 1 of 4: NL 0.25 under both
        ("１２", ["13"], 0.0, 0.5),  # NFKC first: "12" vs "13", 1 of 2
        ("ab", ["ac"], 0.0, 0.5),
        ("kitten", ["sitting"], 4 / 7, 4 / 7),  # 3 edits / 7
        ("서울특별시", ["서울"], 0.0, 0.0),  # 3 edits / 5 = 0.6
        ("안녕하새요", ["안녕", "안녕하세요"], 0.8, 0.8),  # the best answer: 1 edit / 5
        ("서을", ["부산", "서울"], 0.0, 0.5),  # the least NL over answers is 0.5
        # lmms-eval divides by the length BEFORE normalisation: "  서울 " is 5 long, so 1 edit / 5 = 0.2
        ("  서을 ", ["서울"], 0.0, 0.8),
        ("SEOUL", ["seoul"], 1.0, 1.0),  # lower-cased
        ("", ["서울"], 0.0, 0.0),  # 2 edits / 2
        ("", [""], 1.0, 1.0),  # two empty texts: NL = 0
    ],
)
def test_both_anls_rules_by_hand(prediction: str, answers: list[str], paper: float, lmms: float) -> None:
    assert anls(prediction, answers) == pytest.approx(paper)
    assert anls_lmms(prediction, answers) == pytest.approx(lmms)
    assert ref_anls_paper(prediction, answers) == pytest.approx(paper)
    assert ref_anls_lmms(prediction, answers) == pytest.approx(lmms)


def _pairs(n: int) -> list[tuple[str, list[str]]]:
    """Short Korean answers with one or two syllables changed, spacing and case noise, full-width digits."""
    rng = random.Random(20250712)
    alphabet = list("서울을부산대한국개원12３Aaｂ ")
    pairs = []
    for _ in range(n):
        ref = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        pred = list(ref)
        for _ in range(rng.randint(0, 3)):
            op = rng.random()
            if op < 0.4 and pred:
                pred[rng.randrange(len(pred))] = rng.choice(alphabet)
            elif op < 0.7:
                pred.insert(rng.randint(0, len(pred)), rng.choice(alphabet))
            elif pred:
                del pred[rng.randrange(len(pred))]
        text = rng.choice(["", " ", "  "]) + "".join(pred) + rng.choice(["", " ", "\n"])
        others = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(0, 2))
        ]
        pairs.append((text, [ref, *others]))
    return pairs


def test_both_anls_rules_match_their_references_on_many_pairs() -> None:
    pairs = _pairs(3000)
    half = 0
    for prediction, answers in pairs:
        paper, lmms = anls(prediction, answers), anls_lmms(prediction, answers)
        assert paper == ref_anls_paper(prediction, answers), (prediction, answers)
        assert lmms == ref_anls_lmms(prediction, answers), (prediction, answers)
        if lmms == 0.5:  # where the rules part: NL = 0.5 exactly
            half += 1
            assert paper < lmms
    assert half > 50  # the boundary is exercised, not just present


def test_anls_lmms_threshold_and_inputs() -> None:
    assert anls_lmms("kitten", ["sitting"], threshold=0.6) == 0.0  # 1 - 3/7 = 0.571 < 0.6
    assert anls_lmms("kitten", ["sitting"], threshold=4 / 7) == pytest.approx(4 / 7)  # not below: kept
    with pytest.raises(ValueError):
        anls_lmms("서울", [])


def test_normalize_answer() -> None:
    assert normalize_answer("  “서울”. ") == "서울"  # trailing period, then the quotes
    assert normalize_answer("'서울특별시'。") == "서울특별시"
    assert normalize_answer("３ 개") == "3개"  # NFKC, then spaces removed
    assert normalize_answer("서울 특별시") == "서울특별시"
    assert normalize_answer("Hello World!") == "helloworld"
    assert normalize_answer("ＡＢＣ？") == "abc"  # full-width letters and ？ -> ASCII
    assert normalize_answer("1,234,000원") == "1,234,000원"  # separators are left to parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234,000", (1234000.0, "")),
        ("1,234,000원", (1234000.0, "원")),
        ("1234.5", (1234.5, "")),
        ("12.5%", (12.5, "%")),
        ("-3.5", (-3.5, "")),
        ("−7", (-7.0, "")),  # U+2212 minus sign
        ("₩1,000", (1000.0, "원")),  # ₩ implies 원
        ("₩1,000원", (1000.0, "원")),
        ("$5", (5.0, "달러")),
        ("-$5", (-5.0, "달러")),
        ("3만 원", (30000.0, "원")),  # 3 * 10^4
        ("3만", (30000.0, "")),
        ("3천만", (30000000.0, "")),  # 3 * 10^3 * 10^4
        ("1.5억", (150000000.0, "")),  # 1.5 * 10^8
        ("3조각", (3.0, "조각")),  # 조 before a non-counter word is part of the unit
        ("50 퍼센트", (50.0, "%")),
        ("30 KG", (30.0, "kg")),
        ("１２３", (123.0, "")),
        ("3명", (3.0, "명")),
    ],
)
def test_parse_number(text: str, expected: tuple[float, str]) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["서울", "", "1,23", "12,34,567", "3개 사과", "1억 2천만", "₩3개", "--5", "3 4", "5."],
)
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("prediction", "answers", "expected"),
    [
        ("1234000", ["1,234,000원"], 1.0),  # same value; the prediction omits the unit
        ("1,234,000원", ["1234000원"], 1.0),  # separators removed
        ("3개", ["3명"], 0.0),  # different units
        ("50%", ["50원"], 0.0),
        ("3 개", ["3개"], 1.0),  # spacing
        ("서울특별시", ["서울 특별시"], 1.0),
        ("'서울'.", ["서울"], 1.0),
        ("부산", ["서울", "부산"], 1.0),  # any answer
        ("3만 원", ["30,000원"], 1.0),  # 3 * 10^4 = 30000, both 원
        ("₩30,000", ["30000원"], 1.0),  # ₩ implies 원
        ("3.0", ["3"], 1.0),  # equal values
        ("3.1", ["3"], 0.0),
        ("50%", ["50"], 1.0),  # the answer gives no unit, so the prediction's is compatible
        ("12", ["12.5%"], 0.0),
        ("-5", ["5"], 0.0),
        ("ＡＢＣ", ["abc"], 1.0),
        ("서울시", ["서울"], 0.0),
    ],
)
def test_korean_exact_match(prediction: str, answers: list[str], expected: float) -> None:
    assert korean_exact_match(prediction, answers) == expected


def test_exact_match_needs_answers() -> None:
    with pytest.raises(ValueError):
        korean_exact_match("3", [])


@pytest.mark.parametrize(
    ("prediction", "answers", "expected"),
    [
        ("105", ["100"], 1.0),  # |105 - 100| / 100 = 0.05 <= 0.05
        ("105.1", ["100"], 0.0),  # 5.1 / 100 = 0.051 > 0.05
        ("95", ["100"], 1.0),  # 5 / 100 = 0.05
        ("94.9", ["100"], 0.0),  # 5.1 / 100
        ("1,050,000원", ["1,000,000원"], 1.0),  # 50000 / 1000000 = 0.05
        ("0", ["0"], 1.0),
        ("0.01", ["0"], 0.0),  # a = 0 needs p = 0
        ("21%", ["20"], 1.0),  # 1 / 20 = 0.05, the answer has no unit
        ("21명", ["20개"], 0.0),  # within 5% but a different unit
        ("서울", ["서울"], 1.0),  # non-numeric answer: exact match
        ("서울", ["20"], 0.0),  # numeric answer, non-numeric prediction
        ("20", ["twenty", "19.5"], 1.0),  # 0.5 / 19.5 = 0.0256 against the second answer
    ],
)
def test_relaxed_accuracy(prediction: str, answers: list[str], expected: float) -> None:
    assert relaxed_accuracy(prediction, answers) == expected


def test_relaxed_accuracy_tolerance() -> None:
    assert relaxed_accuracy("110", ["100"], tolerance=0.1) == 1.0  # 10 / 100 = 0.1
    assert relaxed_accuracy("110", ["100"]) == 0.0  # 0.1 > 0.05
    with pytest.raises(ValueError):
        relaxed_accuracy("3", [])


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("정답은 1,234,000원입니다.", "1,234,000원"),
        ("**3개**", "3개"),
        ("3개요.", "3개"),  # 요 after a number goes
        ("필요", "필요"),  # ... but not from a word
        ("1,234,000원입니다.", "1,234,000원"),
        ("Answer: 42", "42"),
        ('The answer is "Seoul".', "Seoul"),
        ("정답: 3개\n설명: 사과가 세 개 있습니다.", "3개"),
        ("처음에는 정답은 3이라고 생각했지만, 최종 답: 4", "4"),  # the last cue decides
        ("**정답:** 3.5%", "3.5%"),
        ("정답은 '서울'입니다.", "서울"),
        ("답은 다음과 같습니다: 42", "42"),
        ("그래프를 보면 2020년에 가장 높습니다. 따라서 총 매출은 1,234,000원입니다.", "1,234,000원"),
        ("따라서, 「서울」", "서울"),
        ("<think>정답은 5일까?</think>정답은 7입니다", "7"),
        ("<think>정답은 5", ""),  # cut off while thinking
        ("즉시 확인할 수 없습니다", "즉시 확인할 수 없습니다"),  # 즉시 is not the cue 즉
        ("계산하면 \\boxed{12.5}", "12.5"),
        ("서울", "서울"),
        ("서울이다.", "서울"),
    ],
)
def test_extract_short_answer(response: str, expected: str) -> None:
    assert extract_short_answer(response) == expected
