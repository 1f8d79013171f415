"""kobench.normalize against outputs worked out by hand from the Unicode tables (code points spelled out)."""

from __future__ import annotations

import re
import sys

import pytest

from kobench.normalize import (
    QUOTE_PAIRS,
    WRAPPER_PAIRS,
    collapse_spaces,
    drop_spaces,
    fold_single_quotes,
    nfc,
    nfkc,
    strip_final_stops,
)

# U+1100 HANGUL CHOSEONG KIYEOK + U+1161 JUNGSEONG A + U+11A8 JONGSEONG KIYEOK: 각 typed as jamo.
JAMO_GAK = "\u1100\u1161\u11a8"
GAK = "\uac01"  # 각, precomposed


def test_nfc_composes_conjoining_jamo() -> None:
    assert nfc(JAMO_GAK) == GAK
    assert nfc("\u1100\u1161") == "\uac00"  # ᄀ + ᅡ -> 가
    assert nfc(GAK) == GAK  # already composed: unchanged


def test_nfc_keeps_compatibility_forms() -> None:
    assert nfc("Ｂ") == "\uff22"  # full-width B stays full-width
    assert nfc("②") == "\u2461"  # circled two stays circled
    assert nfc("\u3131\u314f") == "\u3131\u314f"  # compatibility jamo ㄱ ㅏ are not conjoining: kept
    assert nfc("“서울”") == "\u201c서울\u201d"  # curly quotes are untouched


def test_nfkc_folds_compatibility_forms() -> None:
    assert nfkc("Ｂ") == "B"  # U+FF22 -> U+0042
    assert nfkc("ＡＢＣ１２３？") == "ABC123?"
    assert nfkc("②") == "2"  # U+2461 -> U+0032
    assert nfkc("１，２３４원") == "1,234원"  # full-width digits and comma; Hangul unchanged
    assert nfkc("㈜") == "(주)"  # U+321C parenthesised 주
    assert nfkc("\u3000") == " "  # ideographic space -> space
    assert nfkc(JAMO_GAK) == GAK  # NFKC composes too
    assert nfkc("\u3131\u314f") == "\uac00"  # ㄱ ㅏ -> conjoining ᄀ ᅡ -> 가
    assert nfkc("“서울”") == "\u201c서울\u201d"  # curly quotes have no compatibility mapping
    assert nfkc("ß") == "ß"  # case is not touched


def test_lower_and_casefold_differ() -> None:
    # Why call sites keep their own choice: casefold changes what lower() keeps.
    assert nfkc("ẞ").lower() == "ß"
    assert nfkc("ẞ").casefold() == "ss"


def test_collapse_spaces() -> None:
    assert collapse_spaces("  안녕\n\n 하세요\t") == "안녕 하세요"
    assert collapse_spaces("a\u3000b\u00a0c\u2009d") == "a b c d"  # ideographic, no-break, thin spaces
    assert collapse_spaces(" \n\t ") == ""
    assert collapse_spaces("") == ""


def test_collapse_spaces_equals_the_regex_form() -> None:
    # Call sites used to write either `re.sub(r"\s+", " ", s).strip()` or `" ".join(s.split())`; the two
    # agree because `\s` and str.split() know the same 29 whitespace characters.
    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if re.fullmatch(r"\s", c)]
    assert len(spaces) == 29
    assert all(c.isspace() for c in spaces)
    text = "x" + "".join(spaces) + "y" + "".join(f"{c}z" for c in spaces) + "".join(spaces)
    assert collapse_spaces(text) == re.sub(r"\s+", " ", text).strip() == "x y" + " z" * 29


def test_drop_spaces() -> None:
    assert drop_spaces("서울 특별시") == "서울특별시"
    assert drop_spaces(" 3\u3000개\n") == "3개"
    assert drop_spaces("") == ""


def test_strip_final_stops() -> None:
    assert strip_final_stops("서울 . ") == "서울"
    assert strip_final_stops("서울입니다。") == "서울입니다"  # U+3002 ideographic full stop
    assert strip_final_stops("정말?!") == "정말"
    assert strip_final_stops("  3.5") == "  3.5"  # only the end; a decimal point inside stays
    assert strip_final_stops("끝…") == "끝…"  # an ellipsis is not a stop here
    assert strip_final_stops("...") == ""


def test_fold_single_quotes() -> None:
    assert fold_single_quotes("it\u2019s") == "it's"
    assert fold_single_quotes("\u2018B\u2019") == "'B'"
    assert fold_single_quotes("\u201cB\u201d") == "\u201cB\u201d"  # double curly quotes are left alone


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (QUOTE_PAIRS, ['""', "''", "\u201c\u201d", "\u2018\u2019", "\u300c\u300d", "\u300e\u300f"]),
        (WRAPPER_PAIRS, ['""', "''", "\u201c\u201d", "\u2018\u2019", "\u300c\u300d", "\u300e\u300f", "``"]),
    ],
)
def test_quote_tables(pairs: tuple[tuple[str, str], ...], expected: list[str]) -> None:
    assert [opening + closing for opening, closing in pairs] == expected
