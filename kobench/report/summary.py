"""What a run prints: its summary per task, and its leaderboard (kobench/leaderboard.py)."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from kobench.results import RunResult, TaskResult


def markdown_table(results: Sequence[RunResult], pipeline: str = "kobench") -> str:
    """The leaderboard of these runs, one column per results file (what `run` and `demo` print)."""
    from kobench.report.leaderboard import render_table

    return render_table(results, pipeline=pipeline, merge=False, average=False)


def run_summary(result: RunResult) -> str:
    """Per task: the primary metric by both pipelines with intervals, unparsed, failed and cut-off counts."""
    rows = []
    for name, task in result.tasks.items():
        arrow = " ↓" if task.direction == "lower" else ""
        cells = [name, f"{task.primary_metric}{arrow}", f"{task.n}/{task.n_rows}", task.n_failed]
        cells.append(truncation_cell(task))
        cells.append(tokens_cell(task))
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
        "cut off",
        "tokens in (img) / out",
        "kobench [95% CI]",
        "unparsed",
        "protocol [95% CI]",
        "unparsed",
    ]
    return tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True) + "\n"


def loading_notes(result: RunResult) -> str:
    """How the hf adapter drove the model, where it was not the common processor interface: the model's
    own interface family, and each compatibility layer kobench applied (so no one reads those numbers
    without knowing)."""
    loading = result.run.loading or {}
    lines = []
    if loading.get("interface") not in (None, "processor-chat-template"):
        lines.append(f"model interface: {loading['interface']} (the model card's own calls)")
    for layer in loading.get("compat", []):
        lines.append(f"compatibility layer {layer['name']}: {layer['what']}")
    return "\n".join(lines)


def truncation_cell(task: TaskResult) -> str:
    """Answers cut off at max_new_tokens, "3 (1.5%)", with those ending inside an unclosed think block and
    answers of unknown ending (cached before kobench recorded it); "–" for results that do not say."""
    cut = task.truncation
    if cut is None:
        return "–"
    text = f"{cut.n_truncated} ({cut.truncated_share:.1%})"
    if cut.n_unclosed_thinking:
        text += f", {cut.n_unclosed_thinking} in <think>"
    if unknown := cut.finish_reasons.get("unknown"):
        text += f", {unknown} unknown"
    return text


def tokens_cell(task: TaskResult) -> str:
    """Mean tokens per answered row: prompt (of them image) / generated, "?" where the adapter did not say
    (an API's usage block splits no image tokens); "–" for results written before kobench counted them."""
    usage = task.tokens
    if usage is None or usage.n == 0:
        return "–"

    def mean(value: float | None) -> str:
        return "?" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"

    return (
        f"{mean(usage.mean_prompt_tokens)} ({mean(usage.mean_image_tokens)})"
        f" / {mean(usage.mean_generated_tokens)}"
    )


def incomplete_reasons(result: RunResult) -> list[str]:
    """Why a run is incomplete, in words a user can act on (from the results alone)."""
    share = result.run.arguments.get("max_failed_share", 0.05)
    too_many = [n for n, t in result.tasks.items() if t.failed_share > share]
    cut_share = result.run.arguments.get("max_truncated_share")
    cut_off = [
        f"{n} ({t.truncation.truncated_share:.1%})"
        for n, t in result.tasks.items()
        if cut_share is not None and t.truncation is not None and t.truncation.truncated_share > cut_share
    ]
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
    if cut_off:
        reasons.append(
            f"answers cut off at max_new_tokens above --max-truncated-share {cut_share:.0%} in"
            f" {', '.join(cut_off)}; raise --max-new-tokens"
        )
    if unjudged:
        reasons.append(
            "failed judgements above --max-failed-judgements in "
            + ", ".join(unjudged)
            + "; `kobench judge OUTPUT --judge ...` judges them again without regenerating"
        )
    if not reasons:
        reasons.append("the run was interrupted; re-run the same command to resume")
    return reasons
