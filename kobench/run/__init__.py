"""The whole flow of `kobench run` on one screen:

tasks -> prepared items (data, prompts) -> responses (cache, then the model) -> samples -> results.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kobench.config import RunConfig
from kobench.errors import BadInputError
from kobench.families import FAMILIES, resolve_tasks
from kobench.models.registry import accepted, model_name, parse_model_spec, resolved_settings
from kobench.provenance import VERSION, git_commit, package_versions, portable, portable_arguments
from kobench.results import ModelInfo, RunInfo, RunResult, TaskResult, save_results
from kobench.run.aggregate import Aggregated, aggregate
from kobench.run.cache import ResponseCache
from kobench.run.judging import Judging
from kobench.run.output import OutputDir
from kobench.run.prepare import PreparedTask, prepare_task
from kobench.run.progress import Progress
from kobench.run.records import SampleRecord, sample_record
from kobench.run.rescore import with_new_metrics
from kobench.run.respond import CHECKPOINT_EVERY, CHECKPOINT_SECONDS, Responder, RunStats
from kobench.tasks.spec import TaskSpec


def run(config: RunConfig) -> RunResult:
    started = _now()
    tasks = resolve_tasks(config.tasks, config.data.task_dirs)
    adapter, target, entry = parse_model_spec(config.model)
    refuse_unanswerable(adapter, entry.kinds, tasks)
    cache_dir = config.policy.cache_dir
    prepared = [prepare_task(t, config.data, config.scoring, config.judge, cache_dir) for t in tasks]
    options = config.options
    name = model_name(adapter, target, entry)
    refuse_unaccepted(f"{adapter} model {name}", accepted(entry, target, options), prepared)
    model_info = ModelInfo(
        spec=portable(config.model, cache_dir),
        name=name,
        adapter=adapter,
        fingerprint=entry.fingerprint(target, options),
        settings=resolved_settings(entry, options),
    )
    task_settings = {p.spec.name: p.settings() for p in prepared}
    out = OutputDir(config.output) if config.output else None
    if out:
        out.claim(model_info.model_dump(), task_settings, config.policy.overwrite)
    cache = ResponseCache(cache_dir / "responses.sqlite" if config.policy.use_cache else None)
    responder = Responder(
        lambda: entry.load(target, options), adapter, model_info.fingerprint, model_info.settings, cache
    )
    report = RunReport(
        config,
        model_info,
        _hash({"model": model_info.model_dump(), "tasks": task_settings}),
        started,
        responder.stats,
        out,
    )
    judging = Judging(config.judge, config.policy) if any(t.spec.judge for t in prepared) else None
    try:
        with Progress(config.policy.progress) as progress:
            for task in prepared:
                records = with_new_metrics(task, out.finished_samples(task.spec.name)) if out else {}
                try:
                    if not report.interrupted:
                        answer_items(task, records, responder, progress, out)
                        if judging and task.spec.judge:  # a separate pass: all answers judged concurrently
                            records = judging.judge(task.spec, records, progress)
                except KeyboardInterrupt:
                    report.interrupted = True
                scored = score_task(task, records, complete=not report.interrupted)
                report.results[task.spec.name] = scored.result
                if out and not report.interrupted and all(i.id in records for i in task.items):
                    out.rewrite_samples(task.spec.name, scored.records)
                report.save()  # after every task, so a crash later loses nothing finished
    finally:  # however the run ends: the model (a server, a GPU) and the caches are let go
        responder.close()
        cache.close()
        if judging:
            judging.close()
    if judging:
        responder.stats.judge_calls, responder.stats.judge_cache_hits = judging.calls, judging.cache_hits
    return report.save()


def refuse_unaccepted(model: str, accepts: frozenset[str], tasks: Sequence[PreparedTask]) -> None:
    """A model that cannot take what a task's requests carry (images for a text-only model, log-likelihoods
    for an API that only generates) is refused before any model work, naming the model and the tasks."""
    wrong = []
    for task in tasks:
        needs = frozenset().union(*(i.request.needs for i in task.items if i.request is not None))
        if needs - accepts:
            missing = ", ".join(
                "log-likelihood scoring" if n == "loglikelihood" else n for n in sorted(needs - accepts)
            )
            why = f"{task.spec.name} needs {missing}"
            if "loglikelihood" in needs - accepts:
                version = task.spec.run_version or task.spec.prompt.default
                generative = [v for v, p in task.spec.prompt.versions.items() if p.method == "generate"]
                why += f" (prompt version {version})"
                if generative:
                    hint = f"--prompt-version {task.spec.name}={generative[0]}"
                    why += f"; its generative versions need none: {hint}"
            wrong.append(why)
    if wrong:
        shown = sorted(accepts - {"loglikelihood"}) or sorted(accepts)  # what it reads; scoring is said apart
        scores = " (and scores log-likelihoods)" if "loglikelihood" in accepts else ""
        raise BadInputError(f"the {model} accepts {', '.join(shown)} only{scores}: {'; '.join(wrong)}")


def refuse_unanswerable(adapter: str, kinds: frozenset[str] | None, tasks: Sequence[TaskSpec]) -> None:
    """An adapter that cannot answer a task's kind of request (an OCR matcher asked for boxes) says so
    before any work, rather than failing every row."""
    if kinds is None:
        return
    wrong = [(t.name, t.kind or FAMILIES[t.family].default_kind) for t in tasks]
    wrong = [(name, kind) for name, kind in wrong if kind not in kinds]
    if wrong:
        listed = ", ".join(f"{name} ({kind})" for name, kind in wrong)
        raise BadInputError(
            f"the {adapter} model cannot answer {listed}; it answers {', '.join(sorted(kinds))} requests"
        )


def answer_items(
    task: PreparedTask,
    records: dict[str, SampleRecord],
    responder: Responder,
    progress: Progress,
    out: OutputDir | None,
) -> None:
    """Ask for every item not yet answered, all at once, adding each answer's record to `records` as it
    comes; checkpoint the samples every CHECKPOINT_EVERY answers (and whatever came back when the stream
    stops early)."""
    pending = [i for i in task.items if i.id not in records]
    handle = progress.add(task.spec.name, total=len(task.items))
    progress.advance(handle, len(task.items) - len(pending))
    failed_early = [sample_record(task.spec, i, None, task.scoring) for i in pending if i.request is None]
    records.update((r.id, r) for r in failed_early)
    if out and failed_early:
        out.append_samples(task.spec.name, failed_early)
    progress.advance(handle, len(failed_early))
    askable = {i.id: i for i in pending if i.request is not None}
    buffer: list[SampleRecord] = []
    flushed = time.monotonic()
    try:
        for response in responder.answers([i.request for i in askable.values() if i.request is not None]):
            record = sample_record(task.spec, askable[response.request_id], response, task.scoring)
            records[record.id] = record
            buffer.append(record)
            progress.advance(handle, 1)
            if out and (len(buffer) >= CHECKPOINT_EVERY or time.monotonic() - flushed > CHECKPOINT_SECONDS):
                out.append_samples(task.spec.name, buffer)
                buffer, flushed = [], time.monotonic()
    finally:
        if out and buffer:
            out.append_samples(task.spec.name, buffer)


def score_task(task: PreparedTask, records: dict[str, SampleRecord], complete: bool) -> Aggregated:
    done = all(i.id in records for i in task.items)
    return aggregate(
        task.spec,
        task.items,
        records,
        dataset=task.dataset,
        prompt_version=task.version,
        generation=task.generation.as_dict(),
        overridden=task.overridden,
        complete=complete and done,
        settings=task.scoring,
    )


def run_complete(
    tasks: Iterable[TaskResult],
    max_failed_share: float,
    interrupted: bool = False,
    max_truncated_share: float | None = None,
) -> bool:
    """A run is complete when it was not interrupted and every task is: answered (and judged) in full,
    with no larger share of failed rows than `max_failed_share` and, where one is set, of answers cut off
    at max_new_tokens than `max_truncated_share` (DESIGN: exit 5 otherwise)."""
    return not interrupted and all(
        t.complete and t.failed_share <= max_failed_share and not truncated_too_often(t, max_truncated_share)
        for t in tasks
    )


def truncated_too_often(task: TaskResult, max_truncated_share: float | None) -> bool:
    return (
        max_truncated_share is not None
        and task.truncation is not None
        and task.truncation.truncated_share > max_truncated_share
    )


def _hash(data: dict) -> str:
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class RunReport:
    """Builds (and, with an output folder, writes) the RunResult as tasks finish."""

    config: RunConfig
    model: ModelInfo
    settings_hash: str
    started: str
    stats: RunStats
    out: OutputDir | None
    results: dict[str, TaskResult] = field(default_factory=dict)
    interrupted: bool = False

    def save(self) -> RunResult:
        tasks = dict(self.results)
        previous = self.out.previous_results() if self.out else None
        if previous:  # tasks from earlier runs into the same folder stay in its results
            for name, data in previous.get("tasks", {}).items():
                tasks.setdefault(name, TaskResult.model_validate(data))
        policy = self.config.policy
        complete = run_complete(
            self.results.values(), policy.max_failed_share, self.interrupted, policy.max_truncated_share
        )
        stats, seconds = self.stats, self.stats.generation_seconds
        run = RunInfo(
            kobench_version=VERSION,
            model=self.model,
            arguments=portable_arguments(self.config.arguments(), self.config.policy.cache_dir),
            settings_hash=self.settings_hash,
            packages=package_versions(),
            git_commit=git_commit(),
            started_at=self.started,
            ended_at=_now(),
            model_calls=stats.model_calls,
            cache_hits=stats.cache_hits,
            generated_tokens=stats.generated_tokens,
            prompt_tokens=stats.prompt_tokens,
            judge_calls=stats.judge_calls,
            judge_cache_hits=stats.judge_cache_hits,
            generation_seconds=round(seconds, 4),
            tokens_per_second=round(stats.generated_tokens / seconds, 3) if seconds > 0 else None,
            concurrency=stats.concurrency,
            batch=stats.batch,
        )
        result = RunResult(status="complete" if complete else "incomplete", run=run, tasks=tasks)
        if self.out:
            save_results(result, self.out.results_path)
        return result
