"""Leaderboard charts from results files: grouped bars per category, optionally a radar.

The bar chart is the picture of `kobench table --all-runs`: the same rows and cells (leaderboard.build_rows:
tasks grouped by category in leaderboard.CATEGORY_ORDER, one series per results file, names made unique),
and the same marks: a value made with other settings than the first of its row (†) or an incomplete one
(*) is hatched and footnoted. Other harnesses' rows (kobench.report.importers) are bars of their own, their
tick labels marked with their source, as the table marks them. The radar goes to a second file, FILE stem
+ "-radar" + suffix, so the bar chart is the same whether --radar is given or not (a README can embed
either).

Drawn on matplotlib's Agg canvas without pyplot, so no display and no global backend state; fonts are set
through rc_context, so nothing leaks into other figures of the same process.
"""

from __future__ import annotations

import contextlib
import math
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kobench.efficiency import EfficiencyResult
from kobench.errors import BadInputError
from kobench.files.output_file import check_output_file, writing
from kobench.report.importers import ImportedResult
from kobench.report.leaderboard import (
    DIFFERENT,
    EFFICIENCY,
    INCOMPLETE,
    KOBENCH,
    Cell,
    Row,
    board_rows,
    columns_of,
    efficiency_rows,
    with_efficiency_columns,
    with_imported_columns,
)
from kobench.results import PIPELINES, RunResult

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.text import Text

DPI = 150
WIDTH_IN = 8.0  # 1200 px at DPI: the width a README shows without scaling
FONT_SIZE = 10  # points; nothing smaller is drawn
ROW_HEIGHT_IN = 2.9  # one row of panels, tick labels of up to four lines included
RADAR_HEIGHT_IN = 6.3  # the circle plus labels of ~12 characters either side fit WIDTH_IN
UPRIGHT_HEADROOM = 1.5  # upright value labels get this much more room first, then just what they need
FOOTER_CHARS = 118  # footnote line length that fits WIDTH_IN at FONT_SIZE
BAR_FILL = 0.92  # a bar's share of its slot (the rest separates neighbours)
MIN_SLOTS = 6  # benchmarks per row of panels at least, so a few narrow categories share a row
# Okabe-Ito: distinguishable with the common colour-vision deficiencies and in grey print.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
HATCHES = {DIFFERENT: "///", INCOMPLETE: "..."}
LEGEND_MARKS = {DIFFERENT: "† other settings", INCOMPLETE: "* incomplete"}
PIPELINE_LABELS = {"kobench": "kobench Korean-aware extraction", "protocol": "published protocol parsers"}


def _hatch(cell: Cell) -> str | None:
    return "".join(HATCHES[m] for m in cell.marks) or None


@dataclass(frozen=True)
class Table:
    names: tuple[str, ...]  # one series per results file, unique names as the table's columns
    rows: tuple[Row, ...]  # in leaderboard order
    metrics: dict[str, str]  # task -> primary metric (the tick label names it unless accuracy)
    notes: tuple[str, ...]  # the leaderboard's footnotes for the marks present

    def categories(self) -> list[tuple[str, list[Row]]]:
        """Panels: one per category; one per efficiency row (each has a unit and a scale of its own)."""
        groups: dict[tuple[str, str], list[Row]] = {}
        for row in self.rows:
            key = (row.category, row.task if row.modality == EFFICIENCY else "")
            groups.setdefault(key, []).append(row)
        return [(category, rows) for (category, _), rows in groups.items()]


def collect(
    results: Sequence[RunResult],
    pipeline: str = "kobench",
    efficiency: Sequence[EfficiencyResult] = (),
    imported: Sequence[ImportedResult] = (),
) -> Table:
    """The numbers behind the chart: the leaderboard's rows, one series per model (several runs of a
    model merged, each task from the newest, as `kobench table` does), other harnesses' rows among them,
    and the efficiency rows."""
    if pipeline not in PIPELINES:
        raise BadInputError(f"pipeline must be one of {', '.join(PIPELINES)}, not {pipeline!r}")
    columns = with_efficiency_columns(
        with_imported_columns(columns_of(results, merge=True), imported), efficiency
    )
    rows, notes = board_rows(columns, pipeline, imported)
    measured, measured_notes = efficiency_rows([c.name for c in columns], efficiency)
    if not rows and not measured:
        raise BadInputError("nothing to plot: the results hold no tasks")
    metrics: dict[str, str] = {row.task: "" for row in measured}
    metrics.update({row.task: row.metric for row in rows if row.source != KOBENCH})
    for column in columns:
        for name, task in column.tasks.items():
            metrics.setdefault(name, task.primary_metric)
    notes = list(dict.fromkeys([*notes, *measured_notes]))
    return Table(tuple(c.name for c in columns), tuple(rows + measured), metrics, tuple(notes))


# --- fonts -------------------------------------------------------------------------------------


def _korean_family() -> tuple[str, int]:
    """Register NanumGothic (regular and bold) with matplotlib; returns its family name and bold weight."""
    from matplotlib import font_manager

    from kobench.synth.common import korean_fonts

    fonts = {label: path for path, label in korean_fonts()}
    # Gothic (sans) reads best at small sizes; any installed Nanum face beats tofu boxes.
    path = fonts.get("gothic") or next(iter(fonts.values()))
    for candidate in (path, path.with_name(path.stem + "Bold.ttf")):
        if candidate.is_file():
            font_manager.fontManager.addfont(str(candidate))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    # Nanum's bold faces register as weight 600 or 700; asking for "bold" (700) of a 600 face warns.
    weights = [f.weight for f in font_manager.fontManager.ttflist if f.name == name]
    return name, max((int(w) for w in weights if str(w).isdigit()), default=400)


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    family, bold = _korean_family()
    rc = {
        # Nanum alone: it has every symbol drawn here (↓ † × –), and a fallback family would be asked
        # for Nanum's bold weight (600), which DejaVu lacks, with a warning.
        "font.family": family,
        "axes.unicode_minus": False,  # U+2212 is not in Nanum
        "font.size": FONT_SIZE,
        "axes.titlesize": FONT_SIZE + 1,
        "axes.titleweight": bold,
        "axes.labelsize": FONT_SIZE,
        "xtick.labelsize": FONT_SIZE,
        "ytick.labelsize": FONT_SIZE,
        "legend.fontsize": FONT_SIZE,
        "figure.titlesize": FONT_SIZE + 4,
        "hatch.linewidth": 0.8,
        "savefig.dpi": DPI,
    }
    with matplotlib.rc_context(rc):
        yield


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


# --- the bar chart -----------------------------------------------------------------------------


def _wrap(name: str, width: int = 11) -> str:
    """Break a task name after its hyphens so long names fit under a narrow group of bars."""
    lines: list[str] = []
    for part in name.split("-"):
        if lines and len(lines[-1]) + len(part) < width:
            lines[-1] += part + "-"
        else:
            lines.append(part + "-")
    return "\n".join(lines)[:-1]


def _wrap_words(name: str, width: int = 12) -> str:
    """Break another harness's benchmark name after its hyphens, underscores and spaces."""
    lines: list[str] = []
    for piece in re.findall(r"[^-_ ]+[-_ ]?|[-_ ]", name):
        if lines and len(lines[-1]) + len(piece.rstrip()) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return "\n".join(line.rstrip() for line in lines)


def _tick_label(row: Row, metric: str) -> str:
    # As in the table: accuracy is the default reading, any other metric is named, ↓ when lower wins.
    if row.modality == EFFICIENCY:  # the row's label says what and in which unit
        return textwrap.fill(row.label, 16)
    if row.source != KOBENCH:  # the benchmark as the harness names it, then its metric, then its source
        named = "" if metric == "accuracy" else f"\n({metric}{' ↓' if row.direction == 'lower' else ''})"
        return f"{_wrap_words(row.benchmark)}{named}\n[{row.source}]"
    if metric == "accuracy":
        return _wrap(row.task)
    return f"{_wrap(row.task)}\n({metric}{' ↓' if row.direction == 'lower' else ''})"


def _pack(sizes: list[int]) -> tuple[int, list[list[int]]]:
    """Panels (by benchmark count) into rows, in order: the fewest rows at MIN_SLOTS per row, then the
    narrowest row width that keeps that count, so every benchmark gets the same width in every row."""
    total = sum(sizes)
    floor = max([*sizes, min(total, MIN_SLOTS)])

    def greedy(capacity: int) -> list[list[int]]:
        rows: list[list[int]] = [[]]
        for index, size in enumerate(sizes):
            if rows[-1] and sum(sizes[i] for i in rows[-1]) + size > capacity:
                rows.append([])
            rows[-1].append(index)
        return rows

    target = len(greedy(floor))
    capacity = max(floor, math.ceil(total / target))
    while len(greedy(capacity)) > target:
        capacity += 1
    return capacity, greedy(capacity)


def _bands(
    title: str | None,
    handles: Sequence[Artist],
    labels: list[str],
    body_heights: list[float],
    footer: list[str],
) -> tuple[Figure, list[SubFigure]]:
    """A figure in bands, top to bottom: title and legend, the bodies, the footnotes; each band a
    subfigure, so constrained layout gives each its own margins (one grid across rows of panels that end
    on different columns collapses it) and the header and footer exactly their room. Call in _style()."""
    footer = [line for note in footer for line in textwrap.wrap(note, FOOTER_CHARS)]
    ncols = _legend_columns(labels)
    header_height = (0.35 if title else 0.1) + 0.25 * math.ceil(len(labels) / ncols)
    heights = [header_height, *body_heights, 0.12 + 0.2 * len(footer)]  # inches
    fig = _new_figure(WIDTH_IN, sum(heights))
    header, *bodies, foot = fig.subfigures(len(heights), 1, height_ratios=heights)
    if title:
        header.suptitle(title)
    header.legend(handles, labels, loc="center", ncols=ncols, frameon=False)
    foot.text(0.01, 0.5, "\n".join(footer), ha="left", va="center", color="0.3")
    return fig, bodies


def build_figure(
    results: Sequence[RunResult],
    *,
    pipeline: str = "kobench",
    title: str | None = None,
    efficiency: Sequence[EfficiencyResult] = (),
    imported: Sequence[ImportedResult] = (),
) -> Figure:
    """The grouped bar chart: one panel per category, one group per benchmark, one bar per series.

    Each bar's gid is "bar:<task>:<series index>" (tests and callers can find a value's bar); a missing
    value draws no bar, only "n/a" on the baseline, so a gap never reads as zero."""
    from matplotlib.patches import Patch

    table = collect(results, pipeline, efficiency, imported)
    groups = table.categories()
    capacity, layout = _pack([len(rows) for _, rows in groups])
    scores = [row for row in table.rows if row.modality != EFFICIENCY]
    values = [c.value for row in scores for c in row.cells if c.value is not None]
    top = max([100.0, *values])
    n_series = len(table.names)
    group_width = 0.8
    bar_width = group_width / n_series
    handles: list[Patch] = [Patch(facecolor=COLOURS[i % len(COLOURS)]) for i in range(n_series)]
    labels = list(table.names)
    present = {m for row in table.rows for c in row.cells for m in c.marks}
    for mark in (DIFFERENT, INCOMPLETE):
        if mark in present:
            handles.append(Patch(facecolor="white", edgecolor="0.3", hatch=HATCHES[mark]))
            labels.append(LEGEND_MARKS[mark])
    footer = [
        f"Each benchmark's primary metric ×100, {PIPELINE_LABELS[pipeline]}; bold: best; n/a: no value.",
        *table.notes,
    ]
    if len(scores) < len(table.rows):
        footer.insert(1, "Efficiency: each panel in its own unit and scale (↓: lower is better).")
    with _style():
        fig, lines = _bands(title, handles, labels, [ROW_HEIGHT_IN] * len(layout), footer)
        value_labels: list[tuple[Text, Axes]] = []
        for subfig, members in zip(lines, layout, strict=True):
            sizes = [len(groups[i][1]) for i in members]
            pad = (capacity - sum(sizes)) / 2  # empty columns either side centre a narrower row
            ratios = ([pad] if pad else []) + sizes + ([pad] if pad else [])
            grid = subfig.add_gridspec(1, len(ratios), width_ratios=ratios)
            for position, index in enumerate(members):
                category, rows = groups[index]
                ax = subfig.add_subplot(grid[0, position + (1 if pad else 0)])
                measured = rows[0].modality == EFFICIENCY
                if position == 0 and not measured:
                    ax.set_ylabel("score (×100)")
                _draw_panel(ax, category, rows, table, bar_width, None if measured else top, value_labels)
        _fit_value_labels(fig, value_labels)
    return fig


def _legend_columns(labels: list[str]) -> int:
    """As many legend columns as fit the figure's width (measured in the Korean font)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    em = FONT_SIZE  # legend spacings are in font sizes: handle 2, pad 0.8, column gap 2
    widths = [
        TextToPath().get_text_width_height_descent(t, FontProperties(), ismath=False)[0] for t in labels
    ]
    room = WIDTH_IN * 72 - 2 * em  # points
    for ncols in range(len(labels), 1, -1):
        columns = [max(widths[c::ncols]) + 2.8 * em for c in range(ncols)]
        if sum(columns) + 2 * em * (ncols - 1) <= room:
            return ncols
    return 1


def _draw_panel(
    ax: Axes,
    category: str,
    rows: list[Row],
    table: Table,
    bar_width: float,
    top: float | None,
    value_labels: list[tuple[Text, Axes]],
) -> None:
    """`top`: the scores' shared scale; None: the panel's own (an efficiency row, in its own unit)."""
    import matplotlib

    bold = matplotlib.rcParams["axes.titleweight"]  # _style's weight of the Korean font's bold face
    n_series = len(table.names)
    for x, row in enumerate(rows):
        for i, cell in enumerate(row.cells):
            centre = x + (i - (n_series - 1) / 2) * bar_width
            if cell.value is None:
                gap = ax.text(
                    centre, 0, "n/a", ha="center", va="bottom", color="0.45", gid=f"gap:{row.task}:{i}"
                )
                value_labels.append((gap, ax))
                continue
            hatch = _hatch(cell)
            ax.bar(
                centre,
                cell.value,
                bar_width * BAR_FILL,
                color=COLOURS[i % len(COLOURS)],
                edgecolor="white" if hatch is None else "0.15",
                hatch=hatch,
                linewidth=0.6,
                gid=f"bar:{row.task}:{i}",
                label=table.names[i],
            )
            text = f"{cell.value:.1f}" + (f" {cell.marks}" if cell.marks else "")
            label = ax.text(
                centre,
                max(cell.value, 0),
                text,
                ha="center",
                va="bottom",
                fontweight=bold if cell.best else "normal",
                gid=f"value:{row.task}:{i}",
            )
            value_labels.append((label, ax))
    ax.set_title(category)
    ax.set_xticks(range(len(rows)), [_tick_label(r, table.metrics[r.task]) for r in rows])
    ax.set_xlim(-0.5, len(rows) - 0.5)
    if top is None:
        own = [c.value for row in rows for c in row.cells if c.value is not None]
        ax.set_ylim(0, (max([*own, 0.0]) or 1.0) * 1.12)
    else:
        ax.set_ylim(0, top * 1.12)
        ax.set_yticks(range(0, math.ceil(top / 25) * 25 + 1, 25))  # no tick above the scale's top
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="y", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _fit_value_labels(fig: Figure, labels: list[tuple[Text, Axes]]) -> None:
    """Values stand level on their bars when every one fits its bar's width, else all upright with the
    panels raised just enough to hold them, else (too many bars) none; a label that still crosses its
    panel's top is dropped. The bars show every value either way."""
    fig.draw_without_rendering()
    axes = list({id(ax): ax for _, ax in labels}.values())
    bars = [p for ax in axes for p in ax.patches if (p.get_gid() or "").startswith("bar:")]
    if not bars:
        return
    # Rows of panels differ a little in margins, so the narrowest bar on screen decides.
    bar_px = min(bar.get_window_extent().width for bar in bars) / BAR_FILL
    extents = [text.get_window_extent() for text, _ in labels]
    if all(extent.width <= bar_px for extent in extents):
        return
    if any(extent.height > bar_px for extent in extents):  # upright, as thick as they are now high
        for text, _ in labels:  # too many bars even for upright labels: they would overlap
            text.set_visible(False)
        return
    for text, _ in labels:
        text.set_rotation(90)
    for ax in axes:
        ax.set_ylim(0, ax.get_ylim()[1] * UPRIGHT_HEADROOM)
    fig.draw_without_rendering()
    for text, ax in labels:  # taller than even the generous panel: dropped
        if text.get_window_extent().y1 > ax.get_window_extent().y1 + 1:
            text.set_visible(False)
    # Text keeps its size in pixels, so label tops measured in data units on the generous scale stay
    # inside a scale shrunk to them (each unit then has more pixels): no need to measure again.
    tops = [
        ax.transData.inverted().transform(text.get_window_extent().corners())[:, 1].max()
        for text, ax in labels
        if text.get_visible()
    ]
    for ax in axes:  # between the panel's first scale and the generous one, the same for every panel
        generous = ax.get_ylim()[1]
        ax.set_ylim(0, min(generous, max([*tops, generous / UPRIGHT_HEADROOM]) * 1.02))


# --- the radar ---------------------------------------------------------------------------------


def radar_values(row: Row) -> list[float | None]:
    """0-100 per series, larger is better: 100 - value where lower wins; clipped to 0-100."""
    out: list[float | None] = []
    for cell in row.cells:
        if cell.value is None:
            out.append(None)
            continue
        value = 100 - cell.value if row.direction == "lower" else cell.value
        out.append(min(100.0, max(0.0, value)))
    return out


def build_radar(
    results: Sequence[RunResult],
    *,
    pipeline: str = "kobench",
    title: str | None = None,
    imported: Sequence[ImportedResult] = (),
) -> Figure:
    """One axis per benchmark (leaderboard order), one polygon per series; a missing value breaks the
    outline there and leaves the polygon unfilled."""
    import numpy as np
    from matplotlib.lines import Line2D

    table = collect(results, pipeline, imported=imported)
    if len(table.rows) < 3:
        raise BadInputError(f"a radar needs at least 3 benchmarks, the results hold {len(table.rows)}")
    angles = np.linspace(0, 2 * np.pi, len(table.rows), endpoint=False)
    clipped = any(c.value is not None and not 0 <= c.value <= 100 for row in table.rows for c in row.cells)

    handles = [
        Line2D([], [], color=COLOURS[i % len(COLOURS)], linewidth=2, marker="o", markersize=4)
        for i in range(len(table.names))
    ]
    note = f"Primary metric ×100, {PIPELINE_LABELS[pipeline]}; lower-is-better metrics as 100 - value"
    note += "; values outside 0-100 clipped." if clipped else "."
    with _style():
        fig, (body,) = _bands(title, handles, list(table.names), [RADAR_HEIGHT_IN], [note])
        ax = body.add_subplot(projection="polar")
        ax.set_theta_offset(np.pi / 2)  # the first benchmark at the top, then clockwise
        ax.set_theta_direction(-1)
        closed = np.append(angles, angles[0])
        for i, name in enumerate(table.names):
            values = [np.nan if v is None else v for v in (radar_values(r)[i] for r in table.rows)]
            ring = np.append(values, values[0])
            colour = COLOURS[i % len(COLOURS)]
            ax.plot(
                closed,
                ring,
                color=colour,
                linewidth=2,
                marker="o",
                markersize=4,
                label=name,
                gid=f"radar:{i}",
            )
            if not np.isnan(values).any():
                ax.fill(closed, ring, color=colour, alpha=0.08)
        labels = [
            _wrap(r.task, 14) + (f"\n(100 - {table.metrics[r.task]})" if r.direction == "lower" else "")
            for r in table.rows
        ]
        ax.set_xticks(angles, labels)
        for text, angle in zip(ax.get_xticklabels(), angles, strict=True):
            # Long names grow away from the circle, not across it: left-aligned on the right half.
            side = np.sin(angle)
            text.set_horizontalalignment("left" if side > 0.1 else "right" if side < -0.1 else "center")
        ax.set_ylim(0, 100)
        ax.set_yticks([25, 50, 75, 100], ["25", "50", "75", "100"], color="0.4")
        ax.set_rlabel_position(180 / len(table.rows))  # between the first two spokes, clear of the lines
        ax.tick_params(axis="x", pad=10)
    return fig


# --- files -------------------------------------------------------------------------------------


def radar_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}-radar{out.suffix}")


def plot_results(
    results: Sequence[RunResult],
    out: Path,
    *,
    pipeline: str = "kobench",
    radar: bool = False,
    title: str | None = None,
    efficiency: Sequence[EfficiencyResult] = (),
    imported: Sequence[ImportedResult] = (),
) -> list[Path]:
    """Write the bar chart to OUT (and with radar=True the radar to OUT's stem + "-radar" + suffix);
    returns the files written. The format follows OUT's suffix (PNG without one). Both figures are built
    before either is written, so a bad input writes nothing."""
    out = Path(out)
    if not out.suffix and not out.is_dir():  # matplotlib would append ".png", and the path returned be wrong
        out = out.with_suffix(".png")
    for path in [out, radar_path(out)] if radar else [out]:
        check_output_file(path, "--out")  # before the figures are drawn
    figures = [
        (out, build_figure(results, pipeline=pipeline, title=title, efficiency=efficiency, imported=imported))
    ]
    if radar:
        figures.append(
            (radar_path(out), build_radar(results, pipeline=pipeline, title=title, imported=imported))
        )
    for path, fig in figures:
        with _style(), writing(path, "--out"):
            fig.savefig(path, dpi=DPI, facecolor="white")
    return [path for path, _ in figures]
