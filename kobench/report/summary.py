"""What a run prints: its summary per task, and its leaderboard (kobench/leaderboard.py)."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from kobench.results import RunResult


def markdown_table(results: Sequence[RunResult], pipeline: str = "kobench") -> str:
    """The leaderboard of these runs, one column per results file (what `run` and `demo` print)."""
    from kobench.report.leaderboard import render_table

    return render_table(results, pipeline=pipeline, merge=False, average=False)


def run_summary(result: RunResult) -> str:
    """Per task: the primary metric by both pipelines with intervals, unparsed and failed counts."""
    rows = []
    for name, task in result.tasks.items():
        arrow = " ↓" if task.direction == "lower" else ""
        cells = [name, f"{task.primary_metric}{arrow}", f"{task.n}/{task.n_rows}", task.n_failed]
        for pipeline in ("kobench", "protocol"):
            piped = task.pipelines[pipeline]
            metric = piped.metrics[task.primary_metric]
            value = (
                "–"
                if metric.value is None
                else f"{metric.value:.1f} [{metric.ci_low:.1f}, {metric.ci_high:.1f}]"
            )
            cells += [value, piped.n_unparsed]
        rows.append(cells)
    header = [
        "task",
        "metric (×100)",
        "scored",
        "failed",
        "kobench [95% CI]",
        "unparsed",
        "protocol [95% CI]",
        "unparsed",
    ]
    return tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True) + "\n"


def incomplete_reasons(result: RunResult) -> list[str]:
    """Why a run is incomplete, in words a user can act on (from the results alone)."""
    share = result.run.arguments.get("max_failed_share", 0.05)
    too_many = [n for n, t in result.tasks.items() if t.failed_share > share]
    unjudged = [
        f"{n} ({t.judge.n_failed} of {t.judge.n_failed + t.judge.n_judged} failed"
        + (
            ": " + "; ".join(f"{c} x {why}" for why, c in t.judge.failure_reasons.items())
            if t.judge.failure_reasons
            else ""
        )
        + ")"
        for n, t in result.tasks.items()
        if t.judge is not None and t.judge.failed_share > t.judge.max_failed_share
    ]
    reasons = []
    if too_many:
        reasons.append(f"failed rows above --max-failed-share {share:.0%} in {', '.join(too_many)}")
    if unjudged:
        reasons.append(
            "failed judgements above --max-failed-judgements in "
            + ", ".join(unjudged)
            + "; `kobench judge OUTPUT --judge ...` judges them again without regenerating"
        )
    if not reasons:
        reasons.append("the run was interrupted; re-run the same command to resume")
    return reasons
