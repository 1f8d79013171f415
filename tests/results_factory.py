"""Results objects built in code, as `kobench run` writes them: for the tests of what is done with
results (tables, README blocks, charts, the gate), which need no model and no data."""

from __future__ import annotations

from collections.abc import Iterable

from kobench.results import (
    DatasetInfo,
    MetricValue,
    ModelInfo,
    PipelineResult,
    RunInfo,
    RunResult,
    TaskResult,
    Units,
)


def task_result(
    name: str,
    *,
    category: str = "General",
    metric: str = "accuracy",
    direction: str = "higher",
    value: float | None = None,
    ci: tuple[float | None, float | None] = (None, None),
    signature: str | None = None,
    unit_scores: list[float] | None = None,
    ids: list[str] | None = None,
    weights: list[float] | None = None,
    strata: list[str] | None = None,
    complete: bool = True,
    prompt_version: str = "1",
) -> TaskResult:
    """One task with the same numbers in both pipelines."""
    scores = unit_scores or []
    pipeline = PipelineResult(
        parser="test@1",
        label="test",
        metrics={
            metric: MetricValue(
                value=value, ci_low=ci[0], ci_high=ci[1], n=len(scores) or 10, direction=direction
            )
        },
        n_unparsed=0,
        unparsed_share=0.0,
        breakdown={},
        unit_scores=scores,
        unit_weights=weights,
        signature=signature or f"{name}|default",
    )
    n = len(scores) or 10
    return TaskResult(
        task=name,
        family="multiple_choice",
        category=category,
        primary_metric=metric,
        direction=direction,
        scale="percent",
        dataset=DatasetInfo(hub_id=f"x/{name}", split="test", origin="test", identity="sha256:aaa"),
        prompt_version=prompt_version,
        generation={},
        generation_overridden=[],
        n_rows=n,
        n=n,
        n_failed=0,
        failed_share=0.0,
        failure_reasons={},
        units=Units(
            kind="row", ids=ids if ids is not None else [f"u{i}" for i in range(len(scores))], strata=strata
        ),
        pipelines={"kobench": pipeline, "protocol": pipeline.model_copy()},
        complete=complete,
    )


def run_result(
    model: str,
    tasks: Iterable[TaskResult],
    *,
    ended: str = "2025-01-01T00:01:00+00:00",
    status: str | None = None,
) -> RunResult:
    tasks = list(tasks)
    info = RunInfo(
        kobench_version="0",
        model=ModelInfo(spec=f"hf:{model}", name=model, adapter="hf", fingerprint=model, settings={}),
        arguments={},
        settings_hash="h",
        packages={},
        git_commit=None,
        started_at=ended,
        ended_at=ended,
        model_calls=0,
        cache_hits=0,
        generated_tokens=0,
        generation_seconds=0.0,
        tokens_per_second=None,
    )
    complete = all(t.complete for t in tasks)
    return RunResult(
        status=status or ("complete" if complete else "incomplete"),
        run=info,
        tasks={t.task: t for t in tasks},
    )
