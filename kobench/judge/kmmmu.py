"""KMMMU's answer check, stage by stage: the boxed answer, then mathematical equivalence (Math-Verify),
then the LLM judge for every answer the first two did not accept.

The published code (HAE-RAE/KMMMU) asks for the final answer as `$\\boxed{ANSWER}$` (kmmmu_utils.py
SYSTEM_PROMPT), parses every output with Math-Verify's `parse` (eval_tutorial.ipynb section 6) and sends
(question, gold, raw output, `str(parse(output))`) to the judge (section 7). Its earlier guideline notebook
(kmmmu_eval_guideline.ipynb, commit f27cc82) extracted the boxed answer itself: the last non-greedy
`\\boxed\\{(.+?)\\}` match, stripped, a lone circled number (① to ⑩) turned into its digit. The stages
here only ever accept an answer: what they do not accept goes to the judge, so a stage can spare a judge
call but never mark an answer wrong. (The tutorial itself judges every answer; the order of the stages,
boxed answer, then equivalence, then the judge for the rest, is the benchmark's described answer check,
which no published code spells out: the results count the rows each stage decided, `decided_by`.)

Protocol pipeline, on the output as written:
1. `boxed`: the guideline's boxed answer equals the gold answer (both stripped);
2. `math`: the output holds a boxed answer and Math-Verify's `verify(parse("$" + gold + "$"),
   parse(output))` holds (the gold inside `$...$`, as Math-Verify parses a reference: bare, "1, 3" would
   read as 3);
3. `judge`: everything else, with the published judge messages.
The kobench pipeline does the same on the output without its reasoning blocks, with the last balanced
`\\boxed{...}` (a `\\frac{3}{4}` inside is kept whole) compared after NFKC and with spaces, `\\text{}`,
`$`, a final stop, one pair of enclosing parentheses and a trailing 번 left out on both sides; its
stage 2 parses that boxed answer alone.

Math-Verify (PyPI `math-verify`; 0.9.0, January 2026, was the newest when the tutorial was published) is
imported only here and only when a KMMMU answer is scored; its signal-based timeouts work only in the main
thread, so elsewhere they are off (the package's own advice). Its version is in every signature.
"""

from __future__ import annotations

import re
import threading
from importlib import metadata
from typing import Any

from kobench.extract.thinking import strip_thinking
from kobench.normalize import drop_spaces, nfkc, strip_final_stops

VERSION = "1"
PROTOCOL_PARSER = f"kmmmu-boxed-mathverify@{VERSION}"
KOBENCH_PARSER = f"kmmmu-boxed-mathverify-kobench@{VERSION}"
STAGES = ("boxed", "math", "judge")
# Why an answer needs no judgement (the verdict's `unjudged`): a stage accepted it.
ACCEPTED = {
    "boxed": "accepted by the boxed-answer stage (it equals the gold answer)",
    "math": "accepted by the Math-Verify stage (mathematically equivalent to the gold answer)",
}

# kmmmu_eval_guideline.ipynb parse_answer: BOX_RE and CIRCLED_NUM.
_GUIDELINE_BOX = re.compile(r"\\boxed\{(.+?)\}", re.DOTALL)
CIRCLED = {c: str(n) for n, c in enumerate("①②③④⑤⑥⑦⑧⑨⑩", start=1)}

_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*\{")
_TEXT_WRAP = re.compile(r"\\(?:text|textbf|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}")
_NUMBER_BEON = re.compile(r"^(\d+)번$")


def guideline_boxed(text: str) -> str | None:
    """The guideline notebook's boxed answer: the last `\\boxed{(.+?)}` match, stripped, a lone circled
    number as its digit; None where the text has no match (the notebook's "")."""
    found = _GUIDELINE_BOX.findall(text)
    if not found:
        return None
    answer = found[-1].strip()
    return CIRCLED.get(answer, answer)


def last_boxed(text: str) -> str | None:
    """What the last `\\boxed{...}` (or `\\fbox{...}`) holds, braces balanced, stripped; None where there is
    no box or the last one never closes (an answer cut off)."""
    starts = list(_BOX_START.finditer(text))
    if not starts:
        return None
    begin = starts[-1].end()
    depth = 1
    for i in range(begin, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[begin:i].strip()
    return None


def comparable(answer: str) -> str:
    """kobench's comparison form of a boxed or gold answer (the same rules on both sides)."""
    text = nfkc(answer)  # ① -> 1, full-width forms to ASCII
    for _ in range(2):  # \text{\textbf{...}}
        text = _TEXT_WRAP.sub(r"\1", text)
    text = strip_final_stops(drop_spaces(text.replace("$", "")))
    if len(text) > 2 and text[0] == "(" and text[-1] == ")" and "(" not in text[1:-1]:
        text = text[1:-1]
    return _NUMBER_BEON.sub(r"\1", text)


def math_verify_version() -> str | None:
    """The installed math-verify's version, None when it is not installed."""
    try:
        return metadata.version("math-verify")
    except metadata.PackageNotFoundError:
        return None


def _timeout() -> int | None:
    # Math-Verify's default timeouts (5 s) use signal.alarm, which only the main thread may set.
    return 5 if threading.current_thread() is threading.main_thread() else None


def mv_parse(text: str) -> list[Any]:
    """Math-Verify's `parse` with its defaults (the tutorial's call)."""
    from math_verify import parse

    return parse(text, parsing_timeout=_timeout())


def mv_equivalent(gold: str, parsed: list[Any]) -> bool:
    """Math-Verify's `verify` of a parsed answer against the gold answer read as LaTeX (`$gold$`)."""
    from math_verify import verify

    reference = mv_parse(f"${gold}$")
    return bool(reference and parsed) and verify(reference, parsed, timeout_seconds=_timeout())


def _verdict(text: str, box: str | None, stage: str, parsed_output: list[Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "parsed": box if box is not None else (text.strip() or None),
        "boxed": box is not None,
        "decided_by": stage,
    }
    if stage == "judge":
        shown = str(parsed_output if parsed_output is not None else mv_parse(text))
        return {**out, "judged_text": text, "judge_variables": {"math_verify_parse": shown}}
    return {**out, "judged_text": text, "unjudged": ACCEPTED[stage], "correct": 1.0}


def protocol_verdict(gold: Any, text: str) -> dict[str, Any]:
    """The published pipeline's stage for one output as written (the judge sees it unstripped)."""
    reference = str(gold).strip()
    box = guideline_boxed(text)
    if box and box == reference:
        return _verdict(text, box, "boxed", None)
    parsed = mv_parse(text)
    if box is not None and mv_equivalent(reference, parsed):
        return _verdict(text, box, "math", None)
    return _verdict(text, box, "judge", parsed)


def kobench_verdict(gold: Any, text: str) -> dict[str, Any]:
    """kobench's pipeline: the output without reasoning blocks, the balanced last box, compared leniently."""
    answer = strip_thinking(text)
    answer = answer.strip() if answer is not None else ""
    reference = str(gold).strip()
    box = last_boxed(answer)
    if box is not None and comparable(box) and comparable(box) == comparable(reference):
        return _verdict(answer, box, "boxed", None)
    if box is not None and mv_equivalent(reference, mv_parse(f"$\\boxed{{{box}}}$")):
        return _verdict(answer, box, "math", None)
    return _verdict(answer, box, "judge", None)


def score(gold: Any, text: str) -> dict[str, dict[str, Any]]:
    return {"protocol": protocol_verdict(gold, text), "kobench": kobench_verdict(gold, text)}


def missing() -> str | None:
    """Why KMMMU answers cannot be checked here (math-verify not installed), or None."""
    if math_verify_version() is None:
        return "the KMMMU answer check needs Math-Verify: pip install 'math-verify>=0.9'"
    return None
