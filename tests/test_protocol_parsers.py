"""The published parsers, checked against what the published code would score (worked by hand)."""

from __future__ import annotations

import pytest

from kobench.extract.protocol import exact_letter, first_char, mmbench_heuristic, mmstar_original

ABCD = [("A", "사과"), ("B", "배"), ("C", "포도"), ("D", "귤")]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("B", "B"),
        ("  b", "B"),
        ("B. 배", "B"),
        ("(B)", None),  # "(" is the first character
        ("정답은 B입니다", None),  # the anchors' known weakness: first character is 정
        ("", None),
        ("E", None),
        ("Answer: B", "A"),  # 'A' of "Answer" is credited as option A
    ],
)
def test_first_char(response: str, expected: str | None) -> None:
    assert first_char(response, ABCD) == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("C", "C"),
        ("(c) 포도", "C"),
        ("옵션 D", "D"),
        ("정답은 B", "B"),
        ("정답은 (B)", None),
        ("\n\n  a", "A"),
        ("정답: B", None),
        ("옵션B", None),
        ("", None),
    ],
)
def test_mmstar_original(response: str, expected: str | None) -> None:
    assert mmstar_original(response, ABCD) == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("B", "B"),
        ("The answer is B.", "B"),  # one token "B." among the affixed forms
        ("A", "A"),
        ("A cat is on the mat", None),  # "A" with more than 3 tokens: maybe an article; then no affix match
        ("I think (C) is right", "C"),
        ("B or C", None),  # two bare letters
        ("정답은 포도입니다", "C"),  # option text contained in the answer
        ("배와 포도", None),  # two option texts
        ("Failed to obtain answer via API", None),
    ],
)
def test_mmbench_heuristic(response: str, expected: str | None) -> None:
    assert mmbench_heuristic(response, ABCD) == expected


@pytest.mark.parametrize(
    ("response", "expected"), [("A", "A"), (" D\n", "D"), ("A.", None), ("a", None), ("AB", None)]
)
def test_exact_letter(response: str, expected: str | None) -> None:
    assert exact_letter(response, ABCD) == expected
