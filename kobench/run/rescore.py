"""Answers a results folder already holds, given the metrics their task's family gained since they were
scored, so that a folder written by an earlier kobench resumes (doc_vqa's anls_lmms)."""

from __future__ import annotations

from collections.abc import Mapping

from kobench.families import FAMILIES, primary_metric
from kobench.families.base import CorpusFamily, metrics_of
from kobench.results import PIPELINES
from kobench.run.prepare import PreparedTask
from kobench.run.records import SampleRecord


def with_new_metrics(task: PreparedTask, records: Mapping[str, SampleRecord]) -> dict[str, SampleRecord]:
    """`records` with each metric field they lack scored from their saved prediction by the task's family;
    the values they hold are kept as they are. Corpus and judged tasks are left alone: their fields are
    added after answering (set-level scores, judgements), not missing."""
    family = FAMILIES[task.spec.family]
    if isinstance(family, CorpusFamily) or task.spec.judge is not None:
        return dict(records)
    metrics = metrics_of(family, task.spec)
    fields = {m.field for m in metrics} | {m.weight for m in metrics if m.weight}
    primary = next(m.field for m in metrics if m.name == primary_metric(task.spec))
    items = {item.id: item for item in task.items}
    out = {}
    for rid, record in records.items():
        item = items.get(rid)
        if item is None or not record.scored or all(fields <= record.verdict(p).keys() for p in PIPELINES):
            out[rid] = record
            continue
        if record.loglikelihoods is not None:  # a log-likelihood row is scored from its numbers
            fresh = family.score_loglikelihoods(task.spec, item, record.loglikelihoods)  # type: ignore[attr-defined]
        else:
            fresh = family.score_answer(task.spec, item, record.prediction or "", task.scoring)
        for pipeline in PIPELINES:
            missing = {k: v for k, v in fresh[pipeline].items() if k not in record.verdict(pipeline)}
            record = record.with_pipeline(pipeline, missing, primary)
        out[rid] = record
    return out
