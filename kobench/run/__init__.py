"""The whole flow of `kobench run` on one screen:

tasks -> prepared items (data, prompts) -> responses (cache, then the model) -> samples -> results.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kobench.config import RunConfig
from kobench.errors import BadInputError
from kobench.families import FAMILIES, primary_metric, resolve_tasks
from kobench.families.base import metrics_of
from kobench.families.items import Item
from kobench.models.base import Model
from kobench.models.registry import model_name, parse_model_spec, resolved_settings
from kobench.provenance import VERSION, git_commit, package_versions, portable, portable_arguments
from kobench.results import ModelInfo, RunInfo, RunResult, TaskResult, save_results
from kobench.run.aggregate import aggregate
from kobench.run.cache import ResponseCache, request_key
from kobench.run.output import OutputDir
from kobench.run.prepare import PreparedTask, prepare_task
from kobench.run.progress import Progress
from kobench.tasks.spec import TaskSpec
from kobench.types import Response


def run(config: RunConfig) -> RunResult:
    started = _now()
    tasks = resolve_tasks(config.tasks, config.data.task_dirs)
    adapter, target, entry = parse_model_spec(config.model)
    refuse_unanswerable(adapter, entry.kinds, tasks)
    cache_dir = config.policy.cache_dir
    prepared = [prepare_task(t, config.data, config.scoring, config.judge, cache_dir) for t in tasks]
    options = config.options
    model_info = ModelInfo(
        spec=portable(config.model, cache_dir),
        name=model_name(adapter, target, entry),
        adapter=adapter,
        fingerprint=entry.fingerprint(target, options),
        settings=resolved_settings(entry, options),
    )
    task_settings = {p.spec.name: p.settings() for p in prepared}
    out = OutputDir(config.output) if config.output else None
    if out:
        out.claim(model_info.model_dump(), task_settings, config.policy.overwrite)
    cache = ResponseCache(cache_dir / "responses.sqlite" if config.policy.use_cache else None)
    source = ModelSource(
        lambda: entry.load(target, options),
        adapter,
        model_info.fingerprint,
        model_info.settings,
        cache,
        options.batch_size,
    )
    report = RunReport(
        config,
        model_info,
        _hash({"model": model_info.model_dump(), "tasks": task_settings}),
        started,
        source.stats,
        out,
    )
    judging = Judging(config) if any(t.spec.judge for t in prepared) else None
    with Progress(config.policy.progress) as progress:
        for task in prepared:
            records = out.finished_samples(task.spec.name) if out else {}
            try:
                if not report.interrupted:
                    answer_items(task, records, source.respond, progress, out, options.batch_size)
                    if judging and task.spec.judge:  # a separate pass: all answers judged concurrently
                        judging.judge(task.spec, records, progress)
            except KeyboardInterrupt:
                report.interrupted = True
            report.results[task.spec.name] = score_task(task, records, complete=not report.interrupted)
            if out and not report.interrupted and all(i.id in records for i in task.items):
                out.rewrite_samples(task.spec.name, records)
            report.save()  # after every task, so a crash later loses nothing finished
    cache.close()
    if judging:
        judging.close()
        source.stats.judge_calls, source.stats.judge_cache_hits = judging.calls, judging.cache_hits
    return report.save()


class Judging:
    """The LLM judge of a run: one client (bounded concurrency) and the judgement cache."""

    def __init__(self, config: RunConfig) -> None:
        from kobench.judge.cache import JudgementCache
        from kobench.llm.client import ChatClient

        endpoint = config.judge.endpoint
        assert endpoint, "judged tasks stop before any work without a judge (check_ready)"
        self.client = ChatClient(endpoint, concurrency=config.judge.concurrency)
        path = config.policy.cache_dir / "judgements.sqlite" if config.policy.use_cache else None
        self.cache = JudgementCache(path)
        self.calls = self.cache_hits = 0

    def judge(self, spec: TaskSpec, records: dict[str, dict], progress: Progress) -> None:
        from kobench.run.judging import judge_records

        stats = judge_records(spec, records, self.client, self.cache, progress)
        self.calls += stats.calls
        self.cache_hits += stats.cache_hits

    def close(self) -> None:
        self.client.close()
        self.cache.close()


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


Responder = Callable[[Sequence[Item]], Sequence[Response]]


def answer_items(
    task: PreparedTask,
    records: dict[str, dict],
    respond: Responder,
    progress: Progress,
    out: OutputDir | None,
    chunk_size: int = 8,
) -> None:
    """Ask for every item not yet answered; write each batch's samples as soon as it is back."""
    pending = [i for i in task.items if i.id not in records]
    handle = progress.add(task.spec.name, total=len(task.items))
    progress.advance(handle, len(task.items) - len(pending))
    failed_early = [i for i in pending if i.request is None]
    askable = sorted((i for i in pending if i.request is not None), key=lambda i: len(i.prompt))
    batches = [failed_early] if failed_early else []
    for batch in [*batches, *ModelSource.chunks(askable, chunk_size)]:
        responses = respond(batch) if batch and batch[0].request is not None else [None] * len(batch)
        new = [sample_record(task, item, resp) for item, resp in zip(batch, responses, strict=True)]
        records.update((r["id"], r) for r in new)
        if out:
            out.append_samples(task.spec.name, new)
        progress.advance(handle, len(batch))


def score_task(task: PreparedTask, records: dict[str, dict], complete: bool) -> TaskResult:
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


def sample_record(task: PreparedTask, item: Item, response: Response | None) -> dict:
    """One line of samples/<task>.jsonl: input, output, both pipelines' verdicts, and why it failed."""
    record = {
        "id": item.id,
        "index": item.index,
        "prompt": item.prompt,
        "target": item.target,
        "options": dict(item.options),
        "fields": item.fields,
        "group": item.group,
    }
    error = item.failure or (response.error if response is not None else "no response")
    if response is not None and response.ok and item.failure is None:
        family = FAMILIES[task.spec.family]
        verdicts = family.score_answer(task.spec, item, response.text or "", task.scoring)
        parsers = family.parser_names(task.spec)
        primary = next(m for m in metrics_of(family, task.spec) if m.name == primary_metric(task.spec))
        record.update(
            status="scored",
            error=None,
            prediction=response.text,
            parsed=verdicts["kobench"]["parsed"],
            score=verdicts["kobench"].get(primary.field),  # None until a corpus family scores the set
            protocol={"parser": parsers["protocol"], **verdicts["protocol"]},
            kobench={"parser": parsers["kobench"], **verdicts["kobench"]},
            n_tokens=response.n_tokens,
            n_prompt_tokens=response.prompt_tokens,
            cached=response.cached,
        )
    else:
        record.update(
            status="failed",
            error=error,
            prediction=None,
            parsed=None,
            score=None,
            protocol=None,
            kobench=None,
            n_tokens=0,
            n_prompt_tokens=0,
            cached=False,
        )
    return record


@dataclass
class RunStats:
    model_calls: int = 0  # requests the model generated (cache hits excluded)
    cache_hits: int = 0
    generated_tokens: int = 0
    prompt_tokens: int = 0  # where the adapter reports them (APIs)
    generation_seconds: float = 0.0
    judge_calls: int = 0
    judge_cache_hits: int = 0


@dataclass
class ModelSource:
    """Answers items from the cache first and loads the model only when something is missing."""

    load: Callable[[], Model]
    adapter: str
    fingerprint: str
    settings: dict
    cache: ResponseCache
    batch_size: int
    model: Model | None = None
    stats: RunStats = field(default_factory=RunStats)

    @staticmethod
    def chunks(items: list[Item], size: int) -> list[list[Item]]:
        # One model batch per chunk, so every finished batch is written before the next starts.
        return [items[i : i + size] for i in range(0, len(items), size)]

    def respond(self, items: Sequence[Item]) -> list[Response]:
        keys = [request_key(self.adapter, self.fingerprint, self.settings, i.request) for i in items]
        hits = self.cache.get_many(keys)
        self.stats.cache_hits += len(hits)
        missing = [n for n, k in enumerate(keys) if k not in hits]
        answers: dict[int, Response] = {}
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start : start + self.batch_size]
            if self.model is None:
                self.model = self.load()
            began = time.perf_counter()
            responses = self.model.generate([items[n].request for n in chunk])
            self.stats.generation_seconds += time.perf_counter() - began
            self.stats.model_calls += len(chunk)
            self.stats.generated_tokens += sum(r.n_tokens for r in responses)
            self.stats.prompt_tokens += sum(r.prompt_tokens for r in responses)
            self.cache.put_many((keys[n], r) for n, r in zip(chunk, responses, strict=True))
            answers.update(zip(chunk, responses, strict=True))
        return [hits.get(k) or answers[n] for n, k in enumerate(keys)]


def run_complete(tasks: Iterable[TaskResult], max_failed_share: float, interrupted: bool = False) -> bool:
    """A run is complete when it was not interrupted and every task is: answered (and judged) in full,
    with no larger share of failed rows than `max_failed_share` (DESIGN: exit 5 otherwise)."""
    return not interrupted and all(t.complete and t.failed_share <= max_failed_share for t in tasks)


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
        complete = run_complete(self.results.values(), self.config.policy.max_failed_share, self.interrupted)
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
        )
        result = RunResult(status="complete" if complete else "incomplete", run=run, tasks=tasks)
        if self.out:
            save_results(result, self.out.results_path)
        return result
