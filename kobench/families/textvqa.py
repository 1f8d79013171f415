"""Text-centric VQA scored by containment: a question about the text in an image, right when the response
contains an accepted answer (MTVQA, as lmms-eval and VLMEvalKit score it). One metric, `accuracy`; the
pipelines differ in how they compare (see kobench.metrics.mtvqa):

- protocol: the published rule on the response as it is (stripped, lower-cased, "." removed, substring);
- kobench: think blocks removed (an unclosed one leaves nothing: the answer was cut off), then the Korean-
  aware rule (NFKC, case folding, punctuation and spacing not compared, numbers and Latin words whole).
"""

from __future__ import annotations

from typing import Any

from kobench.extract.thinking import strip_thinking
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item
from kobench.metrics.mtvqa import (
    KOREAN_CONTAINS_VERSION,
    MTVQA_CONTAINS_VERSION,
    korean_contains,
    mtvqa_contains,
    mtvqa_normalize,
)
from kobench.tasks.spec import TaskSpec

CONTAINMENT_VERSION = "1"


def accepted_answers(value: Any) -> list[str] | str:
    """The accepted answers (one text, or a list of them), or why the row has none."""
    values = value if isinstance(value, list) else [value]
    answers = [str(a) for a in values if a is not None and str(a).strip()]
    return answers or "missing answer"


class TextVQA(PerRow):
    name = "text_vqa"
    roles = ("question", "answers")
    metrics = (MetricDef("accuracy", "accuracy", "higher", CONTAINMENT_VERSION),)
    default_kind = "open"

    def item(self, row: Row) -> Item:
        cols = row.cols
        answers = accepted_answers(row.get(cols.answers))
        question = row.get(cols.question)
        if isinstance(answers, str):
            return row.failed(answers)
        if not isinstance(question, str) or not question.strip():
            return row.failed("missing question", answers)
        images = images_of(row.get(cols.image))
        if isinstance(images, str):
            return row.failed(images, answers)
        return row.asked(row.request(images[0], "open", question=question), answers)

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        read = strip_thinking(text) or ""
        return {
            "protocol": {
                "parsed": mtvqa_normalize(text) or None,
                "accuracy": mtvqa_contains(text, item.target),
            },
            "kobench": {"parsed": read.strip() or None, "accuracy": korean_contains(read, item.target)},
        }

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        return {
            "protocol": f"mtvqa-contains@{MTVQA_CONTAINS_VERSION}",
            "kobench": f"ko-contains@{KOREAN_CONTAINS_VERSION}",
        }
