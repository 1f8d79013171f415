"""Sample records -> TaskResult: values, confidence intervals, counts, breakdowns, signatures."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kobench.families import FAMILIES, primary_metric
from kobench.families.base import CorpusFamily, MetricDef, ScoringSettings, metrics_of
from kobench.families.items import Item, circular_main
from kobench.metrics.accuracy import circular_units, macro_accuracy
from kobench.metrics.bootstrap import bootstrap_ci
from kobench.results import (
    PIPELINES,
    DatasetInfo,
    GroupValue,
    JudgeInfo,
    MetricValue,
    PipelineResult,
    TaskResult,
    Units,
)
from kobench.run.records import SampleRecord
from kobench.run.token_usage import token_usage
from kobench.run.truncation import truncation
from kobench.tasks.prompt import prompt_hash
from kobench.tasks.spec import TaskSpec


def _pct(x: float | None) -> float | None:
    return None if x is None or x != x else round(100.0 * x, 6)


def _mean(values: Sequence[float], weights: Sequence[float] | None) -> float | None:
    if not values:
        return None
    if weights is None:
        return sum(values) / len(values)
    total = sum(weights)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / total if total else None


def signature(
    task: TaskSpec,
    dataset: DatasetInfo,
    version: str,
    generation: dict[str, Any],
    overridden: Sequence[str],
    parser: str,
    metric: MetricDef,
    unit: str,
    extra: Sequence[str],
) -> str:
    """sacrebleu-style: everything that makes two numbers comparable, nothing that doesn't (not n).
    `phash` is the prompt version's hash (kobench.tasks.prompt.prompt_hash): the same version name with
    another template, system message or generation settings is another prompt."""
    gen = ",".join(
        f"{k}={'+'.join(v) if isinstance(v, list) else v}{'(cli)' if k in overridden else ''}"
        for k, v in sorted(generation.items())
    )
    running = task.prompt.versions.get(version)
    if running is not None and running.method == "loglikelihood":  # nothing generated; the shots matter
        gen = f"loglikelihood,shots={running.fewshot}"
    parts = [
        task.name,
        f"data:{dataset.identity}",
        f"split:{dataset.split}",
        f"prompt:{version}",
        *([f"phash:{prompt_hash(task.prompt.versions[version])}"] if version in task.prompt.versions else []),
        f"gen:{gen}",
        f"parser:{parser}",
        f"metric:{metric.name}@{metric.version}",
        *extra,
        f"agg:{task.scoring.aggregate}",
        f"unit:{unit}",
    ]
    return "|".join(parts)


def _units(task: TaskSpec, scored: list[tuple[Item, SampleRecord]], pipeline: str, metric: MetricDef):
    """(unit ids, unit values, unit weights or None, strata or None, each unit's breakdown fields)."""
    values = [rec.verdict(pipeline)[metric.field] for _, rec in scored]
    if task.scoring.aggregate == "circular":
        per_group = circular_units(values, [item.group for item, _ in scored])
        main_fields: dict[Any, dict] = {}  # a group's category is its main row's, as MMBench reports it
        for item, _ in scored:
            if circular_main(item.id):
                main_fields.setdefault(item.group, item.fields)
        ids = list(per_group)
        return ids, [per_group[g] for g in ids], None, None, [main_fields[g] for g in ids]
    weights = [rec.verdict(pipeline)[metric.weight] for _, rec in scored] if metric.weight else None
    strata = None
    if task.scoring.aggregate == "macro":
        strata = [str(item.fields.get(task.scoring.macro_over)) for item, _ in scored]
    return [item.id for item, _ in scored], values, weights, strata, [item.fields for item, _ in scored]


def _judged_only(
    task: TaskSpec, scored: list[tuple[Item, SampleRecord]], settings: ScoringSettings
) -> tuple[list[tuple[Item, SampleRecord]], JudgeInfo]:
    """Rows judged in both pipelines, and the count (with reasons) of those whose judgement failed:
    a failed judgement enters no mean, not even as 0."""
    spec = task.judge
    assert spec is not None
    kept, reasons = [], Counter()
    for item, rec in scored:
        failed = [
            rec.verdict(p).get("judgement")
            for p in PIPELINES
            if not rec.verdict(p).get("unjudged")  # scored without a judge: nothing to fail
            and (rec.verdict(p).get("judgement") or {}).get("status") != "ok"
        ]
        if failed:
            why = next((j.get("reason") for j in failed if j and j.get("reason")), None) or "not judged"
            reasons[why[:300]] += 1
        else:
            kept.append((item, rec))
    n_failed = sum(reasons.values())
    info = JudgeInfo(
        model=settings.judge_model,
        prompt_version=spec.version,
        temperature=spec.temperature,
        parse=spec.parse,
        n_judged=len(kept),
        n_failed=n_failed,
        failed_share=n_failed / len(scored) if scored else 0.0,
        failure_reasons=dict(reasons),
        max_failed_share=settings.judge_max_failed_share,
    )
    return kept, info


@dataclass(frozen=True)
class Aggregated:
    result: TaskResult
    records: dict[str, SampleRecord]


def aggregate(
    task: TaskSpec,
    items: Sequence[Item],
    records: Mapping[str, SampleRecord],
    *,
    dataset: DatasetInfo,
    prompt_version: str,
    generation: dict[str, Any],
    overridden: Sequence[str],
    complete: bool,
    settings: ScoringSettings | None = None,
) -> Aggregated:
    """The task's result from its records, and the records with what only the whole set gives (each
    caption's CIDEr): new records, never the given ones edited."""
    family = FAMILIES[task.family]
    settings = settings or ScoringSettings()
    scored, failures = [], Counter()
    incomplete_groups = set()
    for item in items:
        rec = records.get(item.id)
        if rec is None or not rec.scored:
            if rec is not None:
                failures[(rec.error or "failed")[:300]] += 1
            incomplete_groups.add(item.group)
            continue
        scored.append((item, rec))
    judge = None
    if task.judge is not None:
        scored, judge = _judged_only(task, scored, settings)
        complete = complete and judge.failed_share <= judge.max_failed_share and judge.model is not None
    if task.scoring.aggregate == "circular":
        # A question counts only with all its rotations answered; a group with a failed or
        # missing row is left out (its failed rows are counted above). MMBench's eval_result forms a
        # group from each main row (index < 1e6) and its rotations (index % 1e6): rotations whose main
        # row is not in the data are never scored, in either pipeline (they share their units).
        with_main = {i.group for i in items if circular_main(i.id)}
        scored = [(i, r) for i, r in scored if i.group not in incomplete_groups and i.group in with_main]
    unit_kind = "question-group" if task.scoring.aggregate == "circular" else "row"
    metrics = sorted(metrics_of(family, task), key=lambda m: m.name != primary_metric(task))  # primary first
    parsers = family.parser_names(task)
    extra = family.signature_extra(task, settings)
    pipelines, units = {}, Units(kind=unit_kind, ids=[])
    score_corpus = family.score_corpus if isinstance(family, CorpusFamily) else None
    primary_field = next(m.field for m in metrics if m.name == primary_metric(task))
    for pipeline in PIPELINES:
        # A corpus family gives each row's scores (new records, written to the samples) and the corpus
        # statistics that are not a mean of them.
        corpus = {}
        if score_corpus:
            per_row, corpus = score_corpus(
                task, [(i, r.verdict(pipeline)) for i, r in scored], pipeline, settings
            )
            if per_row:  # a corpus statistic over the verdicts alone (macro F1) leaves the records be
                scored = [
                    (item, rec.with_pipeline(pipeline, {f: v[n] for f, v in per_row.items()}, primary_field))
                    for n, (item, rec) in enumerate(scored)
                ]
        values: dict[str, MetricValue] = {}
        for metric in metrics:
            ids, scores, weights, strata, unit_fields = _units(task, scored, pipeline, metric)
            if metric.name in corpus:
                value, low, high = corpus[metric.name]
            else:
                if task.scoring.aggregate == "macro":
                    value = macro_accuracy(scores, strata or []) if scores else None
                else:
                    value = _mean(scores, weights)
                low, high = bootstrap_ci(scores, strata, weights=weights) if scores else (None, None)
            values[metric.name] = MetricValue(
                value=_pct(value),
                ci_low=_pct(low),
                ci_high=_pct(high),
                n=len(scores),
                direction=metric.direction,
            )
            if metric.name == primary_metric(task):
                primary = (metric, ids, scores, weights, strata, unit_fields)
        metric, ids, scores, weights, strata, unit_fields = primary
        breakdown: dict[str, dict[str, GroupValue]] = {}
        # Verdict fields the family breaks down by, per pipeline (KMMMU: the stage that decided each row).
        by_verdict = family.verdict_breakdown(task) if unit_kind == "row" else ()
        if by_verdict:
            unit_fields = [
                {**fields, **{c: rec.verdict(pipeline).get(c) for c in by_verdict}}
                for fields, (_, rec) in zip(unit_fields, scored, strict=True)
            ]
        for column in (*task.columns.breakdown, *by_verdict):
            by_group: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for n, (fields, score) in enumerate(zip(unit_fields, scores, strict=True)):
                by_group[str(fields.get(column))].append((score, weights[n] if weights else 1.0))
            breakdown[column] = {
                g: GroupValue(value=_pct(_mean([s for s, _ in v], [w for _, w in v])), n=len(v))
                for g, v in sorted(by_group.items())
            }
        n_unparsed = sum(1 for _, rec in scored if rec.verdict(pipeline)["parsed"] is None)
        label = (
            f"published protocol ({parsers['protocol']})"
            if pipeline == "protocol"
            else f"kobench ({parsers['kobench']})"
        )
        pipelines[pipeline] = PipelineResult(
            parser=parsers[pipeline],
            label=label,
            metrics=values,
            n_unparsed=n_unparsed,
            unparsed_share=n_unparsed / len(scored) if scored else 0.0,
            breakdown=breakdown,
            unit_scores=scores,
            unit_weights=weights,
            signature=signature(
                task,
                dataset,
                prompt_version,
                generation,
                overridden,
                parsers[pipeline],
                metric,
                unit_kind,
                extra,
            ),
        )
        units = Units(kind=unit_kind, ids=[str(i) for i in ids], strata=strata)  # alike for both pipelines
    n_failed = sum(failures.values())
    result = TaskResult(
        task=task.name,
        family=task.family,
        modality=task.modality,
        category=task.category,
        primary_metric=primary_metric(task),
        direction=next(m.direction for m in metrics if m.name == primary_metric(task)),
        scale="percent",
        dataset=dataset,
        prompt_version=prompt_version,
        generation=generation,
        generation_overridden=list(overridden),
        n_rows=len(items),
        n=sum(1 for item in items if (r := records.get(item.id)) and r.scored),
        n_failed=n_failed,
        failed_share=n_failed / len(items) if items else 0.0,
        failure_reasons=dict(failures),
        units=units,
        pipelines=pipelines,
        complete=complete,
        judge=judge,
        truncation=truncation(records.get(item.id) for item in items),
        tokens=token_usage(
            (records.get(item.id), len(item.request.images) if item.request else 0) for item in items
        ),
    )
    return Aggregated(result, {**records, **{rec.id: rec for _, rec in scored}})
