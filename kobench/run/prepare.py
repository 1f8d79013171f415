"""Turn a task spec into Items: find its data, check columns, render prompts. No model involved."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.data.formats import merge_columns
from kobench.data.layouts import read_layout
from kobench.data.loader import Table, canonical_identity, load_local, load_table
from kobench.data.records import explode_records
from kobench.data.split_file import keep_listed, read_split_file, split_file_for
from kobench.errors import BadInputError
from kobench.families import FAMILIES
from kobench.families.base import ScoringSettings
from kobench.families.columns import Columns, resolve_columns
from kobench.families.items import Item, circular_group
from kobench.metrics.embedding import DEFAULT_EMBEDDER
from kobench.provenance import portable
from kobench.results import DatasetInfo
from kobench.synth.registry import cached_data
from kobench.tasks.fewshot import draw_examples
from kobench.tasks.prompt import TemplateFailed, evaluate, holds
from kobench.tasks.sandbox import MAX_PROMPT_CHARS, prompt_limit
from kobench.tasks.spec import TaskSpec, key_line
from kobench.types import GenerationSettings

# dataset.revision where no public source names a commit: the Hub's current one is read (and recorded).
UNPINNED = "unpinned"
# The column that says which of `dataset.subsets` a row comes from.
SUBSET_COLUMN = "subset"
# The column that says which of `dataset.subtasks` a row is read for.
SUBTASK_COLUMN = "subtask"


@dataclass(frozen=True)
class PreparedTask:
    spec: TaskSpec
    version: str
    generation: GenerationSettings
    overridden: tuple[str, ...]
    dataset: DatasetInfo
    items: list[Item]
    scoring: ScoringSettings

    def settings(self) -> dict[str, Any]:
        """What must stay the same for two runs' samples of this task to be mixed."""
        return {
            "prompt_version": self.version,
            "generation": self.generation.as_dict(),
            "data": self.dataset.identity,
            # What changes the answers' meaning; the embedder and the judge only re-score them.
            "judging": {"box_convention": self.scoring.box_convention},
        }


def data_path_for(task: TaskSpec, data_paths: tuple[str, ...]) -> Path | None:
    """`TASK=DIR` entries of --data-path; a name that is not a task being run is a usage mistake."""
    for entry in data_paths:
        name, sep, folder = entry.partition("=")
        if not sep or not folder:
            raise BadInputError(f"--data-path {entry!r}: expected TASK=DIR")
        if name == task.name:
            return Path(folder)
    return None


def choose_version(task: TaskSpec, requested: tuple[str, ...]) -> str:
    """`TASK=VERSION` for one task, or a bare `VERSION` for every task that has it."""
    for entry in requested:
        name, sep, version = entry.partition("=")
        if sep and name == task.name:
            if version not in task.prompt.versions:
                raise BadInputError(
                    f"--prompt-version {entry}: task {task.name!r} has versions "
                    f"{', '.join(task.prompt.versions)}"
                )
            return version
    for entry in requested:
        if "=" not in entry and entry in task.prompt.versions:
            return entry
    return task.prompt.default


def generation_for(
    task: TaskSpec, version: str, max_new_tokens: int | None
) -> tuple[GenerationSettings, tuple]:
    pv = task.prompt.versions[version]
    if pv.method == "loglikelihood":  # nothing is generated: --max-new-tokens does not apply
        return GenerationSettings(max_new_tokens=0), ()
    overridden = ()
    tokens = pv.max_new_tokens
    if max_new_tokens is not None and max_new_tokens != pv.max_new_tokens:
        tokens, overridden = max_new_tokens, ("max_new_tokens",)
    return GenerationSettings(max_new_tokens=tokens, stop=tuple(pv.stop)), overridden


def find_table(
    task: TaskSpec,
    data_dir: Path | None,
    revision: str | None,
    cache_dir: Path,
    data_path: Path | None = None,
    split: str | None = None,
) -> Table:
    """The task's rows of `split` (default: the task's split), every config of `dataset.subsets` in turn,
    each row tagged with its config in the column `subset`."""
    configs = task.dataset.configs
    first = _find_config(task, data_dir, revision, cache_dir, data_path, split, configs[0])
    if len(configs) == 1:
        return first
    # Every config at the commit the first resolved to, so a push to the Hub mid-read cannot mix revisions.
    pinned = first.revision or revision
    rest = [_find_config(task, data_dir, pinned, cache_dir, data_path, split, c) for c in configs[1:]]
    tables = [first, *rest]
    if SUBSET_COLUMN in tables[0].columns:
        raise BadInputError(f"{tables[0].origin}: a column is named {SUBSET_COLUMN!r}, which kobench adds")
    tagged = [
        ([{**r, SUBSET_COLUMN: c} for r in t.rows], [*t.columns, SUBSET_COLUMN])
        for t, c in zip(tables, configs, strict=True)
    ]
    rows, columns = merge_columns(tagged)
    origins = sorted({t.origin.split(" (")[0].rsplit("/", 1)[0] for t in tables})
    origin = f"{'; '.join(origins)} ({len(configs)} configs)"
    files = [f for t in tables for f in t.files]
    return Table(rows, columns, origin, files, tables[0].revision)


def _find_config(
    task: TaskSpec,
    data_dir: Path | None,
    revision: str | None,
    cache_dir: Path,
    data_path: Path | None,
    split: str | None,
    subset: str | None,
) -> Table:
    ds = task.dataset
    split = split or ds.split
    image_columns = tuple(task.columns.image or ())
    if data_path is None and ds.local_dir and data_dir and (data_dir / ds.local_dir).is_dir():
        data_path = data_dir / ds.local_dir  # a task without a Hub copy: DATA_DIR/<local_dir>/
    if data_path is not None:  # --data-path TASK=DIR: the user's own copy, in any accepted layout
        if not Path(data_path).is_dir():
            raise BadInputError(f"--data-path {task.name}={data_path}: no such folder")
        table = read_layout(Path(data_path), ds.layout)
        if table is not None:
            return table
        return load_local(Path(data_path), split, image_columns=image_columns, subset=subset)
    if ds.hub_id is None:
        where = f"--data-dir DIR with DIR/{ds.local_dir}/, or " if ds.local_dir else ""
        raise BadInputError(
            f"task {task.name!r} runs on your own data: pass {where}--data-path {task.name}=DIR, a folder "
            f"with a parquet/JSONL/TSV file or a save_to_disk dataset ({task.description})"
        )
    if ds.generator is not None and not (data_dir and (data_dir / ds.hub_id).is_dir()):
        # Generated benchmarks need no download: written into kobench's cache on first use (whole, or not).
        data_dir = cached_data(cache_dir, ds.generator)
    return load_table(
        ds.hub_id,
        split,
        data_dir=data_dir,
        revision=revision or (None if ds.revision == UNPINNED else ds.revision),
        image_columns=image_columns,
        subset=subset,
    )


def with_subtasks(task: TaskSpec, table: Table) -> Table:
    """The table read as `dataset.subtasks`: for each subtask in turn, the rows its expression keeps, in
    file order, each tagged with the subtask's name (a row kept by two subtasks is there twice; a row kept
    by none is not there). BadInputError naming the task file, the subtask and the row."""
    subtasks = task.dataset.subtasks
    if not subtasks:
        return table
    if SUBTASK_COLUMN in table.columns:
        raise BadInputError(f"{table.origin}: a column is named {SUBTASK_COLUMN!r}, which kobench adds")
    rows = []
    for name, expression in subtasks.items():
        for number, row in enumerate(table.rows, 1):
            try:
                keep = holds(expression, row)
            except TemplateFailed as exc:
                line = key_line(task.path, ("dataset", "subtasks", name))
                raise BadInputError(
                    f"{task.path}:{line or '?'}: dataset.subtasks.{name}: {table.origin}: row {number}: {exc}"
                ) from exc
            if keep:
                rows.append({**row, SUBTASK_COLUMN: name})
    return replace(table, rows=rows, columns=[*table.columns, SUBTASK_COLUMN])


def with_derived(task: TaskSpec, table: Table) -> Table:
    """The table with the task's derived columns computed on every row (BadInputError naming the row)."""
    if not task.derived:
        return table
    clash = [name for name in task.derived if name in table.columns]
    if clash:
        raise BadInputError(f"{table.origin}: task {task.name!r} derives {clash}; the data has such columns")
    rows = []
    for number, row in enumerate(table.rows, 1):
        row = dict(row)
        for name, expression in task.derived.items():
            try:
                row[name] = evaluate(expression, row)
            except TemplateFailed as exc:
                line = key_line(task.path, ("derived", name))
                raise BadInputError(
                    f"{task.path}:{line or '?'}: derived.{name}: {table.origin}: row {number}: {exc}"
                ) from exc
        rows.append(row)
    return replace(table, rows=rows, columns=[*table.columns, *task.derived])


def fewshot_pool(
    task: TaskSpec, table: Table, data: DataOptions, cache_dir: Path, data_path: Path | None
) -> tuple[list[dict[str, Any]], str]:
    """The rows few-shot examples are drawn from, whole (never cut by --limit), and their split."""
    split = task.dataset.fewshot_split or task.dataset.split
    if split == task.dataset.split:
        return table.rows, split
    found = find_table(task, data.data_dir, data.data_revision, cache_dir, data_path, split=split)
    return with_derived(task, explode_records(with_subtasks(task, found), task.dataset.records)).rows, split


def _limited(task: TaskSpec, rows: list[dict], cols: Columns, limit: int | None) -> list[dict]:
    if limit is None or limit >= len(rows):
        return rows
    if task.scoring.aggregate != "circular" or cols.id is None:
        return rows[:limit]
    # Circular tasks are limited by question: the first N questions with all their rotations.
    groups = [circular_group(row.get(cols.id), str(i)) for i, row in enumerate(rows)]
    keep = set(list(dict.fromkeys(groups))[:limit])
    return [row for row, group in zip(rows, groups, strict=True) if group in keep]


def prepare_task(
    task: TaskSpec,
    data: DataOptions,
    scoring: ScoringOptions,
    judge: JudgeOptions,
    cache_dir: Path,
    *,
    for_scoring: bool = True,
) -> PreparedTask:
    """The task's rows as Items, ready to ask: data found, columns checked, prompts rendered. Without
    `for_scoring` (`kobench tokens` reads the prompts only), what scoring needs (Java, an embedder, a
    judge) is not checked."""
    version = choose_version(task, scoring.prompt_versions)
    task = task.for_prompt_version(version)  # a prompt version may name its own protocol parser
    generation, overridden = generation_for(task, version, scoring.max_new_tokens)
    family = FAMILIES[task.family]
    settings = ScoringSettings(
        box_convention=scoring.box_convention or task.scoring.box_convention,
        embedder=scoring.embedder or DEFAULT_EMBEDDER if task.family == "caption" else None,
        judge_model=judge.model if task.family == "judged" else None,
        judge_max_failed_share=judge.max_failed_share,
    )
    if for_scoring:
        family.check_ready(task, settings)  # the judge, Java, the embedder: before data or a model is touched
    data_path = data_path_for(task, data.data_paths)
    found = find_table(task, data.data_dir, data.data_revision, cache_dir, data_path)
    table = with_derived(task, explode_records(with_subtasks(task, found), task.dataset.records))
    cols = resolve_columns(task, table.columns, table.origin, family.roles, own_data=data_path is not None)
    rows, split, origin = table.rows, task.dataset.split, table.origin
    listed = split_file_for(task.name, data.split_files)
    if listed is not None:
        rows, split = keep_listed(rows, cols.id, read_split_file(listed), table.origin)
        origin = f"{origin}, rows listed in {listed}"
    identity = canonical_identity(rows, cols.used())
    pool = None
    if task.running.fewshot:
        pool, pool_split = fewshot_pool(task, table, data, cache_dir, data_path)
        split = f"{split}+fewshot:{pool_split}"
        # The examples are part of every prompt: another few-shot split is other data.
        identity = f"{identity}+{canonical_identity(pool, cols.used())}"
    dataset = DatasetInfo(
        hub_id=task.dataset.hub_id or "",
        split=split,
        origin=portable(origin, cache_dir),
        identity=identity,
        revision=table.revision,
    )
    rows = _limited(task, rows, cols, data.limit)
    limit = scoring.max_prompt_chars or MAX_PROMPT_CHARS
    # Every prompt of the run is rendered here (milliseconds), so a template that fails on any row, or
    # writes more than a prompt may have, stops the run before a model is loaded.
    try:
        with prompt_limit(limit):
            if pool is None:
                items = family.prepare(task, rows, cols, version, generation)
            else:
                same = (task.dataset.fewshot_split or task.dataset.split) == task.dataset.split
                shots = draw_examples(rows, pool, task.running, same_split=same)
                items = family.prepare(task, rows, cols, version, generation, shots)
    except TemplateFailed as exc:
        raise BadInputError(_template_error(task, version, origin, exc)) from exc
    except ValueError as exc:  # e.g. a few-shot split with too few rows
        raise BadInputError(f"{task.path}: prompt version {version!r}: {exc}") from exc
    check_prompt_sizes(task, version, origin, items, limit)
    return PreparedTask(task, version, generation, overridden, dataset, items, settings)


def template_key(task: TaskSpec, version: str, source: str) -> tuple[str, ...] | None:
    """The task-file key that holds the template or expression `source` (None: none does)."""
    pv = task.prompt.versions[version]
    keys: list[tuple[tuple[str, ...], str | list[str] | None]] = [
        (("prompt", "versions", version, "template"), pv.template),
        (("prompt", "versions", version, "choices"), pv.choices),
        (("prompt", "versions", version, "target"), pv.target),
    ]
    if task.judge:
        keys += [(("judge", "template"), task.judge.template), (("judge", "system"), task.judge.system)]
    keys += [(("derived", name), text) for name, text in task.derived.items()]
    return next((key for key, text in keys if text == source), None)


def _template_error(task: TaskSpec, version: str, origin: str, exc: TemplateFailed) -> str:
    """'tasks/x.yaml:31: prompt.versions.v1.template: local jsonl ... : row 2 (id q2): prompt template
    failed: ZeroDivisionError: division by zero'."""
    key = template_key(task, version, exc.source) or ("prompt", "versions", version)
    line = key_line(task.path, key)
    row = f"row {exc.row} (id {exc.row_id})" if exc.row is not None else "a row"
    return f"{task.path}:{line or '?'}: {'.'.join(key)}: {origin}: {row}: {exc.why}"


def prompt_size(item: Item) -> int:
    """A request's characters as the model is sent them: its messages, and its longest continuation."""
    request = item.request
    if request is None:
        return 0
    return sum(len(m.text) for m in request.messages) + max(map(len, request.continuations), default=0)


def check_prompt_sizes(task: TaskSpec, version: str, origin: str, items: list[Item], limit: int) -> None:
    """BadInputError naming the first row whose prompt (few-shot examples and system message included)
    has more than `limit` characters."""
    for item in items:
        size = prompt_size(item)
        if size > limit:
            key = ("prompt", "versions", version, "template")
            line = key_line(task.path, key)
            raise BadInputError(
                f"{task.path}:{line or '?'}: {'.'.join(key)}: {origin}: row {item.index + 1} (id {item.id}): "
                f"the prompt has {size:,} characters, more than the {limit:,} a prompt may have "
                "(--max-prompt-chars, default 200,000: raise it for prompts meant to be this long)"
            )
