"""The whole flow of `kobench run` on one screen:

tasks -> prepared items (data, prompts) -> responses (cache, then the model) -> samples -> results.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from kobench.config import RunConfig
from kobench.errors import BadInputError
from kobench.families import FAMILIES, resolve_tasks
from kobench.families.items import Item
from kobench.images import limits as image_limits
from kobench.models.fingerprint import pinned_commit
from kobench.models.registry import accepted, model_name, parse_model_spec, resolved_settings
from kobench.parallel import SHARDING, Meetings, Ranks
from kobench.provenance import VERSION, git_commit, package_versions, portable, portable_arguments
from kobench.results import ModelInfo, RunInfo, RunResult, TaskResult, save_results
from kobench.run.aggregate import Aggregated, aggregate
from kobench.run.cache import ResponseCache
from kobench.run.judging import Judging
from kobench.run.output import OutputDir, OutputLock
from kobench.run.prepare import PreparedTask, prepare_task
from kobench.run.progress import Progress
from kobench.run.records import SampleRecord, sample_record
from kobench.run.rescore import with_new_metrics
from kobench.run.respond import CHECKPOINT_EVERY, CHECKPOINT_SECONDS, Responder, RunStats
from kobench.tasks.spec import TaskSpec


def run(config: RunConfig) -> RunResult:
    """The run; under torchrun, this process's share of it (see kobench.parallel), every rank returning
    the merged results."""
    ranks = Ranks.from_env()
    if ranks.parallel:
        refuse_unshardable(config, ranks)
    # Rank 0 holds the output folder for the run; the other ranks write only their own files in it.
    with Meetings(ranks) as meetings, OutputLock(config.output if ranks.main else None) as lock:
        return _run(config, ranks, meetings, lock)


def _run(config: RunConfig, ranks: Ranks, meetings: Meetings, lock: OutputLock) -> RunResult:
    started = _now()
    image_limits()  # a bad $KOBENCH_MAX_IMAGE_* is refused here, before any work, not at the first image
    tasks = resolve_tasks(config.tasks, config.data.task_dirs)
    config.scoring.check_prompt_versions({t.name: t.prompt.versions for t in tasks})
    adapter, target, entry = parse_model_spec(config.model)
    refuse_unanswerable(adapter, entry.kinds, tasks)
    if adapter != "hf" and (family := config.options.family_settings()):
        given = ", ".join("--" + name.replace("_", "-") for name in family)
        raise BadInputError(f"{given}: per-family settings of the hf adapter; the {adapter} adapter has none")
    # Fingerprinted before any data is read: a mistyped model folder or Hub id is said at once, not after
    # every task's rows were loaded (or the Hub asked for them, with its retries). By rank 0 alone: every
    # rank then loads, caches and reports the one commit, even if main moved between their lookups.
    fingerprint = meetings.from_main_alone(lambda: entry.fingerprint(target, config.options))
    cache_dir = config.policy.cache_dir
    # Rank 0 first: what preparing writes to the caches (rendered images, datasets) is written once.
    prepared = meetings.main_first(
        lambda: [prepare_task(t, config.data, config.scoring, config.judge, cache_dir) for t in tasks]
    )
    options = config.options
    name = model_name(adapter, target, entry)
    refuse_unaccepted(f"{adapter} model {name}", accepted(entry, target, options), prepared)
    model_info = ModelInfo(
        spec=portable(config.model, cache_dir),
        name=name,
        adapter=adapter,
        fingerprint=fingerprint,
        settings=resolved_settings(entry, options),
    )
    task_settings = {p.spec.name: p.settings() for p in prepared}
    out = OutputDir(config.output, rank=ranks.rank if ranks.parallel else None) if config.output else None
    if out:
        claim = out.claim

        def held_and_claimed() -> None:
            lock.acquire()  # before the claim, which --overwrite lets empty the folder
            claim(model_info.model_dump(), task_settings, config.policy.overwrite)

        meetings.main_alone(held_and_claimed)
    path = cache_dir / "responses.sqlite" if config.policy.use_cache else None
    cache = meetings.main_first(lambda: ResponseCache(path))  # rank 0 creates its tables
    # A Hub model is loaded at the commit its fingerprint names, not at whatever its branch points to by
    # then (a team's CI may push to main while the data loads); its recorded settings are left as given.
    commit = pinned_commit(fingerprint)
    load_options = options.model_copy(update={"revision": commit}) if commit else options
    responder = Responder(
        lambda: entry.load(target, load_options), adapter, model_info.fingerprint, model_info.settings, cache
    )
    report = RunReport(
        config,
        model_info,
        _hash({"model": model_info.model_dump(), "tasks": task_settings}),
        started,
        responder.stats,
        out if ranks.main else None,  # rank 0 alone writes the results
    )
    main = ranks.main
    judging = Judging(config.judge, config.policy) if main and any(t.spec.judge for t in prepared) else None
    try:
        with Progress(config.policy.progress and main) as progress:
            for task in prepared:
                records = with_new_metrics(task, out.finished_samples(task.spec.name)) if out else {}
                try:
                    if not report.interrupted:
                        answer_items(
                            task, records, responder, progress, out, ranks.owns(*_conversations(task))
                        )
                        if ranks.parallel and out:  # every rank's answers in, rank 0 takes them all
                            meetings.wait_for_all()
                            if main:
                                records = with_new_metrics(task, out.finished_samples(task.spec.name))
                        if judging and task.spec.judge:  # a separate pass: all answers judged concurrently
                            records = judging.judge(task.spec, records, progress)
                except KeyboardInterrupt:
                    report.interrupted = True
                if not main:
                    continue
                if report.interrupted and ranks.parallel and out:  # what every rank had finished, told
                    records = with_new_metrics(task, out.finished_samples(task.spec.name))
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
    if ranks.parallel and not report.interrupted:  # an interrupted rank meets no one: the others may be gone
        combine_ranks(responder.stats, meetings.gather(responder.stats))
        return meetings.from_main(report.save() if main else None)
    return report.save()


def refuse_unshardable(config: RunConfig, ranks: Ranks) -> None:
    """What a data parallel run cannot do, said on every rank before any work."""
    how = f"under torchrun ({ranks.world_size} processes)"
    if config.output is None:
        raise BadInputError(f"a run {how} needs --output: the ranks meet in its samples folder")
    if config.options.device_map is not None:
        raise BadInputError(
            f"--device-map {config.options.device_map} {how}: every rank would spread its copy over all "
            "the GPUs; run one process with --device-map for a model too large for one GPU, or torchrun "
            "without it for one copy per GPU"
        )
    if config.model.startswith("vllm:"):
        raise BadInputError(
            f"a vllm: model {how} would start one engine per process on the same GPUs; run one process "
            "with --data-parallel-size N and vLLM shares the rows among its replicas"
        )


def _conversations(task: PreparedTask) -> tuple[list[Item], Callable[[Item], str], Callable[[Item], tuple]]:
    """A task's items with what ranks.owns needs to keep each conversation on one rank."""
    return task.items, lambda item: item.id, lambda item: item.request.depends_on if item.request else ()


def combine_ranks(stats: RunStats, every_rank: list[RunStats]) -> None:
    """Rank 0's counters become the whole run's: the counts summed, the time spent generating the slowest
    rank's (the ranks work side by side, so tokens per second is the run's throughput), each rank's own
    counts kept under `data_parallel`."""
    stats.model_calls = sum(s.model_calls for s in every_rank)
    stats.cache_hits = sum(s.cache_hits for s in every_rank)
    stats.generated_tokens = sum(s.generated_tokens for s in every_rank)
    stats.prompt_tokens = sum(s.prompt_tokens for s in every_rank)
    stats.generation_seconds = max(s.generation_seconds for s in every_rank)
    # rank 0 may have been answered from the cache alone and never loaded the model
    stats.loading = stats.loading or next((s.loading for s in every_rank if s.loading), None)
    stats.data_parallel = {
        "world_size": len(every_rank),
        "sharding": SHARDING,
        "ranks": [
            {
                "rank": rank,
                "model_calls": s.model_calls,
                "cache_hits": s.cache_hits,
                "generated_tokens": s.generated_tokens,
                "generation_seconds": round(s.generation_seconds, 4),
                "batch": s.batch,
            }
            for rank, s in enumerate(every_rank)
        ],
    }


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
    items: Sequence[Item] | None = None,
) -> None:
    """Ask for every item (of `items`, this rank's share; default all the task's) not yet answered, all at
    once, adding each answer's record to `records` as it comes; checkpoint the samples every
    CHECKPOINT_EVERY answers (and whatever came back when the stream stops early)."""
    items = task.items if items is None else items
    pending = [i for i in items if i.id not in records]
    share = f" (this rank's {len(items)} of {len(task.items)})" if len(items) < len(task.items) else ""
    handle = progress.add(task.spec.name + share, total=len(items))
    progress.advance(handle, len(items) - len(pending))
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
            tasks.values(), policy.max_failed_share, self.interrupted, policy.max_truncated_share
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
            loading=stats.loading,
            data_parallel=stats.data_parallel,
            image_limits=asdict(image_limits()),
        )
        result = RunResult(status="complete" if complete else "incomplete", run=run, tasks=tasks)
        if self.out:
            save_results(result, self.out.results_path)
        return result
