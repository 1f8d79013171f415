"""Open-ended answers judged by an LLM: K-LLaVA-W (two 1-10 scores, reference then model; relative score =
mean(model) / mean(reference) x 100), the seed's complex-OCR judge (1 = same meaning, 0 = not), or any
YAML task with `judge: {template, parse: score_1_10 | binary}`.

A row's verdict needs a judge call, so `judge` (per row, at generation time) only keeps the text to be
judged; the judging pass (kobench/run/judging.py) fills in the judgement and the metric fields. A judgement
that failed leaves its fields None: the row is left out of every mean and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kobench.errors import BadInputError
from kobench.extract.thinking import strip_thinking
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.columns import Columns
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item
from kobench.judge.messages import judge_messages
from kobench.judge.rules import RULE_STAGES
from kobench.judge.verdicts import VERDICT_PARSERS_VERSION
from kobench.tasks.spec import TaskSpec
from kobench.types import GenerationSettings, ImageRef

JUDGED_METRICS_VERSION = "1"
# K-LLaVA-W: a row's model/reference ratio weighted by its reference score is the ratio of the means.
RELATIVE = MetricDef("relative_score", "relative", "higher", JUDGED_METRICS_VERSION, weight="reference_score")
ACCURACY = MetricDef("judge_accuracy", "correct", "higher", JUDGED_METRICS_VERSION)
SCORE = MetricDef("judge_score", "score", "higher", JUDGED_METRICS_VERSION)  # mean score / 10
METRICS_BY_PARSE = {"two_scores": (RELATIVE,), "binary": (ACCURACY,), "score_1_10": (SCORE,)}
VERDICT_FIELDS = {"two_scores": ("relative", "reference_score", "model_score"), "binary": ("correct",)}
VERDICT_FIELDS["score_1_10"] = ("score", "raw_score")
METRICS_BY_PARSE["true_false"], VERDICT_FIELDS["true_false"] = (ACCURACY,), ("correct",)  # KMMMU
METRICS_BY_PARSE["koffvqa"], VERDICT_FIELDS["koffvqa"] = (SCORE,), ("score", "raw_score")  # 0-10
METRICS_BY_PARSE["checklist"], VERDICT_FIELDS["checklist"] = (SCORE,), ("score",)  # HAERAE-Vision: 0-1


def judge_context(row: dict[str, Any]) -> dict[str, Any]:
    """The row's values a judge template may use (no images): kept with the sample, so `kobench judge`
    can judge again from the samples alone."""
    out = {}
    for key, value in row.items():
        if isinstance(value, ImageRef) or (
            isinstance(value, list) and any(isinstance(v, ImageRef) for v in value)
        ):
            continue
        if value is None or isinstance(value, str | int | float | bool | list):
            out[key] = value
    return out


def verdict_fields(parse: str, verdict: Any) -> dict[str, Any]:
    """Metric fields of a parsed verdict; every field None for a failed judgement."""
    if verdict is None:
        return dict.fromkeys(VERDICT_FIELDS[parse])
    if parse == "two_scores":
        reference, model = verdict
        return {
            "relative": model / reference if reference > 0 else 0.0,
            "reference_score": reference,
            "model_score": model,
        }
    if parse in ("binary", "true_false"):
        return {"correct": float(verdict)}
    if parse == "checklist":  # the share of checklist items met
        return {"score": verdict}
    return {"score": verdict / 10.0, "raw_score": verdict}


class Judged(PerRow):
    name = "judged"
    roles: tuple[str, ...] = ()
    metrics = (RELATIVE, ACCURACY, SCORE)
    default_kind = "open"

    def metrics_for(self, task: TaskSpec) -> tuple[MetricDef, ...]:
        return METRICS_BY_PARSE[task.judge.parse] if task.judge else self.metrics

    def prepare(
        self,
        task: TaskSpec,
        rows: list[dict[str, Any]],
        cols: Columns,
        version: str,
        generation: GenerationSettings,
    ) -> list[Item]:
        if rows and task.judge:
            # A judge template naming a column the data lacks fails for every row: stop before any work.
            stages = RULE_STAGES.get(task.judge.rules or "")
            own = dict.fromkeys(stages.judge_variables, "") if stages else {}  # what the rules fill in
            try:
                judge_messages(task.judge, {**judge_context(rows[0]), "prompt_version": version, **own}, "")
            except ValueError as exc:
                raise BadInputError(f"{task.path}: judge template: {exc}") from exc
        return super().prepare(task, rows, cols, version, generation)

    def item(self, row: Row) -> Item:
        cols = row.cols
        # The prompt version asked is the judge's too (HAERAE-Vision judges the question that was asked).
        context = {**judge_context(row.values), "prompt_version": row.version}
        images = images_of(row.get(cols.image))
        if isinstance(images, str):
            return row.failed(images, context)
        question = row.get(cols.question) if cols.question else None
        request = row.request(images[0], "open", question=question)
        return row.asked(request, context)

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        if task.judge and task.judge.rules:  # rule stages decide some answers before the judge (KMMMU)
            gold = next((item.target.get(c) for c in task.columns.answer or () if c in item.target), None)
            return RULE_STAGES[task.judge.rules].score(gold, text)
        # The protocol judges the response as written (lmms-eval passes it unchanged); kobench leaves out
        # reasoning blocks, which are not the answer.
        protocol = text.strip()
        kobench = strip_thinking(text)
        kobench = kobench.strip() if kobench is not None else ""
        return {
            "protocol": {"parsed": protocol or None, "judged_text": protocol},
            "kobench": {"parsed": kobench or None, "judged_text": kobench},
        }

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        if task.judge and task.judge.rules:
            return dict(RULE_STAGES[task.judge.rules].parsers)
        return {"protocol": "strip@1", "kobench": "strip-thinking@1"}

    def verdict_breakdown(self, task: TaskSpec) -> tuple[str, ...]:
        return RULE_STAGES[task.judge.rules].breakdown if task.judge and task.judge.rules else ()

    def signature_extra(self, task: TaskSpec, settings: ScoringSettings) -> Sequence[str]:
        spec = task.judge
        assert spec is not None
        return (
            f"judge:{settings.judge_model or 'none'}",
            f"judge-prompt:{spec.version}",
            f"judge-t:{spec.temperature}",
            f"verdict:{spec.parse}@{VERDICT_PARSERS_VERSION}",
            *([RULE_STAGES[spec.rules].signature()] if spec.rules else []),
        )

    def check_ready(self, task: TaskSpec, settings: ScoringSettings) -> None:
        spec = task.judge
        if spec and spec.rules:
            stages = RULE_STAGES.get(spec.rules)
            why = f"no rule stages {spec.rules!r} ({', '.join(RULE_STAGES)})" if stages is None else None
            why = why or stages.missing() or (None if task.columns.answer else "it names no columns.answer")
            if why:
                raise BadInputError(f"task {task.name!r}: judge.rules {spec.rules!r}: {why}")
        if settings.judge_model:
            return
        record = ""
        if spec and spec.default_model:
            record = (
                f" Its judge of record is {spec.default_model}: --judge {spec.default_model} "
                "(with OPENAI_API_KEY set)."
            )
            if "/" in spec.default_model:  # an open model (KOFFVQA's gemma-2-9b-it): served by the user
                record = (
                    f" Its judge of record is {spec.default_model}: --judge {spec.default_model}@BASE_URL "
                    "of an OpenAI-compatible server running it (vLLM: vllm serve MODEL)."
                )
        raise BadInputError(
            f"task {task.name!r} is judged by an LLM and no judge was given: pass --judge MODEL@BASE_URL, "
            "e.g. --judge Qwen/Qwen2.5-VL-72B-Instruct@http://localhost:8000/v1 for a local vLLM server."
            f"{record} kobench never calls a paid judge you did not name."
        )
