"""Rule stages of a judged task, by name: checks that decide some answers before the LLM judge sees them
(a task's `judge.rules`). A stage set scores one answer for both pipelines at once. Its verdict for a
pipeline either decides the answer (`unjudged`: why it needs no judgement, and the metric fields set) or
leaves it to the judge (`judged_text` the text to judge, and `judge_variables`, values the judge template
may name beside the row's columns). `breakdown` names the verdict fields each result counts per pipeline
(KMMMU: the stage that decided each row, and whether the answer was boxed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kobench.judge import haerae_vision, kmmmu, koffvqa


@dataclass(frozen=True)
class RuleStages:
    name: str
    version: str
    parsers: Mapping[str, str]  # pipeline -> "name@version", as results name the pipeline's parser
    score: Callable[[Any, str], dict[str, dict[str, Any]]]  # (gold answer, response) -> verdict per pipeline
    missing: Callable[[], str | None]  # why it cannot run here (a package not installed), or None
    packages: Callable[[], str]  # the versions of what it runs on, for the signature
    breakdown: tuple[str, ...] = ()
    judge_variables: tuple[str, ...] = ()  # the `judge_variables` its verdicts give the judge template

    def signature(self) -> str:
        return f"rules:{self.name}@{self.version}({self.packages()})"


RULE_STAGES: dict[str, RuleStages] = {
    "kmmmu": RuleStages(
        name="kmmmu",
        version=kmmmu.VERSION,
        parsers={"protocol": kmmmu.PROTOCOL_PARSER, "kobench": kmmmu.KOBENCH_PARSER},
        score=kmmmu.score,
        missing=kmmmu.missing,
        packages=lambda: f"math-verify-{kmmmu.math_verify_version() or 'missing'}",
        breakdown=("decided_by", "boxed"),
        judge_variables=("math_verify_parse",),
    ),
}
RULE_STAGES["koffvqa"] = RuleStages(**koffvqa.RULES)  # non-Korean answers score 0 unjudged
RULE_STAGES["haerae-vision"] = RuleStages(**haerae_vision.RULES)  # the answer the judge reads
