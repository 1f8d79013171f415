"""Korean text normalisation: the small, named steps that metrics and extractors compose.

Each call site picks its own steps, and the choice is part of what it measures, so the steps stay
separate rather than one "normalise" that does everything:

- `nfc` for text that is compared as written (readings, captions, generated labels): a syllable typed
  as conjoining jamo (U+1100 ᄀ + U+1161 ᅡ) becomes the precomposed one (가), nothing else changes;
- `nfkc` for answers that are compared by meaning (short answers, options, numbers, OCR matches):
  also full-width forms to ASCII (Ｂ -> B, ３ -> 3, ？ -> ?) and circled numbers to digits (② -> 2);
- `collapse_spaces` or `drop_spaces` for whitespace, which Korean writers space inconsistently;
- `fold_single_quotes` and the `QUOTE_PAIRS` / `WRAPPER_PAIRS` tables for quotation marks.

Case is left to the caller: some sites lower-case (`str.lower`), others case-fold (`str.casefold`,
which also turns ß into ss), and the two are not interchangeable without changing scores.
"""

from __future__ import annotations

import re
import unicodedata

# Quotation marks and corner brackets that wrap a quoted answer, caption or reading, as
# (opening, closing): straight, curly double, curly single, 「」 and 『』.
QUOTE_PAIRS = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("「", "」"), ("『", "』"))
# The same with backticks: what may wrap a short answer or a reading (`서울`).
WRAPPER_PAIRS = (*QUOTE_PAIRS, ("`", "`"))

# Sentence stops (. 。 ! ?) and whitespace at the end of a text.
_FINAL_STOPS = re.compile(r"[\s.。!?]+$")


def nfc(text: str) -> str:
    """Canonical composition (NFC): conjoining jamo to precomposed syllables, full-width forms kept."""
    return unicodedata.normalize("NFC", text)


def nfkc(text: str) -> str:
    """Compatibility composition (NFKC): NFC, and also full-width letters, digits and punctuation to
    ASCII (Ｂ -> B), circled numbers to digits (② -> 2), the ideographic space to a space."""
    return unicodedata.normalize("NFKC", text)


def collapse_spaces(text: str) -> str:
    """Each run of whitespace (newlines, tabs, U+3000 and no-break spaces included) to one space, stripped.

    Whitespace is what `str.split()` splits on, which is exactly what `\\s` matches in a `re` pattern.
    """
    return " ".join(text.split())


def drop_spaces(text: str) -> str:
    """Every whitespace character removed ("서울 특별시" -> "서울특별시")."""
    return "".join(text.split())


def strip_final_stops(text: str) -> str:
    """Trailing sentence stops (. 。 ! ?) and whitespace removed, in any mix ("서울 . " -> "서울")."""
    return _FINAL_STOPS.sub("", text)


def fold_single_quotes(text: str) -> str:
    """Curly single quotes (‘ and ’) to the straight apostrophe ', so "it’s" reads as "it's"."""
    return text.replace("’", "'").replace("‘", "'")
