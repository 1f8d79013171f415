"""Leaderboard tables from results files: one column per model, one row per task, grouped by category."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from kobench.results import RunResult

CATEGORY_ORDER = ("General", "Document", "OCR", "Chart", "Culture", "Captioning", "Open-ended", "Demo")


def _column_names(results: Sequence[RunResult]) -> list[str]:
    names, seen = [], {}
    for result in results:
        name = result.run.model.name
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def leaderboard_rows(
    results: Sequence[RunResult], pipeline: str = "kobench"
) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and footnotes. A value whose signature differs from its row's first is marked †,
    an incomplete one *, so numbers that are not comparable never sit silently side by side."""
    tasks: dict[str, str] = {}
    labels: dict[str, str] = {}
    for result in results:
        for name, task in result.tasks.items():
            tasks.setdefault(name, task.category)
            # Accuracy is the default reading; any other metric is named, with an arrow when lower wins.
            if task.primary_metric != "accuracy":
                arrow = " ↓" if task.direction == "lower" else ""
                labels.setdefault(name, f"{name} ({task.primary_metric}{arrow})")
    order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    ordered = sorted(tasks.items(), key=lambda kv: (order.get(kv[1], len(order)), kv[1], kv[0]))
    header = ["Category", "Benchmark", *_column_names(results)]
    rows, notes = [], set()
    previous_category = None
    for name, category in ordered:
        cells, reference = [], None
        for result in results:
            task = result.tasks.get(name)
            if task is None or pipeline not in task.pipelines:
                cells.append("–")
                continue
            piped = task.pipelines[pipeline]
            value = piped.metrics[task.primary_metric].value
            cell = "–" if value is None else f"{value:.1f}"
            reference = reference or piped.signature
            if piped.signature != reference:
                cell += " †"
                notes.add("† made with other settings than the first value in its row (see signatures)")
            if not task.complete:
                cell += " *"
                notes.add("* incomplete run")
            cells.append(cell)
        rows.append([category if category != previous_category else "", labels.get(name, name), *cells])
        previous_category = category
    return header, rows, sorted(notes)


def markdown_table(results: Sequence[RunResult], pipeline: str = "kobench") -> str:
    header, rows, notes = leaderboard_rows(results, pipeline)
    table = tabulate(rows, headers=header, tablefmt="github", disable_numparse=True)
    label = "kobench Korean-aware extraction" if pipeline == "kobench" else "published protocol parsers"
    lines = [table, "", f"Each task's primary metric ×100 (accuracies and rates in %), {label}."]
    return "\n".join(lines + notes) + "\n"


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
