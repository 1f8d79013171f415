"""kobench's reading of a math answer: the final answer a response commits to, and whether it equals the
reference by value. Used by the math family's kobench pipeline (HRM8K), beside the published check.

Final answer, on the response without its reasoning blocks (an unclosed block: no answer, cut off):
1. the last `\\boxed{...}` (or `\\fbox{...}`), braces balanced, so `\\boxed{\\frac{3}{4}}` is kept whole;
2. else the sentence after the last answer cue: "정답은 12입니다", "최종 정답은 12", "답: 12개",
   "The final answer is 12", "Answer: 12" (the copula and final stop left out);
3. else the last number in the response (a sign, thousands separators, a decimal part, `a/b`).
Nothing found is an unparsed answer: scored wrong and counted, never guessed.

Equal by value: TeX that only wraps (`$`, `\\text{}`, `\\left`, `\\,`, `\\dfrac`) is taken off; a number is
read with its unit (kobench.metrics.docvqa.parse_number: `1,234`, `12개`, `50%`, `3만 원`), a fraction
as `\\frac{a}{b}` or `a/b`; two numbers are equal within a relative 1e-9 when their units agree or one side
gives none (the reference's `30분` is answered by `30`, never by `30초`). A reference that is an option
number is also answered by that option's text (the question's `\\n<k>. ` lines) or a circled number.
Anything else (`2\\sqrt{3}`, an interval) is equal when the normalised texts are, or when the given
equivalence says so (the math family passes Math-Verify's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from kobench.extract.thinking import strip_thinking
from kobench.metrics.docvqa import parse_number
from kobench.normalize import drop_spaces, nfkc, strip_final_stops

VERSION = "1"
PARSER = f"kobench-math@{VERSION}"

Equivalence = Callable[[str, str], bool]  # (answer, reference) -> mathematically equal

_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*\{")
_CUE = re.compile(
    r"(?:최종\s*)?(?:정답|답변|답)\s*(?:은|는|:|：|=)"
    r"|(?i:\b(?:the\s+)?(?:final\s+)?answer\s*(?:is\s*:?|:|=))"
)
_SENTENCE_END = re.compile(r"\n|[.。!?](?=\s|$)")
_COPULA = re.compile(r"\s*(?:입니다|이다|이에요|예요|에요|임)$")
_LAST_NUMBER = re.compile(
    r"(?<![\w.,])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?(?![\d])"
)
_TEXT_WRAP = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf|operatorname|mbox)\s*\{([^{}]*)\}")
_FRAC = re.compile(r"^([-−]?)\\frac\{\s*([-−]?[\d.,]+)\s*\}\{\s*([-−]?[\d.,]+)\s*\}(.*)$")
_SLASH = re.compile(r"^([-−]?[\d.,]+)\s*/\s*([-−]?[\d.,]+)(.*)$")
_ASSIGNMENT = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?\s*=\s*")  # "x = 3", "a_n = 5"
_OPTION_LINE = "\n{}. "
_TEX_NOISE = ("\\left", "\\right", "\\,", "\\!", "\\;", "\\:", "\\ ", "$", "\\(", "\\)", "\\[", "\\]")


def last_boxed(text: str) -> str | None:
    """What the last `\\boxed{...}` holds, braces balanced, stripped; None without one (or when it never
    closes: the answer was cut off)."""
    starts = list(_BOX_START.finditer(text))
    if not starts:
        return None
    depth, begin = 1, starts[-1].end()
    for i in range(begin, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[begin:i].strip()
    return None


def _sentence_after(text: str) -> str:
    text = text.strip()
    end = _SENTENCE_END.search(text)
    sentence = text[: end.start()] if end else text
    return _COPULA.sub("", strip_final_stops(sentence.strip())).strip().strip("*").strip()


def final_answer(response: str) -> tuple[str | None, str]:
    """(the final answer, where it was found: boxed / answer-sentence / last-number), or (None, "none"),
    or (None, "cut-off") when a reasoning block never closes."""
    text = strip_thinking(response)
    if text is None:
        return None, "cut-off"
    boxed = last_boxed(text)
    if boxed:
        return boxed, "boxed"
    cues = list(_CUE.finditer(text))
    if cues:
        sentence = _sentence_after(text[cues[-1].end() :])
        if sentence:
            return sentence, "answer-sentence"
    numbers = _LAST_NUMBER.findall(text)
    if numbers:
        return numbers[-1], "last-number"
    return None, "none"


def plain(answer: str) -> str:
    """The answer without TeX that only wraps, NFKC-folded, \\dfrac as \\frac, degrees and percent signs as
    text, a final stop and a leading `x =` left out."""
    text = nfkc(answer)
    for _ in range(2):  # \text{\textbf{...}}
        text = _TEXT_WRAP.sub(r"\1", text)
    for noise in _TEX_NOISE:
        text = text.replace(noise, "")
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = text.replace("^{\\circ}", "°").replace("^\\circ", "°").replace("\\%", "%")
    text = _ASSIGNMENT.sub("", strip_final_stops(text.strip()))
    return text.strip()


def _number(text: str) -> float | None:
    parsed = parse_number(text)
    return parsed[0] if parsed and not parsed[1] else None


def value_of(answer: str) -> tuple[float, str] | None:
    """(value, unit) of an answer that is one number (or one fraction of two numbers) with an optional
    unit; None otherwise."""
    text = plain(answer)
    frac, slash = _FRAC.match(text), _SLASH.match(text)
    if frac:
        sign, top, bottom, rest = frac.groups()
    elif slash:
        (top, bottom, rest), sign = slash.groups(), ""
    else:
        return parse_number(text)
    unit = parse_number("0" + rest) if rest.strip() else (0.0, "")  # "\frac{1}{2} cm": the unit alone
    numerator, denominator = _number(top), _number(bottom)
    if numerator is None or not denominator or unit is None or unit[0] != 0.0:
        return None
    value = numerator / denominator
    return (-value if sign else value), unit[1]


def _same_number(a: tuple[float, str], b: tuple[float, str]) -> bool:
    units = a[1] == b[1] or not a[1] or not b[1]
    return units and math.isclose(a[0], b[0], rel_tol=1e-9, abs_tol=1e-12)


def _option_number(answer: str, question: str) -> str | None:
    """The number of the option whose text the answer is (the question's "\\n<k>. text" lines)."""
    wanted = drop_spaces(plain(answer))
    for number in "123456789":
        marker = _OPTION_LINE.format(number)
        if marker in question:
            text = question.split(marker)[-1].split("\n")[0]
            if wanted and drop_spaces(plain(text)) == wanted:
                return number
    return None


def same_answer(
    answer: str, reference: Any, question: str = "", equivalent: Equivalence | None = None
) -> bool:
    """Whether the answer equals the reference by value (see the module docstring)."""
    gold = plain(str(reference))
    gold_value = value_of(gold)
    mine = value_of(answer)
    if mine is None and gold_value is not None and question:
        option = _option_number(answer, question)
        mine = value_of(option) if option else None
    if mine is not None and gold_value is not None:
        return _same_number(mine, gold_value)
    if drop_spaces(plain(answer)) == drop_spaces(gold):
        return True
    return bool(equivalent and gold and plain(answer) and equivalent(plain(answer), gold))


def kobench_verdict(
    target: dict[str, Any], response: str, equivalent: Equivalence | None = None
) -> dict[str, Any]:
    """The kobench pipeline's verdict: the final answer, where it was found, and whether it is right."""
    answer, found = final_answer(response)
    if answer is None:
        return {"parsed": None, "correct": 0.0, "found_by": found}
    reference = target.get("answer")
    right = reference is not None and same_answer(
        answer, reference, str(target.get("question") or ""), equivalent
    )
    return {"parsed": answer, "correct": float(right), "found_by": found}
