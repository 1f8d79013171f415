"""Ko-MT-Bench's scoring rules, as LG AI Research's evaluation code applies them (GitHub
LG-AI-EXAONE/KoMT-Bench, commit 56d4f3a, FastChat/fastchat/llm_judge/): the judge's rating (common.py
`run_judge_single`), and the rule stage (`judge.rules: ko-mt-bench`, kobench.judge.rules) that applies the
language penalty of data/mt_bench/model_judgment/detector.py to each judged rating.

- The rating is the first `[[x]]` in the judgement, else the first `[x]` (x: digits, an optional point and
  decimals), read with ast.literal_eval. Where FastChat records -1 (no such bracket), its show_result.py
  leaves the row out; here that is a failed judgement: asked again, then counted and left out, the same
  outcome. Two differences, both judgements FastChat cannot use: a rating with a leading zero ("[[07]]")
  makes literal_eval raise, which stops gen_judgment.py; a rating outside 1-10 ("[[0]]", "[[15]]"), which
  FastChat would average in, is no rating of the scale the prompt asks for. Both are failed judgements.
- The penalty: a rating becomes its square root when the answer is not Korean, except for questions 138
  and 140 (their answers are JSON, rightly not Korean). The published detector is MediaPipe's
  language_detector.tflite, a model downloaded from Google's storage, which kobench cannot fetch; it stands
  in py3langid's `classify` (the language identifier KOFFVQA's rule uses), and the signature names it
  (rules:ko-mt-bench@1(py3langid-...)). The unpenalised mean (FastChat's `_single.jsonl`) is the
  `judge_score` metric beside it; the penalised one (`_single_final.jsonl`, the README's default) is
  `mt_bench_score`.
"""

from __future__ import annotations

import ast
import math
import re
from importlib import metadata
from typing import Any

from kobench.extract.thinking import strip_thinking

VERSION = "1"
PROTOCOL_PARSER = f"komt-bench@{VERSION}"
KOBENCH_PARSER = f"strip-thinking+komt-bench@{VERSION}"
# common.py one_score_pattern and one_score_pattern_backup
_RATING = re.compile(r"\[\[(\d+\.?\d*)\]\]")
_RATING_BACKUP = re.compile(r"\[(\d+\.?\d*)\]")
# detector.py: "q_id != 138 and q_id != 140"
PENALTY_EXEMPT = frozenset({138, 140})


def parse_mt_bench_rating(text: str) -> float | None:
    """The judgement's rating, 1-10 (see the module docstring); None when it has none."""
    match = _RATING.search(text) or _RATING_BACKUP.search(text)
    if match is None:
        return None
    try:
        rating = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return None
    return float(rating) if 1 <= rating <= 10 else None


def langid_version() -> str | None:
    try:
        return metadata.version("py3langid")
    except metadata.PackageNotFoundError:
        return None


def language(text: str) -> str:
    """The answer's language as py3langid classifies it (standing in for MediaPipe's detector)."""
    import py3langid

    return str(py3langid.classify(text)[0])


def _verdict(text: str) -> dict[str, Any]:
    # Every answer is judged, an empty one too (FastChat does): `parsed` None only counts it.
    return {"parsed": text or None, "judged_text": text, "language": language(text)}


def score(gold: Any, text: str) -> dict[str, dict[str, Any]]:
    """Both pipelines' answers to the judge: the protocol's as generated, stripped (gen_model_answer.py
    keeps `output.strip()`); kobench's, the text outside reasoning blocks, stripped."""
    outside = strip_thinking(text)
    return {"protocol": _verdict(text.strip()), "kobench": _verdict(outside.strip() if outside else "")}


def penalised(target: dict[str, Any], verdict: dict[str, Any]) -> dict[str, Any]:
    """detector.py's penalty on one judged rating: its square root for an answer that is not Korean."""
    rating = verdict["raw_score"]
    exempt = target.get("question_id") in PENALTY_EXEMPT
    penalty = verdict.get("language") != "ko" and not exempt
    return {"mt_bench_score": (math.sqrt(rating) if penalty else rating) / 10.0, "language_penalty": penalty}


def missing() -> str | None:
    if langid_version() is None:
        return (
            "Ko-MT-Bench's language penalty needs a language identifier: pip install 'py3langid>=0.3,<0.4' "
            "(or kobench[protocols])"
        )
    return None


# kobench.judge.rules.RuleStages' fields for `judge.rules: ko-mt-bench`.
RULES = {
    "name": "ko-mt-bench",
    "version": VERSION,
    "parsers": {"protocol": PROTOCOL_PARSER, "kobench": KOBENCH_PARSER},
    "score": score,
    "missing": missing,
    "packages": lambda: f"py3langid-{langid_version() or 'missing'}",
    "breakdown": ("language",),
    "after_judge": penalised,
    "metrics": (("mt_bench_score", "mt_bench_score"),),
}
