"""The CI regression gate: is a candidate run worse than a baseline run, beyond noise and tolerance?

Per task, the primary metric of one pipeline is compared on the scoring units both runs scored (matched
by id), with a paired bootstrap of the task's own aggregate (kobench.metrics.paired). Only results.json
is read: CI jobs often keep no samples.

Verdicts, from the improvement (the change in the good direction: delta for higher-is-better metrics,
-delta for CER) and its CI at level 1 - alpha, in points on the results' x100 scale:

- "regression": improvement < -max_drop and the whole CI of the improvement is below 0 (exit 1);
- "worse (not significant)": improvement < -max_drop, but the CI reaches 0 or above;
- "drop within tolerance": -max_drop <= improvement < 0;
- "no change": improvement is 0;
- "better (not significant)": improvement > 0, but the CI reaches 0 or below;
- "improved": improvement > 0 and the whole CI is above 0;
- "incompatible": the numbers cannot be compared (different signature parts, primary metric, direction,
  strata or weighting, or no common unit); printed as "incompatible: <what differs>" (exit 3).

Exit code: 3 when any compared task is incompatible (the gate could not check everything it was asked
to), else 1 when any task is a regression, else 0.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from kobench.efficiency import EfficiencyResult
from kobench.errors import (
    EXIT_NOT_COMPARABLE,
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_USAGE,
    BadInputError,
    KobenchError,
    NotComparableError,
)
from kobench.files.output_file import writing
from kobench.metrics.paired import PAIRED_BOOTSTRAP_VERSION, paired_bootstrap
from kobench.report.efficiency_gate import INCOMPATIBLE as EFFICIENCY_INCOMPATIBLE
from kobench.report.efficiency_gate import REGRESSION as EFFICIENCY_REGRESSION
from kobench.report.efficiency_gate import EfficiencyComparison, compare_efficiency
from kobench.report.importers import GATE_REFUSAL, ImportedResult, harness_files, harness_of
from kobench.report.inputs import result_folders
from kobench.report.signatures import signature_differences, signature_unknowns
from kobench.results import PIPELINES, RunResult, TaskResult, load_results, write_json_atomic

REGRESSION = "regression"
WORSE_NOT_SIGNIFICANT = "worse (not significant)"
WITHIN_TOLERANCE = "drop within tolerance"
NO_CHANGE = "no change"
BETTER_NOT_SIGNIFICANT = "better (not significant)"
IMPROVED = "improved"
INCOMPATIBLE = "incompatible"
VERDICTS = (
    REGRESSION,
    WORSE_NOT_SIGNIFICANT,
    WITHIN_TOLERANCE,
    NO_CHANGE,
    BETTER_NOT_SIGNIFICANT,
    IMPROVED,
    INCOMPATIBLE,
)

# Floating-point noise in a difference of two equal aggregates is not a change (values are x100 points).
_ZERO = 1e-9


class GateUsageError(KobenchError):
    """The gate was asked something it cannot answer (a task missing from a run, a bad option)."""

    exit_code = EXIT_USAGE


@dataclass
class TaskComparison:
    """One task's comparison; values in points (x100), None where not computed."""

    task: str
    metric: str
    direction: str  # "higher" or "lower" (is better)
    verdict: str  # one of VERDICTS
    baseline: float | None = None  # the aggregate on the common units
    candidate: float | None = None
    delta: float | None = None  # candidate - baseline
    ci_low: float | None = None  # CI of delta
    ci_high: float | None = None
    improvement: float | None = None  # delta in the good direction (-delta when lower is better)
    improvement_ci_low: float | None = None
    improvement_ci_high: float | None = None
    n_common: int = 0
    n_baseline: int = 0  # units each run scored
    n_candidate: int = 0
    baseline_reported: float | None = None  # the value in results.json (all of that run's units)
    candidate_reported: float | None = None
    differences: list[str] = field(default_factory=list)  # why incompatible
    notes: list[str] = field(default_factory=list)

    @property
    def verdict_text(self) -> str:
        if self.verdict == INCOMPATIBLE:
            return f"{INCOMPATIBLE}: {'; '.join(self.differences)}"
        return self.verdict


@dataclass
class GateReport:
    rows: list[TaskComparison]
    pipeline: str
    max_drop: float
    alpha: float
    n_resamples: int
    seed: int
    exit_code: int
    baseline_model: str = ""
    candidate_model: str = ""
    skipped: dict[str, str] = field(default_factory=dict)  # task -> why it was not compared
    # --max-efficiency-loss: the efficiency values both runs measured (kobench.report.efficiency_gate)
    max_efficiency_loss: float | None = None
    efficiency: list[EfficiencyComparison] = field(default_factory=list)
    efficiency_notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        rows = [{**asdict(r), "verdict_text": r.verdict_text} for r in self.rows]
        return _finite(
            {
                "method": "paired percentile bootstrap over scoring units "
                f"(paired@{PAIRED_BOOTSTRAP_VERSION})",
                "pipeline": self.pipeline,
                "max_drop": self.max_drop,
                "alpha": self.alpha,
                "confidence": 1.0 - self.alpha,
                "n_resamples": self.n_resamples,
                "seed": self.seed,
                "scale": "points (x100, as results.json values)",
                "baseline_model": self.baseline_model,
                "candidate_model": self.candidate_model,
                "exit_code": self.exit_code,
                "verdicts": dict(Counter(r.verdict for r in self.rows)),
                "tasks": rows,
                "skipped": self.skipped,
                **(
                    {
                        "max_efficiency_loss_pct": self.max_efficiency_loss,
                        "efficiency": [asdict(e) for e in self.efficiency],
                        "efficiency_notes": self.efficiency_notes,
                    }
                    if self.max_efficiency_loss is not None
                    else {}
                ),
            }
        )


def _finite(obj: Any) -> Any:
    # JSON has no NaN; an undefined number is null.
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def load_run(path: Path) -> RunResult:
    """A results.json file, or a results folder holding one. Another harness's file (or a folder of them
    without a results.json) is refused by name: tables show such numbers, the gate never compares them."""
    path = Path(path)
    if path.is_dir():
        others = [] if (path / "results.json").is_file() else harness_files(path)
        if others:
            raise BadInputError(
                f"{path}: {harness_of(others[0])}'s results ({others[0].name}): {GATE_REFUSAL}"
            )
        if not (path / "results.json").is_file():
            runs = [str(f.relative_to(path)) for f in result_folders(path) if (f / "results.json").is_file()]
            holds = f"; it holds runs below it ({', '.join(runs[:5])}{', …' if len(runs) > 5 else ''})"
            raise BadInputError(
                f"{path}: no results.json in this folder{holds if runs else ''}: the gate compares one run"
                " with one run, so give the folder of each"
            )
        return load_results(path / "results.json")
    harness = harness_of(path)
    if harness is not None:
        raise BadInputError(f"{path}: {harness}'s results: {GATE_REFUSAL}")
    return load_results(path)


def verdict_for(improvement: float, ci_low: float, ci_high: float, max_drop: float) -> str:
    """The verdict from the improvement and its CI (see the module docstring)."""
    if abs(improvement) <= _ZERO:
        return NO_CHANGE
    if improvement < -max_drop:
        # A NaN bound (no usable resample) never proves a regression.
        return REGRESSION if ci_high < 0 else WORSE_NOT_SIGNIFICANT
    if improvement < 0:
        return WITHIN_TOLERANCE
    return IMPROVED if ci_low > 0 else BETTER_NOT_SIGNIFICANT


def _pct(x: float) -> float:
    return 100.0 * x


def _check_units(side: str, result: TaskResult, pipeline: str) -> None:
    """A results file whose unit scores do not line up with its ids is broken, not incomparable."""
    ids, p = result.units.ids, result.pipelines[pipeline]
    lengths = {"unit_scores": len(p.unit_scores)}
    if p.unit_weights is not None:
        lengths["unit_weights"] = len(p.unit_weights)
    if result.units.strata is not None:
        lengths["units.strata"] = len(result.units.strata)
    for what, n in lengths.items():
        if n != len(ids):
            raise BadInputError(
                f"{side} task {result.task!r} ({pipeline}): {n} {what} for {len(ids)} units.ids"
            )
    if len(set(ids)) != len(ids):
        raise BadInputError(f"{side} task {result.task!r}: units.ids repeat, so units cannot be matched")


def _compare_task(
    name: str,
    base: TaskResult,
    cand: TaskResult,
    *,
    pipeline: str,
    max_drop: float,
    alpha: float,
    n_resamples: int,
    seed: int,
) -> TaskComparison:
    row = TaskComparison(
        task=name,
        metric=base.primary_metric,
        direction=base.direction,
        verdict=INCOMPATIBLE,
        n_baseline=len(base.units.ids),
        n_candidate=len(cand.units.ids),
    )
    for side, result in (("baseline", base), ("candidate", cand)):
        if not result.complete:
            row.notes.append(f"{side} is incomplete")
    diffs = row.differences
    if base.primary_metric != cand.primary_metric:
        diffs.append(f"primary metric: {base.primary_metric} -> {cand.primary_metric}")
    if base.direction != cand.direction:
        diffs.append(f"direction: {base.direction} -> {cand.direction}")
    bp, cp = base.pipelines.get(pipeline), cand.pipelines.get(pipeline)
    if bp is None or cp is None:
        missing = " and ".join(s for s, p in (("baseline", bp), ("candidate", cp)) if p is None)
        diffs.append(f"pipeline {pipeline} missing in {missing}")
        return row
    _check_units("baseline", base, pipeline)
    _check_units("candidate", cand, pipeline)
    if base.primary_metric == cand.primary_metric:
        row.baseline_reported = bp.metrics[base.primary_metric].value
        row.candidate_reported = cp.metrics[cand.primary_metric].value
    diffs.extend(signature_differences(bp.signature, cp.signature))
    row.notes.extend(
        f"signature {u} (one run does not record it)" for u in signature_unknowns(bp.signature, cp.signature)
    )
    if (bp.unit_weights is None) != (cp.unit_weights is None):
        diffs.append(f"unit weights in {'baseline' if bp.unit_weights is not None else 'candidate'} only")

    cand_index = {uid: n for n, uid in enumerate(cand.units.ids)}
    # Sorted ids: the resamples do not depend on the order either file lists its units in.
    common = sorted(set(base.units.ids) & cand_index.keys())
    base_index = {uid: n for n, uid in enumerate(base.units.ids)}
    bi, ci = [base_index[u] for u in common], [cand_index[u] for u in common]
    row.n_common = len(common)
    if not common:
        diffs.append(f"no common units (baseline {row.n_baseline}, candidate {row.n_candidate})")
    strata = None
    bs, cs = base.units.strata, cand.units.strata
    if (bs is None) != (cs is None):
        diffs.append(f"strata in {'baseline' if bs is not None else 'candidate'} only")
    elif bs is not None and cs is not None:
        strata = [bs[i] for i in bi]
        moved = sum(1 for s, j in zip(strata, ci, strict=True) if s != cs[j])
        if moved:
            diffs.append(f"strata differ on {moved} common units")
    if diffs:
        return row

    point_base, point_cand, delta, low, high = paired_bootstrap(
        [bp.unit_scores[i] for i in bi],
        [cp.unit_scores[j] for j in ci],
        base_weights=None if bp.unit_weights is None else [bp.unit_weights[i] for i in bi],
        cand_weights=None if cp.unit_weights is None else [cp.unit_weights[j] for j in ci],
        strata=strata,
        n_resamples=n_resamples,
        seed=seed,
        alpha=alpha,
    )
    if math.isnan(point_base) or math.isnan(point_cand):
        diffs.append("the metric is undefined on the common units (their weights sum to 0)")
        return row
    row.baseline, row.candidate, row.delta = _pct(point_base), _pct(point_cand), _pct(delta)
    row.ci_low, row.ci_high = _pct(low), _pct(high)
    if base.direction == "lower":  # an increase is worse: the improvement and its CI flip sign
        better = (-row.delta, -row.ci_high, -row.ci_low)
    else:
        better = (row.delta, row.ci_low, row.ci_high)
    row.improvement, row.improvement_ci_low, row.improvement_ci_high = better
    row.verdict = verdict_for(row.improvement, row.improvement_ci_low, row.improvement_ci_high, max_drop)
    return row


def compare(
    baseline: RunResult,
    candidate: RunResult,
    *,
    max_drop: float = 1.0,
    alpha: float = 0.05,
    tasks: Sequence[str] | None = None,
    pipeline: str = "kobench",
    n_resamples: int = 1000,
    seed: int = 0,
    efficiency: tuple[Sequence[EfficiencyResult], Sequence[EfficiencyResult]] | None = None,
    max_efficiency_loss: float | None = None,
) -> GateReport:
    """Compare every task in both runs (or `tasks`: each must be in both, else GateUsageError); with
    `max_efficiency_loss` (percent), also the (baseline, candidate) `efficiency` measurements."""
    for side, run in (("baseline", baseline), ("candidate", candidate)):
        if isinstance(run, ImportedResult):
            raise BadInputError(f"{side} is {run.source}'s results ({run.file}): {GATE_REFUSAL}")
    if pipeline not in PIPELINES:
        raise GateUsageError(f"pipeline must be one of {', '.join(PIPELINES)}, not {pipeline!r}")
    if not 0.0 < alpha < 1.0:
        raise GateUsageError(f"alpha must be between 0 and 1, not {alpha}")
    if not max_drop >= 0.0:
        raise GateUsageError(f"max drop must be 0 or more points, not {max_drop}")
    if n_resamples < 1:
        raise GateUsageError(f"n_resamples must be at least 1, not {n_resamples}")
    skipped: dict[str, str] = {}
    if tasks:
        names = list(dict.fromkeys(tasks))
        sides = (("baseline", baseline), ("candidate", candidate))
        missing = [
            f"{t} (not in {' or '.join(side for side, run in sides if t not in run.tasks)})"
            for t in names
            if t not in baseline.tasks or t not in candidate.tasks
        ]
        if missing:
            raise GateUsageError(f"tasks asked for but not in both results: {', '.join(missing)}")
    else:
        names = [t for t in baseline.tasks if t in candidate.tasks]
        skipped.update({t: "baseline only" for t in baseline.tasks if t not in candidate.tasks})
        skipped.update({t: "candidate only" for t in candidate.tasks if t not in baseline.tasks})
        if not names:
            raise NotComparableError(
                f"no task in both results (baseline: {', '.join(baseline.tasks) or 'none'}; "
                f"candidate: {', '.join(candidate.tasks) or 'none'})"
            )
    rows = [
        _compare_task(
            name,
            baseline.tasks[name],
            candidate.tasks[name],
            pipeline=pipeline,
            max_drop=max_drop,
            alpha=alpha,
            n_resamples=n_resamples,
            seed=seed,
        )
        for name in names
    ]
    verdicts = {r.verdict for r in rows}
    measured: list[EfficiencyComparison] = []
    measured_notes: list[str] = []
    if max_efficiency_loss is not None:
        if not max_efficiency_loss >= 0.0:
            raise GateUsageError(f"max efficiency loss must be 0 or more percent, not {max_efficiency_loss}")
        if efficiency is None or not efficiency[0] or not efficiency[1]:
            raise GateUsageError(
                "--max-efficiency-loss: the baseline and the candidate folders both need a tokens.json or"
                " speed.json (kobench tokens / speed --output)"
            )
        measured, measured_notes = compare_efficiency(efficiency[0], efficiency[1], max_efficiency_loss)
        verdicts |= {
            INCOMPATIBLE if e.verdict == EFFICIENCY_INCOMPATIBLE else REGRESSION
            for e in measured
            if e.verdict in (EFFICIENCY_INCOMPATIBLE, EFFICIENCY_REGRESSION)
        }
    exit_code = (
        EXIT_NOT_COMPARABLE
        if INCOMPATIBLE in verdicts
        else EXIT_REGRESSION
        if REGRESSION in verdicts
        else EXIT_OK
    )
    return GateReport(
        rows=rows,
        pipeline=pipeline,
        max_drop=max_drop,
        alpha=alpha,
        n_resamples=n_resamples,
        seed=seed,
        exit_code=exit_code,
        baseline_model=baseline.run.model.name,
        candidate_model=candidate.run.model.name,
        skipped=skipped,
        max_efficiency_loss=max_efficiency_loss,
        efficiency=measured,
        efficiency_notes=measured_notes,
    )


def _num(x: float | None, signed: bool = False) -> str:
    if x is None or math.isnan(x):
        return "-"
    x += 0.0  # -0.0 prints as "-0.00"; a zero has no sign
    return f"{x:+.2f}" if signed else f"{x:.2f}"


def format_report(report: GateReport) -> str:
    """The table of every task, notes, then one summary line."""
    level = f"{100.0 * (1.0 - report.alpha):g}%"
    table = [
        [
            r.task,
            r.metric + (" (lower is better)" if r.direction == "lower" else ""),
            _num(r.baseline),
            _num(r.candidate),
            _num(r.delta, signed=True),
            "-" if r.ci_low is None else f"[{_num(r.ci_low, True)}, {_num(r.ci_high, True)}]",
            f"{r.n_common} ({r.n_baseline}/{r.n_candidate})",
            r.verdict_text,
        ]
        for r in report.rows
    ]
    headers = [
        "task",
        "metric",
        "baseline",
        "candidate",
        "delta",
        f"{level} CI of delta",
        "n common (base/cand)",
        "verdict",
    ]
    lines = [tabulate(table, headers=headers, tablefmt="simple", disable_numparse=True), ""]
    lines += [f"note: {r.task}: {note}" for r in report.rows for note in r.notes]
    lines += [f"note: {task} not compared ({why})" for task, why in report.skipped.items()]
    if report.max_efficiency_loss is not None:
        lines += ["", _efficiency_table(report), ""]
        lines += [f"note: efficiency: {note}" for note in report.efficiency_notes]
    counts = Counter(r.verdict for r in report.rows)
    found = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    lines.append(
        f"gate: {found} of {len(report.rows)} task(s) "
        f"({report.candidate_model} vs {report.baseline_model}; pipeline {report.pipeline}; "
        f"max drop {report.max_drop:g} points; {level} paired bootstrap CI, {report.n_resamples} resamples, "
        f"seed {report.seed}) -> exit {report.exit_code}"
    )
    return "\n".join(lines)


def _efficiency_table(report: GateReport) -> str:
    table = [
        [
            e.benchmark + (" ↓" if e.direction == "lower" else ""),
            _num(e.baseline),
            _num(e.candidate),
            "-" if e.change_pct is None else f"{e.change_pct:+.1f}%",
            e.verdict + (f": {'; '.join(e.differences)}" if e.differences else ""),
        ]
        for e in report.efficiency
    ]
    headers = ["efficiency", "baseline", "candidate", "better by", "verdict"]
    title = f"efficiency (tolerated loss {report.max_efficiency_loss:g}%)"
    return title + "\n" + tabulate(table, headers=headers, tablefmt="simple", disable_numparse=True)


def report_json(report: GateReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def write_report(report: GateReport, path: Path) -> None:
    with writing(Path(path), "--json"):
        write_json_atomic(Path(path), report.to_dict())
