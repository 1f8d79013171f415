"""HRM8K's answer check as its authors' evaluation code applies it: GitHub gauss5930/HRM8K, commit d5a6fd5
(2025-07-03), src/score.py (`answer_in_last_sentence`, `parse_boxed_value`, `parse_mcqa_value`,
`parse_ksm_value`, `mcqa_formatting`, `parse_boxed_content_value`) as src/check.py calls them for each
subset: the `original` score type, which its README recommends (eval_config.yaml's `math_verify` score
type is not reproduced here).

The rule, per subset (the `subset` column, one of the Hub configs):

- GSM8K, MATH, OMNI_MATH: right if the last number on the output's last line equals the answer, or the
  first `\\boxed{...}` holding only digits and commas (and one decimal part) equals it, by value.
  Numbers are read without a sign and split at thousands separators (`1,234` on the last line reads 234;
  inside a box the commas are dropped), so a negative answer is never matched;
- MMMLU: the answer is an option number; right if the last-line number or the first numeric box equals
  it, or the first box of letters, digits, Hangul and TeX characters is exactly the option's text (the
  question's `\\n<k>. ` line) or the answer as written;
- KSM: an MMMLU question if "1.", "2.", "3." and "4." all occur in it; else the numeric rule when the
  answer reads as a number; else the first such box must be exactly the answer.

Quirks kept as published: both checks of a row run before either is used (check.py's `any([...])`), so
when one raises (a box of only commas, an answer that is no number, an option answer that is neither a
number nor an option's text) the row is an error, counted wrong ("E"); the TeX comparison
`safe_latex_equal` calls itself instead of the sympy comparison it wraps and so is always False (the
recursion error is caught inside it), which leaves exact text equality for boxed contents.

A verdict's `parsed` is what the check read (the box, else the last-line number); a row with neither, or
one the published code raises on, is unparsed and counted, never guessed.
"""

from __future__ import annotations

import re
from typing import Any

VERSION = "1"
PARSER = f"hrm8k-original@{VERSION}"
SUBSETS = ("GSM8K", "MATH", "OMNI_MATH", "MMMLU", "KSM")

_NUMBER = re.compile(r"\d+\.?\d*")  # answer_in_last_sentence: no sign, no thousands separator
_NUMERIC_BOX = re.compile(r"\\boxed\{\s*([\d,]+(?:\.\d+)?)\s*\}")  # parse_boxed_value
_PLAIN_NUMBER = re.compile(r"\d+(\.\d+)?")  # convert_to_int_safe's fullmatch
# parse_boxed_content_value: greedy over a class that holds braces and spaces, so the match runs to the
# last "}" reachable without another character ("\boxed{3} 와 \boxed{4}" holds "3} 와 \boxed{4").
_CONTENT_BOX = re.compile(r"\\boxed\{([a-zA-Z0-9가-힣=+\-*/^_(){}\[\]\\ ]+)\}")
_OPTION_MARKS = ("1.", "2.", "3.", "4.")  # parse_ksm_value's test for a multiple-choice question
_OPTION_NUMBERS = "12345"  # mcqa_formatting reads options "\n1. " to "\n5. "


class PublishedError(ValueError):
    """Where the published check raises (check.py records the row as "E": counted, never right). A
    ValueError, as Python's float() raises there: parse_ksm_value catches those of its numeric rule."""


def _float(value: Any) -> float:
    """Python's float() of a value, as the published code calls it."""
    try:
        return float(value)
    except ValueError as exc:
        raise PublishedError(f"float({value!r}) fails: {exc}") from None


def last_line_number(text: str) -> str | None:
    """The last unsigned number on the last line of the stripped output (None: the line has none)."""
    found = _NUMBER.findall(text.strip().split("\n")[-1])
    return found[-1] if found else None


def last_line_matches(text: str, answer: Any) -> bool:
    """answer_in_last_sentence: float(answer) equals the last number of the last line (the answer is read
    only when the line has a number)."""
    number = last_line_number(text)
    return number is not None and _float(answer) == float(number)


def numeric_box(text: str) -> str | None:
    """What the first numeric box holds, as written (None: no such box)."""
    match = _NUMERIC_BOX.search(text)
    return match.group(1) if match else None


def numeric_box_matches(text: str, answer: Any) -> bool:
    """parse_boxed_value: the first numeric box, commas dropped, equals the answer by value (or its
    float's text equals str(answer)); a box left with no number once its commas go raises."""
    held = numeric_box(text)
    if held is None:
        return False
    cleaned = held.replace(",", "")
    value = _float(cleaned if _PLAIN_NUMBER.fullmatch(cleaned) else held)
    return value == answer or str(value) == str(answer)


def content_box(text: str) -> str | None:
    match = _CONTENT_BOX.search(text)
    return match.group(1) if match else None


def options_of(question: str) -> dict[str, str]:
    """mcqa_formatting's options: for each "\\n<k>. " in the question, the rest of the line after its last
    occurrence, stripped."""
    return {
        k: question.split(f"\n{k}. ")[-1].split("\n")[0].strip()
        for k in _OPTION_NUMBERS
        if f"\n{k}. " in question
    }


def option_answer(question: str, answer: Any) -> tuple[float, Any]:
    """mcqa_formatting: (the option number, the option's text) of the answer, where the answer is a number
    or an option's text; an answer that is neither raises (the published variable is never set)."""
    options = options_of(question)
    try:
        choice = float(answer)
    except (TypeError, ValueError):
        choice = None
    if choice is not None and str(answer) in options:
        return choice, options[str(answer)]
    content = answer
    for number, text in options.items():
        if text == content:
            choice = float(number)
    if choice is None:
        raise PublishedError(f"the answer {answer!r} is neither a number nor an option's text")
    return choice, content


def _numeric_rule(text: str, answer: Any) -> bool:
    # Both run before either is read, as `any([a, b])` evaluates its list.
    by_line = last_line_matches(text, answer)
    by_box = numeric_box_matches(text, answer)
    return by_line or by_box


def _choice_rule(question: str, text: str, answer: Any) -> bool:
    choice, content = option_answer(question, answer)
    by_line = last_line_matches(text, choice)
    by_box = numeric_box_matches(text, choice)
    held = content_box(text)
    return by_line or by_box or (held is not None and str(content) == held)


def is_choice_question(question: str) -> bool:
    return all(mark in question for mark in _OPTION_MARKS)


def published_check(subset: str, question: str, answer: Any, text: str) -> bool:
    """Whether check.py marks the output right ("O"); PublishedError where it records an error."""
    if subset in ("GSM8K", "MATH", "OMNI_MATH"):
        return _numeric_rule(text, answer)
    if subset == "MMMLU" or (subset == "KSM" and is_choice_question(question)):
        return _choice_rule(question, text, answer)
    if subset == "KSM":
        try:  # the numeric rule's own ValueErrors fall through to the box rule, as there
            return _numeric_rule(text, float(answer))
        except ValueError:
            held = content_box(text)
            return held is not None and str(answer) == held
    raise PublishedError(f"subset {subset!r} is none of {', '.join(SUBSETS)}")


def read_answer(subset: str, text: str) -> tuple[str | None, str]:
    """What the check read of the output and where: the box it looks at ("boxed"), else the last-line
    number ("last-line"); (None, "none") where it found neither."""
    boxed = numeric_box(text)
    if boxed is None and subset in ("MMMLU", "KSM"):
        boxed = content_box(text)
    if boxed is not None:
        return boxed, "boxed"
    number = last_line_number(text)
    return (number, "last-line") if number is not None else (None, "none")


def as_pandas_reads(subset: str, answer: Any) -> Any:
    """The answer as the published code holds it: pandas' column of the Hub CSV (read through `datasets`,
    written to CSV and read back). The answers of GSM8K, MATH, OMNI_MATH (numeric answers only, the card
    says) and MMMLU (option numbers) are a numeric column, so a number written as text (a local copy whose
    reader kept a column of mixed ints and decimals as text) is that number: the box rule compares numbers,
    never a number with text. KSM's column mixes numbers and TeX: text, as given. A missing answer is the
    NaN of an empty cell: it equals nothing."""
    if answer is None:
        return float("nan")
    if subset != "KSM" and isinstance(answer, str):
        try:
            return int(answer) if re.fullmatch(r"[-+]?\d+", answer.strip()) else float(answer)
        except ValueError:
            return answer
    return answer


def protocol_verdict(target: dict[str, Any], text: str) -> dict[str, Any]:
    """The protocol pipeline's verdict on one output as generated (the published code reads it as is)."""
    subset, question = str(target.get("subset")), str(target.get("question") or "")
    answer = as_pandas_reads(subset, target.get("answer"))
    try:
        correct = published_check(subset, question, answer, text)
    except PublishedError as exc:
        return {"parsed": None, "correct": 0.0, "found_by": "error", "error": str(exc)}
    parsed, found = read_answer(subset, text)
    return {"parsed": parsed, "correct": float(correct), "found_by": found}
