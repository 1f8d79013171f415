"""Math word problems with one final answer (HRM8K): the response is checked against the row's answer by
the published check the task names (`scoring.protocol_parser`) and by kobench's reading of the final
answer compared by value (kobench.extract.math_answer), whose non-numeric answers Math-Verify compares.

The published check sees the row's answer, question and `subset` (HRM8K picks its rule by subset), so the
Item's target holds those. Both pipelines say where they found the answer (`found_by`, a breakdown of the
results): boxed, the last line's number, an answer sentence, ..., or none, which is an unparsed answer,
scored wrong and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kobench.errors import BadInputError
from kobench.extract import hrm8k, math_answer
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item
from kobench.judge import kmmmu
from kobench.tasks.spec import TaskSpec

MATH_METRICS_VERSION = "1"
ACCURACY = MetricDef("accuracy", "correct", "higher", MATH_METRICS_VERSION)

# Published checks by name: (target, response) -> verdict, and the parser name results carry.
PROTOCOL_CHECKS: dict[str, tuple[Callable[[dict[str, Any], str], dict[str, Any]], str]] = {
    "hrm8k-original": (hrm8k.protocol_verdict, hrm8k.PARSER),
}


def _math_verify_equal(answer: str, reference: str) -> bool:
    """Math-Verify's equivalence of an answer and a reference, each read as LaTeX (KMMMU's helpers)."""
    return kmmmu.mv_equivalent(reference, kmmmu.mv_parse(f"${answer}$"))


class MathAnswer(PerRow):
    name = "math"
    roles: tuple[str, ...] = ("question", "answer")
    metrics = (ACCURACY,)
    default_kind = "open"

    def item(self, row: Row) -> Item:
        cols = row.cols
        question = row.get(cols.question)
        target = {"answer": row.get(cols.answer), "question": question, **row.fields}
        images: list = []
        if cols.image:  # a math task of modality image: its figures go with the question
            found = images_of(row.get(cols.image))
            if isinstance(found, str):
                return row.failed(found, target)
            images = found[0]
        return row.asked(row.request(images, "open", question=question), target)

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        check, _ = PROTOCOL_CHECKS[task.scoring.protocol_parser or ""]
        return {
            "protocol": check(item.target, text),
            "kobench": math_answer.kobench_verdict(item.target, text, _math_verify_equal),
        }

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        _, name = PROTOCOL_CHECKS.get(task.scoring.protocol_parser or "", (None, "none"))
        return {"protocol": name, "kobench": math_answer.PARSER}

    def verdict_breakdown(self, task: TaskSpec) -> tuple[str, ...]:
        return ("found_by",)

    def signature_extra(self, task: TaskSpec, settings: ScoringSettings) -> Sequence[str]:
        return (f"kobench-equivalence:math-verify-{kmmmu.math_verify_version() or 'missing'}",)

    def check_ready(self, task: TaskSpec, settings: ScoringSettings) -> None:
        if task.scoring.protocol_parser not in PROTOCOL_CHECKS:
            raise BadInputError(
                f"task {task.name!r}: scoring.protocol_parser {task.scoring.protocol_parser!r} is not a "
                f"published math check ({', '.join(PROTOCOL_CHECKS)})"
            )
        if kmmmu.math_verify_version() is None:
            raise BadInputError(
                f"task {task.name!r}: kobench's math answer check compares non-numeric answers with "
                "Math-Verify: pip install 'math-verify>=0.9' (or kobench[protocols])"
            )
