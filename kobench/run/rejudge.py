"""`kobench judge RESULTS_DIR --judge ...`: judge (again) the finished answers of a results folder without
regenerating them: another judge, a judge that failed too often, or answers made before a judge was set."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kobench.config import JudgeOptions, validated
from kobench.data.formats import json_lines
from kobench.errors import BadInputError, where
from kobench.families import load_tasks
from kobench.families.base import ScoringSettings
from kobench.families.items import Item
from kobench.judge.cache import JudgementCache
from kobench.llm.client import ChatClient, Endpoint
from kobench.results import RunResult, TaskResult, load_results, save_results
from kobench.run import run_complete
from kobench.run.aggregate import aggregate
from kobench.run.judging import judge_records
from kobench.run.output import OutputDir, OutputLock
from kobench.run.progress import Progress
from kobench.run.records import SampleRecord
from kobench.tasks.spec import TaskSpec


def _samples(path: Path) -> dict[str, SampleRecord]:
    records = {}
    for number, line in json_lines(path):
        try:
            record = SampleRecord.model_validate(line)
        except ValueError as exc:
            raise BadInputError(f"{where(path, number)}: not a kobench sample record: {exc}") from None
        records[record.id] = record
    return records


def _items(records: dict[str, SampleRecord]) -> list[Item]:
    """The rows as aggregation needs them, rebuilt from the samples (the dataset is not needed)."""
    return [
        Item(
            id=r.id,
            index=r.index,
            request=None,
            target=r.target,
            options=tuple((letter, text) for letter, text in r.options.items()),
            fields=r.fields,
            group=r.group,
            failure=r.error if not r.scored else None,
        )
        for r in sorted(records.values(), key=lambda r: r.index)
    ]


def rejudge(
    results_dir: Path,
    judge: str,
    *,
    api_key_env: str = "OPENAI_API_KEY",
    concurrency: int = 16,
    tasks: Sequence[str] = (),
    task_dirs: Sequence[Path] = (),
    cache_path: Path | None = None,
    max_failed_judgements: float = 0.05,
    max_retry_after: float = 60.0,
    progress: bool = False,
) -> RunResult:
    out = OutputDir(Path(results_dir))
    result = load_results(out.results_path)
    registry = load_tasks(task_dirs)
    judged = [
        name
        for name in result.tasks
        if name in registry and registry[name].judge is not None and (not tasks or name in tasks)
    ]
    unknown = [t for t in tasks if t not in result.tasks]
    if unknown or not judged:
        raise BadInputError(
            f"{out.results_path}: "
            + (f"no task {', '.join(unknown)} in these results" if unknown else "holds no judged task")
            + f" (tasks: {', '.join(result.tasks)})"
        )
    try:
        endpoint = Endpoint.parse(judge, api_key_env)
    except BadInputError as exc:
        raise BadInputError(f"--judge: {exc}") from None
    options = validated(
        JudgeOptions,
        "judge",
        endpoint=endpoint,
        concurrency=concurrency,
        max_failed_share=max_failed_judgements,
        max_retry_after=max_retry_after,
    )
    settings = ScoringSettings(judge_model=endpoint.model, judge_max_failed_share=options.max_failed_share)
    with OutputLock(out.path) as lock:
        lock.acquire()  # a run still writing this folder, or another `kobench judge` of it, is refused
        cache = JudgementCache(cache_path)
        client = ChatClient(
            endpoint, concurrency=options.concurrency, max_retry_after=options.max_retry_after
        )
        return _judge_again(out, result, registry, judged, client, cache, settings, progress)


def _judge_again(
    out: OutputDir,
    result: RunResult,
    registry: dict[str, TaskSpec],
    judged: list[str],
    client: ChatClient,
    cache: JudgementCache,
    settings: ScoringSettings,
    progress: bool,
) -> RunResult:
    updated: dict[str, TaskResult] = dict(result.tasks)
    calls = cache_hits = 0  # this pass's own, what the results then report (not the first run's)
    with client, Progress(progress) as bar:
        for name in judged:
            spec, old = registry[name], result.tasks[name]
            path = out.samples_path(name)
            if not path.is_file():
                raise BadInputError(f"{path}: no samples to judge (the folder's answers are needed)")
            records, stats = judge_records(spec, _samples(path), client, cache, bar)
            calls, cache_hits = calls + stats.calls, cache_hits + stats.cache_hits
            scored = aggregate(
                spec,
                _items(records),
                records,
                dataset=old.dataset,
                prompt_version=old.prompt_version,
                generation=old.generation,
                overridden=old.generation_overridden,
                complete=len(records) == old.n_rows,
                settings=settings,
            )
            updated[name] = scored.result
            out.rewrite_samples(name, scored.records)
    cache.close()
    # The run's own rule on failed rows still holds: judging again changes judgements, not rows.
    arguments = result.run.arguments
    complete = run_complete(
        updated.values(),
        arguments.get("max_failed_share", 0.05),
        max_truncated_share=arguments.get("max_truncated_share"),
    )
    run = result.run.model_copy(update={"judge_calls": calls, "judge_cache_hits": cache_hits})
    new = result.model_copy(
        update={"tasks": updated, "status": "complete" if complete else "incomplete", "run": run}
    )
    save_results(new, out.results_path)
    return new
