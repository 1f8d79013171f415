"""Leaderboards from results files, laid out as model cards lay them out: Category | Benchmark | one column
per model. Each cell is a task's primary metric; the best value of a row is bold (lower wins for CER); a
cell made with other settings than the first value of its row is marked †, an incomplete one *, so
numbers that are not comparable never sit silently side by side. Other harnesses' numbers (lmms-eval,
VLMEvalKit: kobench.report.importers) are rows of their own, marked with their source, never averaged.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tabulate import tabulate

from kobench.efficiency import EfficiencyResult, EfficiencyValue
from kobench.report.importers import ImportedResult, benchmark_key, newest_scores
from kobench.report.signatures import signatures_agree
from kobench.results import RunResult, TaskResult

CATEGORY_ORDER = (
    "Document",
    "OCR",
    "Chart",
    "Culture",
    "Knowledge",
    "General",
    "Language",
    "Instruction Following",
    "Math",
    "Captioning",
    "Judge",
    "Open-ended",
    "Demo",
)
# Model cards give an image table and a text table; each has its own categories and its own Average.
# Efficiency (kobench tokens / speed) is a table of its own after them: other units, no Average.
EFFICIENCY = "efficiency"
MODALITY_ORDER = ("image", "text", EFFICIENCY)
MODALITY_TITLES = {"image": "Image benchmarks", "text": "Text benchmarks", EFFICIENCY: "Efficiency"}
# The order of efficiency rows: tokenizer cost, then visual tokens, then speed.
EFFICIENCY_METRICS = (
    "tokens_per_1k_characters",
    "tokens_per_1k_morphemes",
    "visual_tokens_per_image",
    "ttft_ms",
    "decode_tokens_per_second",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "requests_per_second",
    "peak_memory_mb",
)
# What the leaderboard and plot show of them (the four kinds); the latency percentiles, requests/s
# and peak memory stay in speed.json and `kobench speed`'s own table.
TABLE_EFFICIENCY_METRICS = (
    "tokens_per_1k_characters",
    "tokens_per_1k_morphemes",
    "visual_tokens_per_image",
    "ttft_ms",
    "decode_tokens_per_second",
)
EFFICIENCY_DIFFERENT = (
    "† measured under other conditions than the first value in its row (device, dtype, corpus, image"
    " size or batch)"
)
EFFICIENCY_CAPTION = (
    "Efficiency as `kobench tokens` and `kobench speed` measured it, in each row's unit (↓: lower is better);"
    " never part of an Average."
)
Format = Literal["markdown", "csv", "html", "latex"]
KOBENCH = "kobench"  # the source of kobench's own rows; other harnesses' rows are marked with theirs
# Imported metrics named like kobench's default reading: the label leaves them out.
PLAIN_METRICS = ("accuracy", "acc", "Overall")
DIFFERENT = "†"
INCOMPLETE = "*"
NOTES = {
    DIFFERENT: "† made with other settings than the first value in its row (prompt, parser, judge or data; "
    "see the signatures)",
    INCOMPLETE: "* incomplete run",
}


@dataclass(frozen=True)
class Column:
    """One model: its tasks, from the newest run that has each (when runs are merged)."""

    name: str
    tasks: dict[str, TaskResult]


@dataclass
class Cell:
    value: float | None = None
    ci: float | None = None  # half-width of the 95% interval
    marks: str = ""
    best: bool = False


@dataclass
class Row:
    category: str
    task: str
    label: str
    direction: str
    cells: list[Cell] = field(default_factory=list)
    modality: str = "image"
    source: str = KOBENCH  # or the harness that reported the row's numbers (importers.SOURCES)
    benchmark: str = ""  # the benchmark's name, shared by its rows from different sources ("" = task)
    metric: str = ""


def columns_of(results: Sequence[RunResult], merge: bool = True) -> list[Column]:
    """One column per model name; with `merge`, several runs of one model are one column, each task
    taken from the newest run (by end time) that has it. Without, one column per results file."""
    if not merge:
        names = _unique([r.run.model.name for r in results])
        return [Column(n, dict(r.tasks)) for n, r in zip(names, results, strict=True)]
    by_model: dict[str, list[RunResult]] = {}
    for result in results:
        by_model.setdefault(result.run.model.name, []).append(result)
    columns = []
    for name, runs in by_model.items():
        tasks: dict[str, TaskResult] = {}
        for run in sorted(runs, key=lambda r: r.run.ended_at):  # newer runs overwrite older ones
            tasks.update(run.tasks)
        columns.append(Column(name, tasks))
    return columns


def mixed_builds(results: Sequence[RunResult]) -> list[str]:
    """A note for each merged column whose tasks come from runs of different builds of the model under one
    name (their fingerprints differ: a checkpoint retrained at the same path, a Hub repository that moved
    on), so that one column is never silently two models."""
    builds: dict[str, dict[str, str]] = {}  # model name -> task -> the fingerprint of the run shown
    order: list[str] = []  # the fingerprints, oldest run first
    for result in sorted(results, key=lambda r: r.run.ended_at):
        shown = builds.setdefault(result.run.model.name, {})
        shown.update(dict.fromkeys(result.tasks, result.run.model.fingerprint))
        order.append(result.run.model.fingerprint)
    notes = []
    for name, shown in builds.items():
        distinct = [f for f in dict.fromkeys(order) if f in shown.values()]
        if len(distinct) > 1:
            notes.append(
                f"{name}: these tasks come from runs of {len(distinct)} builds of the model"
                f" ({', '.join(distinct)}); --all-runs gives each run its own column."
            )
    return notes


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def build_rows(columns: Sequence[Column], pipeline: str = "kobench") -> tuple[list[Row], list[str]]:
    """Rows in modality then category order, their cells, and the footnotes the marks need."""
    first: dict[str, TaskResult] = {}
    for column in columns:
        for name, task in column.tasks.items():
            first.setdefault(name, task)
    order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    modality = {m: i for i, m in enumerate(MODALITY_ORDER)}
    names = sorted(
        first,
        key=lambda n: (
            modality.get(first[n].modality, len(modality)),
            order.get(first[n].category, len(order)),
            first[n].category,
            n,
        ),
    )
    rows, notes = [], set()
    for name in names:
        task0 = first[name]
        label = name
        if task0.primary_metric != "accuracy":  # accuracy is the default reading; others are named
            label += f" ({task0.primary_metric}{' ↓' if task0.direction == 'lower' else ''})"
        row = Row(
            task0.category, name, label, task0.direction, modality=task0.modality, metric=task0.primary_metric
        )
        reference = None
        for column in columns:
            task = column.tasks.get(name)
            cell = Cell()
            if task is not None and pipeline in task.pipelines:
                piped = task.pipelines[pipeline]
                metric = piped.metrics[task.primary_metric]
                cell.value = metric.value
                if metric.ci_low is not None and metric.ci_high is not None:
                    cell.ci = (metric.ci_high - metric.ci_low) / 2
                reference = reference or piped.signature
                if not signatures_agree(piped.signature, reference):
                    cell.marks += DIFFERENT
                if not task.complete:
                    cell.marks += INCOMPLETE
                notes.update(cell.marks)
            row.cells.append(cell)
        _mark_best(row)
        rows.append(row)
    return rows, [NOTES[m] for m in (DIFFERENT, INCOMPLETE) if m in notes]


def with_imported_columns(columns: list[Column], imported: Sequence[ImportedResult]) -> list[Column]:
    """The columns, and one more for each model only another harness reported."""
    known = {c.name for c in columns}
    extra = [name for name in dict.fromkeys(r.model for r in imported) if name not in known]
    return [*columns, *(Column(name, {}) for name in extra)]


def imported_rows(names: Sequence[str], imported: Sequence[ImportedResult]) -> tuple[list[Row], list[str]]:
    """Other harnesses' rows for the columns `names`: one per (source, benchmark), each model's score from
    the newest file reporting it; † a cell made with another harness version, split or metric than the
    row's first, * one the harness ran on a subset (a limit)."""
    scores = newest_scores(imported)
    rows, marks = [], set()
    for source, benchmark in dict.fromkeys((s, b) for s, b, _ in scores):
        found = [scores.get((source, benchmark, name)) for name in names]
        first = next((s for s in found if s is not None), None)
        if first is None:
            continue
        metric = (
            ""
            if first.metric in PLAIN_METRICS
            else f" ({first.metric}{' ↓' if first.direction == 'lower' else ''})"
        )
        row = Row(
            first.category,
            f"{benchmark} [{source}]",
            f"{benchmark}{metric} [{source}]",
            first.direction,
            modality=first.modality,
            source=source,
            benchmark=benchmark,
            metric="accuracy" if first.metric in PLAIN_METRICS else first.metric,
        )
        for score in found:
            cell = Cell()
            if score is not None:
                cell.value, cell.ci = score.value, score.ci
                cell.marks = (DIFFERENT if score.settings != first.settings else "") + (
                    "" if score.complete else INCOMPLETE
                )
                marks.update(cell.marks)
            row.cells.append(cell)
        _mark_best(row)
        rows.append(row)
    notes = [NOTES[m] for m in (DIFFERENT, INCOMPLETE) if m in marks]
    for source in dict.fromkeys(r.source for r in rows):
        versions = sorted({r.version or "version not recorded" for r in imported if r.source == source})
        notes.append(
            f"[{source}] {source}'s numbers ({', '.join(versions)}) from its own files: its prompts, parsers"
            " and data; not re-scored, averaged or gated by kobench; † there: another harness version, split"
            " or metric than the row's first value."
        )
    return rows, notes


def board_rows(
    columns: Sequence[Column], pipeline: str = "kobench", imported: Sequence[ImportedResult] = ()
) -> tuple[list[Row], list[str]]:
    """kobench's rows (build_rows) and other harnesses' (imported_rows) in one order: a benchmark's rows
    from different sources side by side, kobench's first, each marked with its source."""
    rows, notes = build_rows(columns, pipeline)
    if not imported:
        return rows, notes
    others, other_notes = imported_rows([c.name for c in columns], imported)
    ours = {benchmark_key(r.task): r for r in rows}
    place = {}  # the name a row sorts by: a benchmark kobench runs too sorts by kobench's task, after it
    for row in others:  # and sits in kobench's category
        twin = ours.get(benchmark_key(row.benchmark))
        if twin is not None:
            row.category, row.modality = twin.category, twin.modality
        place[row.task] = twin.task if twin is not None else row.benchmark.lower()
    order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    modality = {m: i for i, m in enumerate(MODALITY_ORDER)}
    merged = sorted(
        rows + others,
        key=lambda r: (
            modality.get(r.modality, len(modality)),
            order.get(r.category, len(order)),
            r.category,
            place.get(r.task, r.task) if r.source != KOBENCH else r.task,
            r.source != KOBENCH,
            r.source,
        ),
    )
    shared = {benchmark_key(r.benchmark) for r in others if benchmark_key(r.benchmark) in ours}
    for row in rows:
        if benchmark_key(row.task) in shared:
            row.label += f" [{KOBENCH}]"
    if shared:
        other_notes.append(
            f"[{KOBENCH}] kobench's run of a benchmark another harness reports too: both rows shown, never"
            " merged."
        )
    return merged, list(dict.fromkeys([*notes, *other_notes]))


def efficiency_rows(
    names: Sequence[str], efficiency: Sequence[EfficiencyResult]
) -> tuple[list[Row], list[str]]:
    """The Efficiency rows for the columns `names`: one per measured benchmark ("Tokens / 1k chars
    (constitution)", "TTFT ms (batch 1)"), each model's newest value of it; bold the best in the row's own
    direction; † a value measured under other conditions than the row's first (device, dtype, corpus)."""
    newest: dict[str, dict[str, EfficiencyValue]] = {}
    for result in sorted(efficiency, key=lambda r: r.created_at):
        for value in result.values:
            if value.metric in TABLE_EFFICIENCY_METRICS:
                newest.setdefault(result.model, {})[value.benchmark] = value
    found: dict[str, EfficiencyValue] = {}
    for name in names:
        for benchmark, value in newest.get(name, {}).items():
            found.setdefault(benchmark, value)
    order = {m: i for i, m in enumerate(EFFICIENCY_METRICS)}
    rows, notes = [], set()
    for benchmark in sorted(found, key=lambda b: (order.get(found[b].metric, len(order)), _natural(b))):
        first = found[benchmark]
        label = benchmark + (" ↓" if first.direction == "lower" else "")
        row = Row("Efficiency", benchmark, label, first.direction, modality=EFFICIENCY)
        reference = None
        for name in names:
            value = newest.get(name, {}).get(benchmark)
            cell = Cell()
            if value is not None:
                cell.value = value.value
                reference = reference if reference is not None else value.conditions
                if value.conditions != reference:
                    cell.marks += DIFFERENT
                notes.update(cell.marks)
            row.cells.append(cell)
        _mark_best(row)
        rows.append(row)
    return rows, [EFFICIENCY_DIFFERENT] if DIFFERENT in notes else []


def _natural(text: str) -> list[Any]:
    """ "batch 8" before "batch 32", "448×448" before "1280×720"."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _mark_best(row: Row) -> None:
    values = [c.value for c in row.cells if c.value is not None]
    if len(values) > 1:
        best = min(values) if row.direction == "lower" else max(values)
        for cell in row.cells:
            cell.best = cell.value == best


def average_row(rows: Sequence[Row], n_columns: int) -> tuple[list[float | None], int]:
    """Per column, the mean over kobench's benchmarks every column has where higher is better (a CER does
    not average with accuracies, nor another harness's number with kobench's); and how many that is."""
    usable = [
        r
        for r in rows
        if r.source == KOBENCH and r.direction == "higher" and all(c.value is not None for c in r.cells)
    ]
    if not usable:
        return [None] * n_columns, 0
    return [sum(r.cells[i].value for r in usable) / len(usable) for i in range(n_columns)], len(usable)


def _number(value: float | None, ci: float | None, with_ci: bool, pm: str) -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}"
    return f"{text} {pm} {ci:.1f}" if with_ci and ci is not None else text


def render_table(
    results: Sequence[RunResult],
    *,
    fmt: Format = "markdown",
    pipeline: str = "kobench",
    group_by: str = "category",
    with_ci: bool = False,
    merge: bool = True,
    average: bool = True,
    efficiency: Sequence[EfficiencyResult] = (),
    imported: Sequence[ImportedResult] = (),
) -> str:
    """The leaderboard; with `efficiency` (tokens.json / speed.json), an Efficiency table after the
    benchmarks, its models matched to the columns by name (a model measured only there gets a column);
    with `imported` (other harnesses' files, kobench.report.importers), their rows among kobench's, each
    marked with its source, matched to the columns by model name in the same way."""
    columns = with_efficiency_columns(with_imported_columns(columns_of(results, merge), imported), efficiency)
    all_rows, notes = board_rows(columns, pipeline, imported)
    if merge:
        notes = [*notes, *mixed_builds(results)]
    measured, efficiency_notes = efficiency_rows([c.name for c in columns], efficiency)
    all_rows += measured
    sections = [[r for r in all_rows if r.modality == m] for m in dict.fromkeys(r.modality for r in all_rows)]

    def section(rows: list[Row], modality: str | None = None) -> str:
        if rows and rows[0].modality == EFFICIENCY:
            return _render_section(
                rows,
                columns,
                efficiency_notes,
                fmt,
                pipeline,
                group_by,
                False,
                False,
                modality,
                caption=EFFICIENCY_CAPTION,
            )
        return _render_section(rows, columns, notes, fmt, pipeline, group_by, with_ci, average, modality)

    if len(sections) <= 1:
        return section(all_rows)
    if fmt == "csv":  # one sheet: each row says its modality
        parts = [section(rows, rows[0].modality) for rows in sections]
        return parts[0] + "".join(part.split("\n", 1)[1] for part in parts[1:])
    out = []
    for rows in sections:
        title = MODALITY_TITLES.get(rows[0].modality, rows[0].modality)
        heading = {
            "markdown": f"**{title}**",
            "html": f"<h3>{html.escape(title)}</h3>",
            "latex": f"% {title}",
        }
        out.append(f"{heading[fmt]}\n\n{section(rows)}")
    return "\n".join(out)


def with_efficiency_columns(columns: list[Column], efficiency: Sequence[EfficiencyResult]) -> list[Column]:
    """The columns, and one more for each model measured for efficiency only."""
    known = {c.name for c in columns}
    extra = [name for name in dict.fromkeys(r.model for r in efficiency) if name not in known]
    return [*columns, *(Column(name, {}) for name in extra)]


def _render_section(
    rows: list[Row],
    columns: list[Column],
    notes: list[str],
    fmt: Format,
    pipeline: str,
    group_by: str,
    with_ci: bool,
    average: bool,
    modality: str | None = None,
    caption: str | None = None,
) -> str:
    """One table: `rows` by category, their Average; with `modality`, a leading Modality column (CSV)."""
    grouped = group_by == "category"
    header = (["Category"] if grouped else []) + ["Benchmark"] + [c.name for c in columns]
    if modality is not None:
        header = ["Modality", *header]
    body: list[list[str]] = []
    previous = None
    bold = {"markdown": ("**", "**"), "html": ("<b>", "</b>"), "latex": ("\\textbf{", "}"), "csv": ("", "")}[
        fmt
    ]
    pm = "\\pm" if fmt == "latex" else "±"
    for row in rows:
        cells = []
        for cell in row.cells:
            text = _number(cell.value, cell.ci, with_ci, pm)
            if fmt == "latex" and with_ci and cell.ci is not None and cell.value is not None:
                text = f"${text}$"
            if cell.best and cell.value is not None:
                text = f"{bold[0]}{text}{bold[1]}"
            cells.append(text + (f" {cell.marks}" if cell.marks and fmt != "csv" else ""))
        # Machines read CSV: every row names its category, a missing value is an empty cell.
        lead = [row.category if row.category != previous or fmt == "csv" else ""] if grouped else []
        if fmt == "csv":
            cells = ["" if c.value is None else t for c, t in zip(row.cells, cells, strict=True)]
        body.append([*([modality] if modality else []), *lead, row.label, *cells])
        previous = row.category
    n_avg = 0
    if average and rows:
        means, n_avg = average_row(rows, len(columns))
        if n_avg:
            lead = ["Average", f"({n_avg} benchmarks)"] if grouped else [f"Average ({n_avg} benchmarks)"]
            body.append(
                [*([modality] if modality else []), *lead, *[_number(m, None, False, pm) for m in means]]
            )
    if n_avg:
        others = " (other harnesses' rows are not averaged)" if any(r.source != KOBENCH for r in rows) else ""
        notes = [
            *notes,
            f"Average: mean over the {n_avg} benchmarks every model has where higher is better{others}.",
        ]
    if caption is None:
        label = "kobench Korean-aware extraction" if pipeline == "kobench" else "published protocol parsers"
        caption = f"Each task's primary metric ×100 (accuracies and rates in %), {label}."
        if with_ci:
            caption += " ± half the 95% bootstrap interval."
    marks = ["".join(sorted({m for c in r.cells for m in c.marks})) for r in rows]
    return _format(fmt, header, body, [caption, *notes], marks, n_lead=2 if grouped else 1)


def _format(
    fmt: Format, header: list[str], body: list[list[str]], notes: list[str], marks: list[str], n_lead: int
) -> str:
    if fmt == "markdown":
        table = tabulate(body, headers=header, tablefmt="github", disable_numparse=True)
        return "\n".join([table, "", *notes]) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([*header, "marks"])
        for n, line in enumerate(body):  # plain values; the marks in their own column
            writer.writerow([*(c.replace("**", "") for c in line), marks[n] if n < len(marks) else ""])
        return buf.getvalue()
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        lines = [f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>"]
        for line in body:
            cells = "".join(f"<td>{_html_cell(c)}</td>" for c in line)
            lines.append(f"<tr>{cells}</tr>")
        lines.append("</tbody>\n</table>")
        lines.extend(f"<p>{html.escape(n)}</p>" for n in notes)
        return "\n".join(lines) + "\n"
    # LaTeX (booktabs): escape what LaTeX treats as special in names.
    spec = "l" * n_lead + "r" * (len(header) - n_lead)
    lines = [
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(map(_tex, header)) + " \\\\",
        "\\midrule",
    ]
    lines.extend(" & ".join(_tex_cell(c) for c in line) + " \\\\" for line in body)
    lines += ["\\bottomrule", "\\end{tabular}"]
    lines.extend(f"% {n}" for n in notes)
    return "\n".join(lines) + "\n"


def _html_cell(text: str) -> str:
    if text.startswith("<b>") and "</b>" in text:
        inner, rest = text[3:].split("</b>", 1)
        return f"<b>{html.escape(inner)}</b>{html.escape(rest)}"
    return html.escape(text)


_TEX = {"&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_", "{": "\\{", "}": "\\}", "~": "\\~{}"}


def _tex(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text).replace("↓", "$\\downarrow$").replace("†", "$^\\dagger$")


def _tex_cell(text: str) -> str:
    if text.startswith("\\textbf{") or text.startswith("$"):  # built by us: already LaTeX
        return text.replace("†", "$^\\dagger$").replace(" *", " $^*$")
    return _tex(text).replace(" *", " $^*$")
