"""Sample records -> TaskResult: values, confidence intervals, counts, breakdowns, signatures."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from kobench.families.items import Item
from kobench.families.multiple_choice import kobench_parser_name, protocol_parser_name
from kobench.metrics.accuracy import ACCURACY_VERSION, circular_units, macro_accuracy, mean_accuracy
from kobench.metrics.bootstrap import bootstrap_ci
from kobench.results import PIPELINES, DatasetInfo, GroupValue, MetricValue, PipelineResult, TaskResult, Units
from kobench.tasks.spec import TaskSpec


def _pct(x: float | None) -> float | None:
    return None if x is None or x != x else round(100.0 * x, 6)


def signature(
    task: TaskSpec,
    dataset: DatasetInfo,
    version: str,
    generation: dict[str, Any],
    overridden: Sequence[str],
    parser: str,
    unit: str,
) -> str:
    """sacrebleu-style: everything that makes two numbers comparable, nothing that doesn't (not n)."""
    gen = ",".join(
        f"{k}={'+'.join(v) if isinstance(v, list) else v}{'(cli)' if k in overridden else ''}"
        for k, v in sorted(generation.items())
    )
    return (
        f"{task.name}|data:{dataset.identity}|split:{dataset.split}|prompt:{version}|gen:{gen}"
        f"|parser:{parser}|metric:accuracy@{ACCURACY_VERSION}|agg:{task.scoring.aggregate}|unit:{unit}"
    )


def _units(task: TaskSpec, scored: list[tuple[Item, dict]], pipeline: str):
    """(unit ids, unit scores, strata or None, unit -> breakdown fields)."""
    if task.scoring.aggregate == "circular":
        groups = [item.group for item, _ in scored]
        per_group = circular_units([rec[pipeline]["score"] for _, rec in scored], groups)
        first_fields = {}
        for item, _ in scored:
            first_fields.setdefault(item.group, item.fields)
        ids = list(per_group)
        return ids, [per_group[g] for g in ids], None, [first_fields[g] for g in ids]
    ids = [item.id for item, _ in scored]
    scores = [rec[pipeline]["score"] for _, rec in scored]
    strata = None
    if task.scoring.aggregate == "macro":
        strata = [str(item.fields.get(task.scoring.macro_over)) for item, _ in scored]
    return ids, scores, strata, [item.fields for item, _ in scored]


def aggregate(
    task: TaskSpec,
    items: Sequence[Item],
    records: dict[str, dict],
    *,
    dataset: DatasetInfo,
    prompt_version: str,
    generation: dict[str, Any],
    overridden: Sequence[str],
    complete: bool,
) -> TaskResult:
    scored, failures = [], Counter()
    incomplete_groups = set()
    for item in items:
        rec = records.get(item.id)
        if rec is None or rec["status"] == "failed":
            if rec is not None:
                failures[rec.get("error") or "failed"] += 1
            incomplete_groups.add(item.group)
            continue
        scored.append((item, rec))
    if task.scoring.aggregate == "circular":
        # A question counts only with all its rotations answered; a group with a failed or
        # missing row is left out (its failed rows are counted above).
        scored = [(i, r) for i, r in scored if i.group not in incomplete_groups]
    unit_kind = "question-group" if task.scoring.aggregate == "circular" else "row"
    pipelines, units = {}, Units(kind=unit_kind, ids=[])
    for pipeline in PIPELINES:
        ids, scores, strata, unit_fields = _units(task, scored, pipeline)
        if task.scoring.aggregate == "macro":
            value = macro_accuracy(scores, strata or []) if scores else None
        else:
            value = mean_accuracy(scores) if scores else None
        low, high = bootstrap_ci(scores, strata) if scores else (None, None)
        breakdown: dict[str, dict[str, GroupValue]] = {}
        for column in task.columns.breakdown:
            by_group: dict[str, list[float]] = defaultdict(list)
            for fields, score in zip(unit_fields, scores, strict=True):
                by_group[str(fields.get(column))].append(score)
            breakdown[column] = {
                g: GroupValue(value=_pct(mean_accuracy(v)), n=len(v)) for g, v in sorted(by_group.items())
            }
        n_unparsed = sum(1 for _, rec in scored if rec[pipeline]["parsed"] is None)
        parser = protocol_parser_name(task) if pipeline == "protocol" else kobench_parser_name()
        label = (
            f"published protocol ({task.scoring.protocol_parser})"
            if pipeline == "protocol"
            else "kobench Korean-aware extraction"
        )
        pipelines[pipeline] = PipelineResult(
            parser=parser,
            label=label,
            metrics={
                task.primary_metric: MetricValue(
                    value=_pct(value), ci_low=_pct(low), ci_high=_pct(high), n=len(scores)
                )
            },
            n_unparsed=n_unparsed,
            unparsed_share=n_unparsed / len(scored) if scored else 0.0,
            breakdown=breakdown,
            unit_scores=scores,
            signature=signature(task, dataset, prompt_version, generation, overridden, parser, unit_kind),
        )
        units = Units(kind=unit_kind, ids=[str(i) for i in ids], strata=strata)  # alike for both pipelines
    n_failed = sum(failures.values())
    return TaskResult(
        task=task.name,
        family=task.family,
        category=task.category,
        primary_metric=task.primary_metric,
        direction=task.direction,
        scale="percent",
        dataset=dataset,
        prompt_version=prompt_version,
        generation=generation,
        generation_overridden=list(overridden),
        n_rows=len(items),
        n=sum(1 for item in items if (r := records.get(item.id)) and r["status"] != "failed"),
        n_failed=n_failed,
        failed_share=n_failed / len(items) if items else 0.0,
        failure_reasons=dict(failures),
        units=units,
        pipelines=pipelines,
        complete=complete,
    )
