"""Document and chart VQA: a question, a list of accepted answers. Scored by ANLS under both rules in use
(`anls`, the paper's; `anls_lmms`, lmms-eval's and Qwen-VL's: see kobench.metrics.docvqa), Korean-aware
exact match (numbers by value, units checked) and relaxed accuracy (ChartQA's 5% for numbers). A task
names its primary metric (tasks/*.yaml `primary_metric`); the default is the paper's ANLS."""

from __future__ import annotations

from typing import Any

from kobench.extract.short_answer import SHORT_ANSWER_VERSION, extract_short_answer
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item
from kobench.metrics.docvqa import (
    ANLS_LMMS_VERSION,
    ANLS_VERSION,
    EXACT_MATCH_VERSION,
    RELAXED_ACCURACY_VERSION,
    anls,
    anls_lmms,
    korean_exact_match,
    relaxed_accuracy,
)
from kobench.tasks.spec import TaskSpec


def _answers(value: Any) -> list[str] | str:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        return "missing answers"
    answers = [str(a) for a in value if a is not None and str(a).strip()]
    return answers or "missing answers"


class DocVQA(PerRow):
    name = "doc_vqa"
    roles = ("question", "answers")
    metrics = (
        MetricDef("anls", "anls", "higher", ANLS_VERSION),
        MetricDef("anls_lmms", "anls_lmms", "higher", ANLS_LMMS_VERSION),
        MetricDef("exact_match", "exact", "higher", EXACT_MATCH_VERSION),
        MetricDef("relaxed_accuracy", "relaxed", "higher", RELAXED_ACCURACY_VERSION),
    )
    default_kind = "open"

    def item(self, row: Row) -> Item:
        cols = row.cols
        answers = _answers(row.get(cols.answers))
        question = row.get(cols.question)
        images = images_of(row.get(cols.image))
        if isinstance(answers, str):
            return row.failed(answers)
        if not isinstance(question, str) or not question.strip():
            return row.failed("missing question")
        if isinstance(images, str):
            return row.failed(images)
        request = row.request(images[0], "open", question=question)
        return row.asked(request, answers)

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        verdicts = {}
        for pipeline, answer in (("protocol", text.strip()), ("kobench", extract_short_answer(text))):
            verdicts[pipeline] = {
                "parsed": answer or None,
                "anls": anls(answer, item.target),
                "anls_lmms": anls_lmms(answer, item.target),
                "exact": korean_exact_match(answer, item.target),
                "relaxed": relaxed_accuracy(answer, item.target),
            }
        return verdicts

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        return {"protocol": "strip@1", "kobench": f"short-answer@{SHORT_ANSWER_VERSION}"}
