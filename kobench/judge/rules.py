"""Rule stages of a judged task, by name: checks that decide some answers before the LLM judge sees them
(a task's `judge.rules`). A stage set scores one answer for both pipelines at once. Its verdict for a
pipeline either decides the answer (`unjudged`: why it needs no judgement, and the metric fields set) or
leaves it to the judge (`judged_text` the text to judge, and `judge_variables`, values the judge template
may name beside the row's columns). `breakdown` names the verdict fields each result counts per pipeline
(KMMMU: the stage that decided each row, and whether the answer was boxed). `after_judge` computes fields
from each judged verdict when results are aggregated, and `metrics` names the metrics they make (Ko-MT-Bench:
the rating with the language penalty)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kobench.judge import haerae_vision, kmmmu, koffvqa, mt_bench


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
    # Fields computed from each judged verdict and the row: (row target, verdict) -> fields (a penalty).
    after_judge: Callable[[Any, Mapping[str, Any]], dict[str, Any]] | None = None
    metrics: tuple[tuple[str, str], ...] = ()  # (metric, verdict field) of `after_judge`, first: primary

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
RULE_STAGES["ko-mt-bench"] = RuleStages(**mt_bench.RULES)  # the language penalty on judged ratings
