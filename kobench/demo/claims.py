"""The README's claims about the demo's numbers, checked against a demo's results.

The README says what the demo's leaderboard should look like, so a new user can check their machine.
Each number it states is tagged with where it comes from, in an HTML comment that renders as nothing:

    reads the clean level almost perfectly (CER about 1%<!-- demo: tesseract ko-ocr-synth cer level=clean -->)

i.e. `<!-- demo: MODEL TASK METRIC [COLUMN=GROUP] -->` right after the number: the model's name as the
leaderboard shows it, the task, a metric of its kobench pipeline, and optionally one group of the primary
metric's breakdown. `check_claims` reads every tagged number and compares it with the results, so the
paragraph cannot drift from what the demo prints (scripts/check_demo.py, CI and a test do this).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kobench.results import RunResult

# Points either way a stated number may be from the measured one: the README rounds, and OCR engines of
# other builds read a few lines differently.
TOLERANCE = 2.0

_CLAIM = re.compile(
    r"(?P<value>\d+(?:\.\d+)?)\s*%?\s*"
    r"<!--\s*demo:\s*(?P<model>\S+)\s+(?P<task>\S+)\s+(?P<metric>\S+)"
    r"(?:\s+(?P<column>[^=\s]+)=(?P<group>\S+))?\s*-->"
)


@dataclass(frozen=True)
class Claim:
    stated: float
    model: str
    task: str
    metric: str
    column: str | None = None
    group: str | None = None

    def where(self) -> str:
        group = f" {self.column}={self.group}" if self.column else ""
        return f"{self.model} {self.task} {self.metric}{group}"


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    measured: float | None  # None: the results have no such number
    problem: str | None  # None: the claim holds

    def line(self) -> str:
        measured = "missing" if self.measured is None else f"{self.measured:.2f}"
        status = "ok" if self.problem is None else self.problem
        return f"{self.claim.where()}: README {self.claim.stated:g}, demo {measured} ({status})"


def read_claims(readme: str) -> list[Claim]:
    """Every tagged number of the README, in order."""
    return [
        Claim(float(m["value"]), m["model"], m["task"], m["metric"], m["column"], m["group"])
        for m in _CLAIM.finditer(readme)
    ]


def check_claims(claims: Iterable[Claim], results: Iterable[RunResult], tolerance: float = TOLERANCE):
    """One verdict per claim: the measured value and, where it is off by more than `tolerance` points or
    missing, why."""
    by_model = {r.run.model.name: r for r in results}
    return [_verdict(claim, by_model, tolerance) for claim in claims]


def _verdict(claim: Claim, by_model: dict[str, RunResult], tolerance: float) -> Verdict:
    result = by_model.get(claim.model)
    if result is None:
        return Verdict(claim, None, f"no results for model {claim.model!r} (have {sorted(by_model)})")
    task = result.tasks.get(claim.task)
    if task is None:
        return Verdict(claim, None, f"{claim.model} did not run {claim.task}")
    pipeline = task.pipelines["kobench"]
    if claim.column is None:
        metric = pipeline.metrics.get(claim.metric)
        measured = metric.value if metric else None
    elif claim.metric != task.primary_metric:
        return Verdict(claim, None, f"breakdowns are of the primary metric ({task.primary_metric}) only")
    else:
        group = pipeline.breakdown.get(claim.column, {}).get(claim.group or "")
        measured = group.value if group else None
    if measured is None:
        return Verdict(claim, None, "no such value in the results")
    if abs(measured - claim.stated) > tolerance:
        return Verdict(claim, measured, f"off by more than {tolerance:g} points")
    return Verdict(claim, measured, None)
