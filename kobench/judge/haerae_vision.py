"""HAERAE-Vision's scoring rules, as its evaluation code applies them (GitHub HAE-RAE/HAERAE-VISION, commit
0b3614f: engines/litellm_engine.py `run`, utils/prompts.py `strip_reasoning`, utils/evaluate.py
`parse_single_score`, score.py): the judge's score, and the rule stage (a task's `judge.rules:
haerae-vision`, kobench.judge.rules) that hands the judge each pipeline's answer.

- The answer the judge reads: the model's text stripped, then `strip_reasoning` (for each of the tags
  </think>, </thinking>, <think>, <thinking> in turn, what follows its last occurrence), stripped again.
- The judge's score is the one <score>K/N</score> (or <score>x</score>) block of its text: K/N as an exact
  fraction. The published parser gives no score for no block, two or more blocks or N = 0, and score.py
  writes those rows as missing; its summary (merge_scores.ipynb) then averages them in as 0. Here they are
  not verdicts: asked again, then counted as failed and left out of every mean. A value outside 0-1 (more
  items met than there are, or a negative count), which the published parser passes on, is not a verdict
  either.
- An empty answer scores 0 without a judgement: it meets no checklist item (the published pipeline keeps
  the answers in a CSV file and reads them back, and would show the judge the text "nan").
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from kobench.extract.thinking import strip_thinking

VERSION = "1"
PROTOCOL_PARSER = f"haerae-vision-answer@{VERSION}"
KOBENCH_PARSER = f"strip-thinking@{VERSION}"
_REASONING_TAGS = ("</think>", "</thinking>", "<think>", "<thinking>")
_NUMBER = r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)"
_SCORE_BLOCK = re.compile(
    rf"<score>\s*({_NUMBER})\s*(?:/\s*({_NUMBER})\s*)?</score>", re.IGNORECASE | re.DOTALL
)
_MAX_DENOMINATOR = 100000


def judged_answer(text: str) -> str:
    """The response as the published litellm engine hands it to the judge."""
    text = text.strip()
    for tag in _REASONING_TAGS:
        if tag in text:
            text = text.split(tag)[-1].strip()
    return text.strip()


def parse_checklist_score(text: str) -> float | None:
    """The share of checklist items met, 0-1, from the judgement's single <score> block; None when the text
    has no such block, more than one, a zero denominator, or a value outside 0-1."""
    blocks = _SCORE_BLOCK.findall(text)
    if len(blocks) != 1:
        return None
    met, total = blocks[0]
    value = Fraction(met).limit_denominator(_MAX_DENOMINATOR)
    if total:
        denominator = Fraction(total).limit_denominator(_MAX_DENOMINATOR)
        if denominator == 0:
            return None
        value /= denominator
    score = float(value)
    return score if 0.0 <= score <= 1.0 else None


def _verdict(text: str) -> dict[str, Any]:
    if not text:
        why = "empty answer: meets no checklist item, scored 0"
        return {"parsed": None, "judged_text": None, "unjudged": why, "score": 0.0, "decided_by": "empty"}
    return {"parsed": text, "judged_text": text, "decided_by": "judge"}


def score(gold: Any, text: str) -> dict[str, dict[str, Any]]:
    """Both pipelines' answers to one response: the protocol's as the published engine returns it;
    kobench's, the text outside reasoning blocks (strip_thinking), stripped."""
    outside = strip_thinking(text)
    return {
        "protocol": _verdict(judged_answer(text)),
        "kobench": _verdict(outside.strip() if outside is not None else ""),
    }


def missing() -> str | None:
    return None  # nothing beyond kobench itself


# kobench.judge.rules.RuleStages' fields for `judge.rules: haerae-vision`.
RULES = {
    "name": "haerae-vision",
    "version": VERSION,
    "parsers": {"protocol": PROTOCOL_PARSER, "kobench": KOBENCH_PARSER},
    "score": score,
    "missing": missing,
    "packages": lambda: "",
    "breakdown": ("decided_by",),
}
