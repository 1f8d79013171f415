"""`kobench report`: one self-contained HTML file (it opens offline and fetches nothing) with the leaderboard
and the charts of `kobench table` / `plot`, a per-task summary (value and 95% interval, n, unparsed,
failed, truncated, signature), and a sample browser: each row's prompt, target, and per model the answer,
what each pipeline parsed and scored, and the judge's text; filtered by the rows' categories, by verdict,
by text, and two models side by side on the same rows ("rows where they disagree").

The page stays under `max_bytes`. Text comes first: every row's text is kept while it fits; when it does
not, each task keeps its first rows (in dataset order) within a fair share of the room (a small task keeps
all of its rows, the others share the rest), and the page says how many it shows of how many. Thumbnails
(`with_images`: many benchmarks' images may not be redistributed) fill what room is left the same way.

Each task's rows are a JSON block of their own, read by the page's script only when the task is chosen,
and the script draws a page of rows at a time, so a 5,000-row task opens at once (bench/html_report_open.py
measures it in headless Chromium).
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kobench.efficiency import FILE_NAMES, EfficiencyResult
from kobench.errors import BadInputError, KobenchError
from kobench.families import load_tasks
from kobench.files.output_file import check_output_file, writing
from kobench.files.temporaries import clear_stale_temporaries
from kobench.provenance import VERSION
from kobench.report import html_page
from kobench.report.inputs import load_inputs, result_folders
from kobench.report.leaderboard import CATEGORY_ORDER, MODALITY_ORDER, render_table
from kobench.report.sample_rows import Sample, read_samples
from kobench.report.thumbnails import ImageSource, Thumbnails
from kobench.results import PIPELINES, RunResult, write_text_atomic

DEFAULT_MAX_BYTES = 20_000_000
# Room kept for what is counted roughly (HTML escapes, the script's own state): a page lands a little
# under max_bytes, never over.
SLACK = 0.02


@dataclass(frozen=True)
class Source:
    """One results file, the folder its samples/ are in, and that folder as the page names it."""

    result: RunResult
    folder: Path
    label: str


@dataclass(frozen=True)
class TaskShown:
    task: str
    shown: int  # rows on the page
    total: int  # rows in the samples files (the union over the models)
    thumbnails: int = 0  # rows with their thumbnails on the page


@dataclass(frozen=True)
class ReportInfo:
    path: Path
    size: int  # bytes written
    max_bytes: int
    tasks: tuple[TaskShown, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def folder_label(folder: Path) -> str:
    """A results folder as the page names it: relative to the working folder when inside it, else its
    own name (never an absolute path of this machine)."""
    folder = folder.resolve()
    try:
        return folder.relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return folder.name


def load_sources(paths: Sequence[Path]) -> tuple[list[Source], list[EfficiencyResult]]:
    """Each path's runs (with the folder their samples are in) and efficiency files, as `kobench table`
    reads them."""
    sources: list[Source] = []
    efficiency: list[EfficiencyResult] = []
    for path in (each for given in paths for each in result_folders(Path(given))):
        results, measured = load_inputs([path])
        efficiency.extend(measured)
        folder = path if path.is_dir() else path.parent  # where the run's samples/ are
        sources.extend(Source(r, folder, folder_label(folder)) for r in results)
    if not sources:
        names = " or ".join(FILE_NAMES.values())
        raise BadInputError(f"no results.json among {', '.join(map(str, paths))} (only {names})")
    return sources, efficiency


def newest_by_model(sources: Sequence[Source]) -> dict[str, dict[str, Source]]:
    """Model name (in the order given, as the leaderboard's columns) -> task -> the source of its newest
    run of that task (what `kobench table` shows)."""
    out: dict[str, dict[str, Source]] = {s.result.run.model.name: {} for s in sources}
    for source in sorted(sources, key=lambda s: s.result.run.ended_at):
        for task in source.result.tasks:
            out[source.result.run.model.name][task] = source
    return out


def _task_order(by_model: Mapping[str, Mapping[str, Source]]) -> list[tuple[str, str]]:
    """(category, task) in the leaderboard's order: modality, category, then name."""
    found: dict[str, tuple[str, str]] = {}
    for tasks in by_model.values():
        for task, source in tasks.items():
            result = source.result.tasks[task]
            found.setdefault(task, (result.modality, result.category))
    modality = {m: i for i, m in enumerate(MODALITY_ORDER)}
    category = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    ordered = sorted(
        found.items(),
        key=lambda item: (
            modality.get(item[1][0], len(modality)),
            category.get(item[1][1], len(category)),
            item[1][1],
            item[0],
        ),
    )
    return [(c, t) for t, (_, c) in ordered]


# --- rows, and how many fit ------------------------------------------------------------------------


@dataclass
class TaskRows:
    """One task's rows across models, joined by id, in dataset order."""

    name: str
    category: str
    models: list[int]  # indexes into the page's model list
    rows: list[dict[str, Any]]  # id, i (index), p (prompt), t (target), f (fields), img (thumbnail keys)
    answers: dict[int, list[dict[str, Any] | None]]  # model index -> one answer (or None) per row
    summary: dict[int, dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    images_note: str | None = None

    def row_sizes(self) -> list[int]:
        """Each row's bytes in the page: its question and every model's answer."""
        return [
            len(json.dumps([row, [a[n] for a in self.answers.values()]], ensure_ascii=False).encode())
            for n, row in enumerate(self.rows)
        ]


def _join(
    name: str,
    category: str,
    samples: Mapping[int, list[Sample]],
    summary: dict[int, dict[str, Any]],
    scrub: html_page.Scrubber,
) -> TaskRows:
    rows: dict[str, dict[str, Any]] = {}
    for model_samples in samples.values():
        for s in model_samples:
            rows.setdefault(s.id, {"id": s.id, "i": s.index, "p": s.prompt, "t": s.target, "f": s.fields})
    ordered = sorted(rows.values(), key=lambda r: (r["i"], r["id"]))
    position = {r["id"]: n for n, r in enumerate(ordered)}
    answers: dict[int, list[dict[str, Any] | None]] = {}
    for model, model_samples in samples.items():
        column: list[dict[str, Any] | None] = [None] * len(ordered)
        for s in model_samples:
            answer = dict(s.answer)
            if s.prompt != ordered[position[s.id]]["p"]:  # another prompt version: its own prompt
                answer["p"] = s.prompt
            if "e" in answer:  # why a row failed, in kobench's words: may name a file of the data
                answer["e"] = scrub.message(answer["e"])
            column[position[s.id]] = answer
        answers[model] = column
    return TaskRows(name, category, list(samples), ordered, answers, summary)


def fair_counts(sizes: Sequence[Sequence[int]], budget: int) -> list[int]:
    """How many leading items of each list fit `budget` bytes in all, each list within one shared cap
    (the largest that fits): a short list keeps all of its items, long ones share the rest alike."""
    if sum(map(sum, sizes)) <= budget:
        return [len(s) for s in sizes]

    def kept(cap: int) -> tuple[list[int], int]:
        counts, total = [], 0
        for items in sizes:
            n = used = 0
            while n < len(items) and used + items[n] <= cap:
                used += items[n]
                n += 1
            counts.append(n)
            total += used
        return counts, total

    low, high = 0, max(map(sum, sizes), default=0)
    while low < high:  # the largest cap whose rows fit
        mid = (low + high + 1) // 2
        if kept(mid)[1] <= budget:
            low = mid
        else:
            high = mid - 1
    return kept(low)[0]


# --- the page --------------------------------------------------------------------------------------


def _plots(results: Sequence[RunResult], efficiency: Sequence[EfficiencyResult], pipeline: str) -> str:
    """The charts of `kobench plot` (the radar too, from 3 benchmarks), as data: images."""
    from kobench.report.plot import collect, plot_results

    radar = len(collect(results, pipeline).rows) >= 3
    with tempfile.TemporaryDirectory() as tmp:
        paths = plot_results(
            results, Path(tmp) / "scores.png", pipeline=pipeline, radar=radar, efficiency=efficiency
        )
        images = [base64.b64encode(p.read_bytes()).decode("ascii") for p in paths]
    return "".join(
        f'<img class="plot" alt="leaderboard chart" src="data:image/png;base64,{data}">' for data in images
    )


def _thumbnails(
    tasks: list[TaskRows], by_model: Mapping[str, Mapping[str, Source]], names: list[str], images: ImageSource
) -> tuple[dict[str, dict[str, str]], list[list[int]], Thumbnails]:
    """Each task's thumbnails (key -> data URL) and, per row, the bytes its new thumbnails add."""
    thumbs = Thumbnails()
    per_task: dict[str, dict[str, str]] = {}
    sizes: list[list[int]] = []
    for task in tasks:
        found: dict[str, Sequence[Any]] = {}
        reasons = []
        for model in task.models:  # the first model whose run's data can be found again
            source = by_model[names[model]][task.name]
            try:
                found = images(source.result, task.name)
                break
            except KobenchError as exc:
                reasons.append(str(exc))
        if not found:
            why = reasons[0] if reasons else "the rows hold no images"
            task.images_note = f"No thumbnails for {task.name}: {why}"
        urls: dict[str, str] = {}
        row_sizes = []
        for row in task.rows:
            keys = thumbs.keys(found.get(row["id"], ()))
            new = [k for k in keys if k not in urls]
            urls.update({k: thumbs.urls[k] for k in new})
            row["img"] = keys
            # Each key where the row names it, and each new thumbnail once, in the images block.
            row_sizes.append(
                sum(len(k) + 3 for k in keys) + sum(len(thumbs.urls[k]) + len(k) + 6 for k in new)
            )
        per_task[task.name] = urls
        sizes.append(row_sizes)
    return per_task, sizes, thumbs


def _read_tasks(
    by_model: Mapping[str, Mapping[str, Source]],
    specs: Mapping[str, Any],
    pipeline: str,
    scrub: html_page.Scrubber,
) -> list[TaskRows]:
    """Every task's rows, each model's samples joined on them, and its summary per model."""
    names = list(by_model)
    tasks = []
    for category, name in _task_order(by_model):
        samples: dict[int, list[Sample]] = {}
        summary: dict[int, dict[str, Any]] = {}
        missing = []
        for model_index, model in enumerate(names):
            source = by_model[model].get(name)
            if source is None:
                continue
            result = source.result.tasks[name]
            summary[model_index] = html_page.task_summary(result, pipeline)
            path = source.folder / "samples" / f"{name}.jsonl"
            if path.is_file():
                samples[model_index] = read_samples(path, result, specs.get(name))
            else:
                missing.append(f"{model} ({source.label}/samples/{name}.jsonl)")
        task = _join(name, category, samples, summary, scrub)
        if missing:
            task.notes.append(f"No samples for {', '.join(missing)}: its numbers only.")
        tasks.append(task)
    return tasks


def _fixed_parts(
    sources: Sequence[Source],
    by_model: Mapping[str, Mapping[str, Source]],
    efficiency: Sequence[EfficiencyResult],
    tasks: Sequence[TaskRows],
    pipeline: str,
    plots: bool,
    notes: list[str],
) -> dict[str, str]:
    """What the page holds whatever the rows: the leaderboard, the charts, the per-task summary."""
    results = [s.result for s in sources]
    charts = ""
    if plots:
        try:
            charts = _plots(results, efficiency, pipeline)
        except ImportError as exc:
            notes.append(f"No charts: matplotlib is not installed ({exc.name}); pip install 'kobench[ocr]'.")
        except KobenchError as exc:
            notes.append(f"No charts: {exc}")
    names = list(by_model)
    grouped = [
        (t.category, t.name, [(names[m], by_model[names[m]][t.name].result.tasks[t.name]) for m in t.summary])
        for t in tasks
    ]
    return {
        "leaderboard": render_table(
            results, efficiency=efficiency, fmt="html", pipeline=pipeline, with_ci=True
        ),
        "charts": charts,
        "summary": html_page.summary_table(grouped, pipeline),
    }


def _keep_rows(tasks: Sequence[TaskRows], room: int, limit: str) -> tuple[list[int], int]:
    """Cut each task to the rows that fit (fair_counts); returns how many rows each had, and the room
    left."""
    sizes = [t.row_sizes() for t in tasks]
    kept = fair_counts(sizes, room)
    for task, n, total in zip(tasks, kept, map(len, sizes), strict=True):
        del task.rows[n:]
        for column in task.answers.values():
            del column[n:]
        if n < total:
            task.notes.append(
                f"This page shows the first {n:,} of {total:,} rows (dataset order), to stay under"
                f" {limit}; every row is in each model's samples/{task.name}.jsonl."
            )
    return [len(s) for s in sizes], room - sum(sum(s[:n]) for s, n in zip(sizes, kept, strict=True))


def _keep_thumbnails(
    tasks: Sequence[TaskRows],
    by_model: Mapping[str, Mapping[str, Source]],
    images: ImageSource,
    room: int,
    limit: str,
    notes: list[str],
) -> dict[str, dict[str, str]]:
    """Thumbnails for the leading rows of each task that fit `room` (fair_counts); the others have none."""
    thumbs, sizes, made = _thumbnails(list(tasks), by_model, list(by_model), images)
    for task, n in zip(tasks, fair_counts(sizes, max(room, 0)), strict=True):
        for row in task.rows[n:]:
            row["img"] = []
        used = {k for row in task.rows for k in row["img"]}
        thumbs[task.name] = {k: v for k, v in thumbs[task.name].items() if k in used}
        if n < len(task.rows):
            task.notes.append(f"Thumbnails for the first {n:,} rows only, to stay under {limit}.")
        if task.images_note:
            task.notes.append(task.images_note)
    if made.unreadable:
        notes.append(f"{made.unreadable} images could not be read and have no thumbnail.")
    return thumbs


def write_report(
    paths: Sequence[Path],
    out: Path,
    *,
    with_images: bool = False,
    images: ImageSource | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    pipeline: str = "kobench",
    title: str | None = None,
    plots: bool = True,
    task_dirs: Sequence[Path] = (),
    secrets: Sequence[str] = (),
) -> ReportInfo:
    """Write the report of the results in `paths` (results.json files or folders, as `kobench table`
    takes; the samples are read from each folder's samples/) to `out`, at most `max_bytes`.

    `with_images` puts thumbnails of each row's images in the page, found by `images` (the task's data as
    the run read it: kobench.run.task_images.TaskImages); without a source, or where the data is not
    found, the page says so. `secrets` (API keys: see html_page.secret_values) are written [redacted]
    wherever they occur; local folders are written relative to the working folder or by name."""
    if pipeline not in PIPELINES:
        raise BadInputError(f"pipeline must be one of {', '.join(PIPELINES)}, not {pipeline!r}")
    if max_bytes < 100_000:
        raise BadInputError(f"max_bytes {max_bytes:,} is too small for the page itself (100,000 at least)")
    check_output_file(out, "--out")  # before any reading: a folder there, or one that takes no file
    sources, efficiency = load_sources(paths)
    scrub = html_page.Scrubber({s.folder: s.label for s in sources}, secrets)
    by_model = newest_by_model(sources)
    tasks = _read_tasks(by_model, load_tasks(task_dirs), pipeline, scrub)
    notes: list[str] = []
    fixed = _fixed_parts(sources, by_model, efficiency, tasks, pipeline, plots, notes)
    # The charts are base64 (a path could be spelled inside it by chance): only text is scrubbed.
    fixed.update(
        leaderboard=scrub(fixed["leaderboard"]),
        summary=scrub(fixed["summary"]),
        title=title or "kobench report",
        version=VERSION,
    )
    overhead = sum(len(html_page.asset(a).encode()) for a in html_page.ASSETS)
    overhead += sum(len(v.encode()) for v in fixed.values())
    room = int(max_bytes * (1 - SLACK)) - overhead - 2_000 * (len(tasks) + 1)
    if room <= 0:
        raise BadInputError(
            f"max_bytes {max_bytes:,}: the leaderboard and charts alone need {overhead:,} bytes"
        )
    limit = f"{max_bytes / 1e6:g} MB"
    totals, room = _keep_rows(tasks, room, limit)
    thumbs: dict[str, dict[str, str]] = {}
    if with_images and images is None:
        notes.append("No thumbnails: this report was written without a way to find the tasks' data.")
    elif with_images and images is not None:
        thumbs = _keep_thumbnails(tasks, by_model, images, room, limit, notes)
    for task in tasks:
        task.notes = [scrub.message(n) for n in task.notes]
    page = _page(fixed, list(by_model), tasks, thumbs, [scrub.message(n) for n in notes], scrub, with_images)
    out = Path(out)
    with writing(out, "--out"):
        _write_atomic(out, page)
    shown = [
        TaskShown(t.name, len(t.rows), total, sum(1 for r in t.rows if r.get("img")))
        for t, total in zip(tasks, totals, strict=True)
    ]
    return ReportInfo(out, len(page.encode()), max_bytes, tuple(shown), tuple(notes))


def _page(
    fixed: dict[str, str],
    names: list[str],
    tasks: list[TaskRows],
    thumbs: Mapping[str, Mapping[str, str]],
    notes: list[str],
    scrub: html_page.Scrubber,
    with_images: bool,
) -> str:
    import html

    meta = {
        "models": names,
        "images": with_images,
        "tasks": [
            {
                "name": t.name,
                "category": t.category,
                "models": t.models,
                "rows": len(t.rows),
                "notes": t.notes,
            }
            for t in tasks
        ],
    }
    blocks = [scrub(html_page.json_block("kobench-meta", meta))]
    for n, t in enumerate(tasks):
        data = {
            "name": t.name,
            "rows": t.rows,
            "answers": {str(k): v for k, v in t.answers.items()},
            "summary": {str(k): v for k, v in t.summary.items()},
        }
        blocks.append(scrub(html_page.json_block(f"kobench-task-{n}", data)))
        if thumbs.get(t.name):  # data: URLs are not scrubbed (a path could be spelled inside base64)
            blocks.append(html_page.json_block(f"kobench-images-{n}", thumbs[t.name]))
    slots = {
        "title": html.escape(fixed["title"]),
        "version": html.escape(fixed["version"]),
        "css": html_page.asset("report.css"),
        "js": html_page.asset("report.js"),
        "leaderboard": fixed["leaderboard"],
        "charts": fixed["charts"],
        "summary": fixed["summary"],
        "notes": html_page.notes_list(notes),
        "data": "".join(blocks),
    }
    return html_page.fill(html_page.asset("report.html"), slots)


def _write_atomic(path: Path, text: str) -> None:
    """Via a temporary file beside it and a rename (a reader never sees half a page), a killed writer's
    half-written page cleared first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_stale_temporaries(path)
    write_text_atomic(path, text)
