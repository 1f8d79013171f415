"""Text reading metrics against values worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest

from kobench.extract.reading import clean_reading
from kobench.extract.thinking import strip_thinking
from kobench.metrics.text import (
    cer_counts,
    char_bag_prf,
    char_iou,
    corpus_cer,
    edit_distance,
    normalize_text,
    row_cer,
)


def test_normalize_text() -> None:
    assert normalize_text("  안녕\n\n 하세요\t") == "안녕 하세요"  # runs of whitespace -> one space, stripped
    assert normalize_text("a\u3000b\u00a0c") == "a b c"  # ideographic and no-break spaces are whitespace
    assert normalize_text("\u1100\u1161") == "가"  # jamo ㄱ + ㅏ compose to the syllable under NFC
    assert normalize_text("") == ""


def test_edit_distance() -> None:
    assert edit_distance("kitten", "sitting") == 3  # k->s, e->i, + g
    assert edit_distance("안녕하세요", "안녕하새요") == 1  # 세->새
    assert edit_distance("", "abc") == 3  # three insertions
    assert edit_distance("서울", "서울") == 0


def test_cer_counts() -> None:
    assert cer_counts("sitting", "kitten") == (3, 6)  # 3 edits, reference "kitten" has 6 characters
    assert cer_counts("kitten", "sitting") == (3, 7)  # 3 edits / 7
    assert cer_counts("안녕하새요", "안녕하세요") == (1, 5)  # 1 edit / 5
    # normalized first: "안녕  하세요\n" -> "안녕 하세요" (6 characters with the space), identical
    assert cer_counts("안녕  하세요\n", "안녕 하세요") == (0, 6)


def test_corpus_cer_is_not_a_mean_of_ratios() -> None:
    pairs = [(1, 2), (10, 100)]
    # corpus: (1 + 10) / (2 + 100) = 11 / 102 = 0.10784...; mean of ratios: (1/2 + 10/100) / 2 = 0.3
    assert corpus_cer(pairs) == pytest.approx(11 / 102)
    assert corpus_cer(pairs) != pytest.approx(0.3)
    assert corpus_cer([(3, 7), (1, 5)]) == pytest.approx(4 / 12)  # (3 + 1) / (7 + 5)
    # an empty reference still adds its edits: (3 + 1) / (0 + 2) = 2.0 (a CER can exceed 1)
    assert corpus_cer([(3, 0), (1, 2)]) == 2.0
    assert math.isnan(corpus_cer([]))
    assert math.isnan(corpus_cer([(0, 0)]))  # 0 / 0


def test_row_cer() -> None:
    assert row_cer(1, 5) == 0.2  # 1 / 5
    assert row_cer(3, 2) == 1.5  # 3 / 2: insertions push a row past 1
    assert row_cer(0, 0) == 0.0  # empty reference read as empty
    assert row_cer(2, 0) == 1.0  # empty reference, something predicted: 1.0 by convention


def test_char_bag_prf() -> None:
    # {안,녕,하,새,요} vs {안,녕,하,세,요}: 4 shared; P = 4/5, R = 4/5, F1 = 0.8
    assert char_bag_prf("안녕하새요", "안녕하세요") == pytest.approx((0.8, 0.8, 0.8))
    # {a:2, b:1} vs {a:1, b:2, c:1}: min counts a1 + b1 = 2; P = 2/3, R = 2/4;
    # F1 = 2 * (2/3) * (1/2) / (2/3 + 1/2) = (2/3) / (7/6) = 4/7
    assert char_bag_prf("aab", "abbc") == pytest.approx((2 / 3, 1 / 2, 4 / 7))
    assert char_bag_prf("요세하녕안", "안녕하세요") == (1.0, 1.0, 1.0)  # order is ignored
    assert char_bag_prf("안녕 하 세요", "안녕하세요") == (1.0, 1.0, 1.0)  # spaces are removed
    assert char_bag_prf("가나", "다라") == (0.0, 0.0, 0.0)  # nothing shared
    # {서,울,시} vs {서,울}: 2 shared; P = 2/3, R = 2/2 = 1, F1 = 2 * (2/3) / (5/3) = 4/5
    assert char_bag_prf("서울시", "서울") == pytest.approx((2 / 3, 1.0, 0.8))


def test_char_bag_prf_edge_cases() -> None:
    assert char_bag_prf("", "") == (1.0, 1.0, 1.0)
    assert char_bag_prf(" \n ", "") == (1.0, 1.0, 1.0)  # whitespace only is empty
    assert char_bag_prf("", "가") == (0.0, 0.0, 0.0)
    assert char_bag_prf("가", "") == (0.0, 0.0, 0.0)


def test_char_iou() -> None:
    # intersection {a:1, b:1} = 2; union max counts {a:2, b:2, c:1} = 5; 2 / 5
    assert char_iou("aab", "abbc") == pytest.approx(0.4)
    # intersection {안,녕,하,요} = 4; union {안,녕,하,새,세,요} = 6; 4 / 6
    assert char_iou("안녕하새요", "안녕하세요") == pytest.approx(4 / 6)
    assert char_iou("안녕 하세요", "안녕하세요") == 1.0  # spaces removed
    assert char_iou("", "") == 1.0
    assert char_iou("가", "") == 0.0  # 0 / 1


def test_strip_thinking() -> None:
    assert strip_thinking("<think>a</think>b") == "\nb"
    assert strip_thinking("reasoning</think>answer") == "answer"  # opening tag was in the template
    assert strip_thinking("<think>cut off") is None


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("안녕하세요", "안녕하세요"),
        ("<think>음... 간판을 보자</think>\n안녕하세요", "안녕하세요"),
        ("<think>끝나지 않은 생각", ""),  # the model never answered
        ("분석 중</think>영업중", "영업중"),
        ("```\n서울특별시 중구\n```", "서울특별시 중구"),
        ("```text\n안녕\n반가워\n```", "안녕\n반가워"),  # fence lines go, lines of text stay
        ("이미지의 텍스트는 다음과 같습니다:\n\n카페 봄날", "카페 봄날"),
        ("이미지에 적힌 글자는 다음과 같습니다.\n우리 은행", "우리 은행"),
        ("텍스트: 출입금지", "출입금지"),
        ("이미지에서 읽은 텍스트는: 약국", "약국"),
        ("OCR 결과: 010-1234-5678", "010-1234-5678"),
        ('The text in the image reads: "OPEN 24 HOURS"', "OPEN 24 HOURS"),
        ("Sure! Here is the extracted text:\n```\n대한민국\n```", "대한민국"),
        ("네, 이미지 속 텍스트: 안녕", "안녕"),
        ("텍스트:", "텍스트:"),  # a preamble with nothing after it is kept: it may be the text
        ("영업시간: 10:00~22:00", "영업시간: 10:00~22:00"),  # a colon without a text noun is content
        ("문자 메시지: 안녕", "문자 메시지: 안녕"),  # names "문자" but is not a preamble
        ("“봄날의 카페”", "봄날의 카페"),
        ("「할인 행사」", "할인 행사"),
        ("**주차 금지**", "주차 금지"),
        ('"A" 그리고 "B"', '"A" 그리고 "B"'),  # quotes inside: not one wrapping pair
        ("카페 봄날\n\n이 텍스트는 간판에 적혀 있습니다.", "카페 봄날\n\n이 텍스트는 간판에 적혀 있습니다."),
    ],
)
def test_clean_reading(response: str, expected: str) -> None:
    assert clean_reading(response) == expected
