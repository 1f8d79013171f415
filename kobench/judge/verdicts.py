"""Reading a judge's text. Each parser returns None when the text is not a verdict: the judgement is
then asked again with a fresh call and, after the last attempt, recorded as failed. A -1, a 0 or a guess
never stands in for a verdict."""

from __future__ import annotations

import re

VERDICT_PARSERS_VERSION = "1"

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_SCORE_PREFIX = re.compile(r"^\s*(?:점수|score|평가|rating)\s*[:：]?\s*", re.IGNORECASE)
_ONE_SCORE = re.compile(rf"^({_NUMBER})\s*(?:/\s*10|점)?\s*[.。]?\s*$")
_BINARY = re.compile(r"^\s*[\"'`*]*([01])[\"'`*]*\s*[.。]?\s*$")


def _first_line(text: str) -> str:
    return text.strip().split("\n")[0].strip()


def parse_two_scores(text: str) -> tuple[float, float] | None:
    """K-LLaVA-W (lmms-eval `parse_score`): the first line, commas turned into spaces, is exactly two
    numbers: the reference answer's score, then the model's. lmms-eval splits on single spaces, so
    "8, 9" (two spaces after the comma is replaced) fails there and becomes [-1, -1] in its mean; here
    runs of spaces count as one and an unreadable line is asked again, never averaged."""
    parts = _first_line(text).replace(",", " ").split()
    if len(parts) != 2:
        return None
    try:
        first, second = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not all(0.0 <= v <= 10.0 for v in (first, second)):
        return None
    return first, second


def parse_score_1_10(text: str) -> float | None:
    """A 1-10 score on the first line: "7", "7/10", "점수: 7", "Score: 7.5"."""
    line = _SCORE_PREFIX.sub("", _first_line(text))
    match = _ONE_SCORE.match(line)
    if not match:
        return None
    value = float(match.group(1))
    return value if 1.0 <= value <= 10.0 else None


def parse_binary(text: str) -> int | None:
    """The seed's complex-OCR judge answers "1" (same meaning) or "0" and nothing else; the first line
    must be that digit alone (quotes, emphasis and a final period tolerated)."""
    match = _BINARY.match(_first_line(text))
    return int(match.group(1)) if match else None


def parse_true_false(text: str) -> int | None:
    """KMMMU's judge replies "true" or "false" (eval_tutorial.ipynb reads `content.strip().lower()`
    and counts it right when it starts with "true"). A reply that starts with neither is no verdict here
    (asked again, then failed and counted), where the notebook would count it wrong."""
    lowered = text.strip().lower()
    if lowered.startswith("true"):
        return 1
    return 0 if lowered.startswith("false") else None
