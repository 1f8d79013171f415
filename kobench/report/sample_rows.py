"""The sample browser's rows: each line of a results folder's samples/<task>.jsonl as the HTML report shows
it: the question once per row, and per model its answer, what each pipeline parsed and scored, and the
row's verdict (correct / partial / wrong / unparsed / failed), with truncation (an answer cut off at
max_new_tokens) as a flag beside it.

The lines are read as plain JSON (every key kobench ever wrote, unknown keys ignored), so samples written
by any kobench version show. A verdict is the task's primary metric field in that pipeline, read against
the task's direction: full marks (1 where higher is better, 0 where lower is) is correct, the other end
wrong, anything between partial (ANLS 0.8, a CER of 0.1); an answer with no score of its own (a judgement
that failed, left out of the task's mean) is "unscored".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kobench.data.formats import json_lines
from kobench.families import FAMILIES, primary_metric
from kobench.families.base import metrics_of
from kobench.results import PIPELINES, TaskResult
from kobench.tasks.spec import TaskSpec

VERDICTS = ("correct", "partial", "wrong", "unparsed", "failed", "unscored")
MAX_TEXT_CHARS = 4000  # a prompt, answer or judgement longer than this shows its head and tail
HEAD_CHARS = 600  # of them, the head (few-shot prompts: the question is at the end)


@dataclass(frozen=True)
class Sample:
    """One row of one model: what the browser shows of it."""

    id: str
    index: int
    prompt: str
    target: str
    fields: dict[str, str]
    answer: dict[str, Any]  # the compact form the page's script reads (see `answer_of`)


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """`text` as it is, or its head and tail with how much was left out between them."""
    if len(text) <= limit:
        return text
    tail = limit - HEAD_CHARS
    left = len(text) - HEAD_CHARS - tail
    gap = f"[… {left:,} characters left out; the samples file has them all …]"
    return f"{text[:HEAD_CHARS]}\n{gap}\n{text[-tail:]}"


def shown(value: Any) -> str:
    """A target or parsed answer as text: strings as they are, lists of strings one per line, anything
    else (a box, a dict) as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def primary_field(result: TaskResult, spec: TaskSpec | None) -> str | None:
    """The sample field that holds the task's primary metric (`score` for accuracy, `cer` for CER, ...):
    from the task's own spec where it is known here, else from its family's fixed metrics."""
    family = FAMILIES.get(result.family)
    if family is None:
        return None
    metrics = metrics_of(family, spec) if spec is not None else tuple(getattr(family, "metrics", ()))
    name = primary_metric(spec) if spec is not None else result.primary_metric
    return next((m.field for m in metrics if m.name == name), None)


def verdict(record: Mapping[str, Any], pipeline: str, score: float | None, direction: str) -> str:
    if record.get("status") == "failed":
        return "failed"
    if (record.get(pipeline) or {}).get("parsed") is None:
        return "unparsed"
    if score is None:
        return "unscored"
    best, worst = (1.0, 0.0) if direction == "higher" else (0.0, 1.0)
    if (score >= best) if direction == "higher" else (score <= best):
        return "correct"
    if (score <= worst) if direction == "higher" else (score >= worst):
        return "wrong"
    return "partial"


def _score(record: Mapping[str, Any], pipeline: str, field: str | None) -> float | None:
    view = record.get(pipeline) or {}
    value = view.get(field) if field else None
    if value is None and pipeline == "kobench":
        value = record.get("score")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _judgement(record: Mapping[str, Any], pipeline: str) -> str | None:
    judgement = (record.get(pipeline) or {}).get("judgement")
    if not isinstance(judgement, Mapping):
        return None
    text = judgement.get("text") or ""
    if judgement.get("status") == "failed":
        text = f"[judgement failed: {judgement.get('reason') or 'no reason recorded'}]\n{text}"
    return clip(text.strip()) or None


def answer_of(record: Mapping[str, Any], field: str | None, direction: str) -> dict[str, Any]:
    """The row as the page's script reads it: `a` the answer, `k` / `q` the kobench / protocol pipeline's
    [parsed, score, verdict], `t` truncated, `e` why the row failed, `j` / `jq` the judge's text (the
    protocol's only where it differs), `fr` the finish reason."""
    out: dict[str, Any] = {"a": clip(record.get("prediction") or "")}
    for pipeline, key in zip(PIPELINES, ("q", "k"), strict=True):
        score = _score(record, pipeline, field)
        parsed = (record.get(pipeline) or {}).get("parsed")
        out[key] = [
            clip(shown(parsed)) if parsed is not None else None,
            score,
            verdict(record, pipeline, score, direction),
        ]
    if record.get("finish_reason") == "length":
        out["t"] = 1
    if record.get("finish_reason"):
        out["fr"] = record["finish_reason"]
    if record.get("error"):
        out["e"] = clip(str(record["error"]))
    judged = _judgement(record, "kobench")
    protocol = _judgement(record, "protocol")
    if judged:
        out["j"] = judged
    if protocol and protocol != judged:
        out["jq"] = protocol
    return out


def _target(record: Mapping[str, Any]) -> str:
    """A letter target with its option's text ("B. 파란색"), anything else as `shown` writes it."""
    target, options = record.get("target"), record.get("options") or {}
    if isinstance(target, str) and target in options:
        return f"{target}. {options[target]}"
    return clip(shown(target))


def read_samples(path: Path, result: TaskResult, spec: TaskSpec | None) -> list[Sample]:
    """The samples file's rows in dataset order (`index`, then id)."""
    field = primary_field(result, spec)
    rows = []
    for _, record in json_lines(path):
        if not isinstance(record, dict) or "id" not in record:
            continue
        fields = record.get("fields") or {}
        rows.append(
            Sample(
                id=str(record["id"]),
                index=int(record.get("index") or 0),
                prompt=clip(record.get("prompt") or ""),
                target=_target(record),
                fields={str(k): shown(v) for k, v in fields.items() if v is not None},
                answer=answer_of(record, field, result.direction),
            )
        )
    return sorted(rows, key=lambda s: (s.index, s.id))


def verdict_counts(samples: Sequence[Sample], pipeline: str = "kobench") -> dict[str, int]:
    """How many rows of each verdict, and how many truncated: what the page's status filter finds."""
    key = "k" if pipeline == "kobench" else "q"
    counts = dict.fromkeys((*VERDICTS, "truncated"), 0)
    for sample in samples:
        counts[sample.answer[key][2]] += 1
        counts["truncated"] += bool(sample.answer.get("t"))
    return counts
