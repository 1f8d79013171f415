"""KOFFVQA's scoring rules, as its evaluation code applies them (GitHub maum-ai/KOFFVQA, commit c6a861d:
evaluate.py `evaluate`, src/utils.py `parse_score`): the judge's score, and the rule stage (a task's
`judge.rules: koffvqa`, kobench.judge.rules) that scores non-Korean answers 0 before any judge sees them.

- The judge's score is the last number in its text (0-10). Where the published parser falls back to 0 (no
  number at all, a last number above 10, digits `int()` cannot read such as ① or ²), that 0 is not a
  verdict: here the judgement is asked again and, after the last attempt, counted as failed (left out of
  every mean), never averaged in as 0.
- An answer counts only if it is Korean: py3langid's `classify` says "ko", or every character is a digit,
  ASCII punctuation or whitespace (answers that are only numbers). Any other answer scores 0, whatever the
  judge said; it needs no judgement. py3langid's model is part of the rule: version 0.3 (June 2024) is the
  one the published numbers were made with (0.4 ships another model), and the version is in every
  signature.
"""

from __future__ import annotations

import string
from importlib import metadata
from typing import Any

from kobench.extract.thinking import strip_thinking

VERSION = "1"
PROTOCOL_PARSER = f"koffvqa-langid@{VERSION}"
KOBENCH_PARSER = f"strip-thinking+koffvqa-langid@{VERSION}"
_NUMBERS_AND_PUNCTUATION = frozenset(string.punctuation + string.whitespace)


def _last_digit_run(word: str) -> str:
    """The last run of characters that are digits to str.isdigit (as the published loop reads a word from
    its end: non-digits skipped until a digit, digits taken until the next non-digit)."""
    end = len(word)
    while end > 0 and not word[end - 1].isdigit():
        end -= 1
    start = end
    while start > 0 and word[start - 1].isdigit():
        start -= 1
    return word[start:end]


def parse_koffvqa_score(text: str) -> int | None:
    """The score of a KOFFVQA judgement: in the last whitespace-separated word that holds a digit, its last
    run of digits, as an int 0-10 ("최종 점수: 10점 만점에 7점" -> 7; "7/10" -> 10, as published).
    None where the published parser returns its fallback 0: no digit in the text, a number above 10, or
    digits that int() cannot read."""
    for word in reversed(text.split()):
        digits = _last_digit_run(word)
        if not digits:
            continue
        try:
            value = int(digits)
        except ValueError:
            return None
        return value if value <= 10 else None
    return None


def _only_numbers_and_punctuation(text: str) -> bool:
    return all(c.isdigit() or c in _NUMBERS_AND_PUNCTUATION for c in text)


def langid_version() -> str | None:
    """The installed py3langid's version (its model decides which answers are Korean), None if none is."""
    try:
        return metadata.version("py3langid")
    except metadata.PackageNotFoundError:
        return None


def missing() -> str | None:
    """Why KOFFVQA answers cannot be scored here (py3langid not installed), or None."""
    if langid_version() is None:
        return (
            "KOFFVQA scores non-Korean answers 0 with py3langid's language identifier: "
            "pip install 'py3langid>=0.3,<0.4' (0.3 is the version the published numbers were made with)"
        )
    return None


def is_korean_answer(text: str) -> bool:
    """Whether KOFFVQA counts the answer (evaluate.py): py3langid classifies it as "ko", or it is only
    digits, punctuation and whitespace (the empty text included, as there)."""
    import py3langid

    return py3langid.classify(text)[0] == "ko" or _only_numbers_and_punctuation(text)


def _verdict(text: str) -> dict[str, Any]:
    """One pipeline's answer: 0 without a judgement when KOFFVQA does not count it, else to be judged. An
    empty answer scores 0: the published pipeline keeps the answers in an .xlsx file and reads them back,
    where an empty one becomes NaN, the text "nan", which is not Korean."""
    if text == "":
        why, stage = "empty answer: scored 0", "empty"
    elif not is_korean_answer(text):
        why, stage = "not Korean (KOFFVQA's language rule, py3langid): scored 0", "not-korean"
    else:
        return {"parsed": text, "judged_text": text, "decided_by": "judge"}
    return {
        "parsed": None,
        "judged_text": None,
        "unjudged": why,
        "score": 0.0,
        "raw_score": None,
        "decided_by": stage,
    }


def score(gold: Any, text: str) -> dict[str, dict[str, Any]]:
    """Both pipelines' verdicts on one answer. The protocol judges the answer as generated (evaluate.py
    formats it into the judge prompt unchanged); kobench, its text outside reasoning blocks, stripped."""
    outside = strip_thinking(text)
    return {"protocol": _verdict(text), "kobench": _verdict(outside.strip() if outside is not None else "")}


def packages() -> str:
    return f"py3langid-{langid_version() or 'missing'}"


# kobench.judge.rules.RuleStages' fields for `judge.rules: koffvqa`; results count what decided each row.
RULES = {
    "name": "koffvqa",
    "version": VERSION,
    "parsers": {"protocol": PROTOCOL_PARSER, "kobench": KOBENCH_PARSER},
    "score": score,
    "missing": missing,
    "packages": packages,
    "breakdown": ("decided_by",),
}
