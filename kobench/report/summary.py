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
