"""Leaderboard charts: bar heights are the values, gaps stay gaps, Korean text renders in a Korean font."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="charts need matplotlib (the ocr extra)")

from PIL import Image
from results_factory import run_result, task_result
from typer.testing import CliRunner

from kobench.cli import app
from kobench.report import plot
from kobench.report.leaderboard import CATEGORY_ORDER, DIFFERENT, INCOMPLETE, NOTES
from kobench.results import (
    RunResult,
    save_results,
)

# task -> (category, primary metric, direction)
TASKS = {
    "k-seed": ("General", "accuracy", "higher"),
    "k-mmbench": ("General", "accuracy", "higher"),
    "kobizdoc-synth": ("Document", "anls", "higher"),
    "ko-ocr-synth": ("OCR", "cer", "lower"),
    "ko-chart-synth-mc": ("Chart", "accuracy", "higher"),
    "ko-caption-synth": ("Captioning", "cider_d", "higher"),
    "ko-ocr-grounding-synth": ("OCR", "mean_iou", "higher"),
}
TITLE = "한국어 벤치마크"


def make_result(
    name: str,
    values: dict[str, float | None],
    *,
    incomplete: tuple[str, ...] = (),
    signature: dict[str, str] | None = None,
) -> RunResult:
    """A results object as `kobench run` writes it, with one value per task in both pipelines."""
    tasks = []
    for task, value in values.items():
        category, metric, direction = TASKS[task]
        tasks.append(
            task_result(
                task,
                category=category,
                metric=metric,
                direction=direction,
                value=value,
                signature=(signature or {}).get(task),
                complete=task not in incomplete,
            )
        )
    return run_result(name, tasks)


A_VALUES: dict[str, float | None] = {
    "k-seed": 72.4,
    "k-mmbench": 65.0,
    "kobizdoc-synth": 81.3,
    "ko-ocr-synth": 12.5,
    "ko-chart-synth-mc": 55.5,
    "ko-caption-synth": 0.0,
}
# the second model lacks k-mmbench entirely and has no value (None) for the chart task
B_VALUES: dict[str, float | None] = {
    "k-seed": 68.0,
    "kobizdoc-synth": 47.9,
    "ko-ocr-synth": 27.0,
    "ko-chart-synth-mc": None,
    "ko-caption-synth": 88.8,
}


@pytest.fixture()
def results() -> list[RunResult]:
    return [
        make_result("바르코-비전", A_VALUES),
        make_result(
            "qwen", B_VALUES, incomplete=("k-seed",), signature={"kobizdoc-synth": "kobizdoc-synth|other"}
        ),
    ]


def _words(fig) -> str:
    """Every text drawn on the figure (titles, legend, footnotes), whitespace normalised."""
    from matplotlib.text import Text

    return " ".join(" ".join(t.get_text() for t in fig.findobj(Text)).split())


def _legend_labels(fig) -> list[str]:
    from matplotlib.legend import Legend

    (legend,) = fig.findobj(Legend)
    return [t.get_text() for t in legend.get_texts()]


def _bars(fig) -> dict[str, float]:
    return {
        p.get_gid(): p.get_height()
        for ax in fig.axes
        for p in ax.patches
        if (p.get_gid() or "").startswith("bar:")
    }


def test_bar_heights_are_the_values_and_missing_values_are_gaps(results: list[RunResult]) -> None:
    fig = plot.build_figure(results, title=TITLE)
    bars = _bars(fig)
    expected = {f"bar:{t}:0": v for t, v in A_VALUES.items()}
    expected |= {f"bar:{t}:1": v for t, v in B_VALUES.items() if v is not None}
    assert bars == pytest.approx(expected)
    # gaps: no bar for a task the model lacks, nor for a value of None; a zero is a bar of height 0
    assert "bar:k-mmbench:1" not in bars and "bar:ko-chart-synth-mc:1" not in bars
    assert bars["bar:ko-caption-synth:0"] == 0
    gaps = {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid().startswith("gap:")}
    assert gaps == {"gap:k-mmbench:1": "n/a", "gap:ko-chart-synth-mc:1": "n/a"}


def test_panels_follow_the_category_order_and_label_lower_is_better(results: list[RunResult]) -> None:
    fig = plot.build_figure(results)
    panels = [ax for ax in fig.axes if ax.get_title()]
    present = {category for category, _, _ in TASKS.values()}
    assert [ax.get_title() for ax in panels] == [c for c in CATEGORY_ORDER if c in present]
    assert [ax.get_title() for ax in panels][:2] == ["Document", "OCR"]
    ocr = next(ax for ax in panels if ax.get_title() == "OCR")
    assert [t.get_text() for t in ocr.get_xticklabels()] == ["ko-ocr-\nsynth\n(cer ↓)"]
    general = next(ax for ax in panels if ax.get_title() == "General")
    assert [t.get_text() for t in general.get_xticklabels()] == ["k-mmbench", "k-seed"]


def test_marked_values_are_hatched_and_footnoted(results: list[RunResult]) -> None:
    fig = plot.build_figure(results)
    patches = {p.get_gid(): p for ax in fig.axes for p in ax.patches if p.get_gid()}
    assert patches["bar:k-seed:1"].get_hatch() == plot.HATCHES[INCOMPLETE]  # incomplete: *
    assert patches["bar:kobizdoc-synth:1"].get_hatch() == plot.HATCHES[DIFFERENT]  # other signature: †
    assert patches["bar:kobizdoc-synth:0"].get_hatch() is None  # the row's first value is the reference
    assert patches["bar:k-seed:0"].get_hatch() is None
    texts = {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}
    assert texts["value:k-seed:0"] == "72.4" and texts["value:k-seed:1"] == "68.0 *"
    assert texts["value:kobizdoc-synth:1"] == "47.9 †"
    words = _words(fig)
    assert NOTES[DIFFERENT] in words and NOTES[INCOMPLETE] in words
    assert _legend_labels(fig) == ["바르코-비전", "qwen", "† other settings", "* incomplete"]
    # without marks, neither legend entries nor footnotes
    clean = plot.build_figure([results[0]])
    assert _legend_labels(clean) == ["바르코-비전"] and NOTES[INCOMPLETE] not in _words(clean)


def test_runs_of_one_model_are_one_series(results: list[RunResult]) -> None:
    # As `kobench table`: several runs of one model are one series (each task from the newest run).
    fig = plot.build_figure([results[0], results[0]])
    assert _legend_labels(fig) == ["바르코-비전"]


def test_png_has_the_intended_size_and_no_missing_glyphs(
    results: list[RunResult], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "chart.png"
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        written = plot.plot_results(results, out, title=TITLE, radar=True)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    missing += [r.getMessage() for r in caplog.records if "missing from font" in r.getMessage()]
    assert missing == []  # a Hangul glyph drawn in DejaVu Sans would be a tofu box
    # nor a font that matplotlib had to guess (a family not found, a weight it does not have)
    assert [r.getMessage() for r in caplog.records if "findfont" in r.getMessage()] == []
    assert written == [out, tmp_path / "chart-radar.png"]
    with Image.open(out) as image:
        image.load()  # decodes every pixel, not just the header
        width, height = image.size
    fig = plot.build_figure(results, title=TITLE)
    assert width == round(plot.WIDTH_IN * plot.DPI) == 1200
    assert height == round(fig.get_figheight() * plot.DPI)
    with Image.open(written[1]) as image:
        image.load()
        assert image.size[0] == 1200


def test_korean_text_is_set_in_a_korean_font(results: list[RunResult]) -> None:
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.text import Text

    fig = plot.build_figure(results, title=TITLE)
    korean = [t for t in fig.findobj(Text) if t.get_text() in (TITLE, "바르코-비전")]
    assert len(korean) == 2  # the title and the legend entry
    for text in korean:
        font = findfont(text.get_fontproperties(), fallback_to_default=False)
        assert FontProperties(fname=font).get_name().startswith("Nanum"), font


def test_radar_plots_100_minus_lower_is_better_values(results: list[RunResult]) -> None:
    fig = plot.build_radar(results, title=TITLE)
    (ax,) = fig.axes
    line = next(line for line in ax.get_lines() if line.get_gid() == "radar:0")
    order = [r.task for r in plot.collect(results).rows]
    radii = dict(zip(order, line.get_ydata()[:-1], strict=True))
    assert radii["ko-ocr-synth"] == pytest.approx(100 - 12.5)
    assert radii["k-seed"] == pytest.approx(72.4)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "ko-ocr-synth\n(100 - cer)" in labels
    second = next(line for line in ax.get_lines() if line.get_gid() == "radar:1")
    assert sum(v != v for v in second.get_ydata()) == 2  # NaN: k-mmbench lacking, the chart task None
    assert len(ax.patches) == 1  # only the complete polygon is filled


def test_bad_pipeline_and_empty_results_are_refused(results: list[RunResult], tmp_path: Path) -> None:
    from kobench.errors import BadInputError

    with pytest.raises(BadInputError, match="pipeline"):
        plot.plot_results(results, tmp_path / "x.png", pipeline="nope")
    with pytest.raises(BadInputError, match="nothing to plot"):
        plot.plot_results([make_result("m", {})], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_cli_plot_writes_png_and_radar(results: list[RunResult], tmp_path: Path) -> None:
    for i, result in enumerate(results):
        save_results(result, tmp_path / f"r{i}" / "results.json")
    out = tmp_path / "charts" / "board.png"
    invoked = CliRunner().invoke(
        app,
        [
            "plot",
            str(tmp_path / "r0"),
            str(tmp_path / "r1" / "results.json"),
            "--out",
            str(out),
            "--pipeline",
            "protocol",
            "--radar",
            "--title",
            TITLE,
        ],
    )
    assert invoked.exit_code == 0, invoked.output
    assert str(out) in invoked.output
    for path in (out, tmp_path / "charts" / "board-radar.png"):
        with Image.open(path) as image:
            image.load()
            assert image.size[0] == 1200
    # -o / --output, as run, tokens and speed name theirs; here on the folder holding both runs
    short = CliRunner().invoke(app, ["plot", str(tmp_path), "-o", str(tmp_path / "short.png")])
    assert short.exit_code == 0, short.output
    with Image.open(tmp_path / "short.png") as image:
        assert image.size[0] == 1200


def test_cli_plot_bad_pipeline_is_a_usage_error(results: list[RunResult], tmp_path: Path) -> None:
    save_results(results[0], tmp_path / "r0" / "results.json")
    invoked = CliRunner().invoke(
        app, ["plot", str(tmp_path / "r0"), "--out", str(tmp_path / "x.png"), "--pipeline", "nope"]
    )
    assert invoked.exit_code == 2


def test_value_labels_level_upright_or_left_out_as_room_allows(results: list[RunResult]) -> None:
    def labels(fig) -> list:
        return [t for ax in fig.axes for t in ax.texts if t.get_gid().startswith("value:")]

    wide = labels(plot.build_figure([make_result("a", A_VALUES)]))  # one bar per benchmark: room to spare
    assert wide and all(t.get_visible() and t.get_rotation() == 0 for t in wide)
    assert [t.get_text() for t in wide if t.get_gid() == "value:ko-ocr-synth:0"] == ["12.5"]
    crowded = labels(plot.build_figure([make_result(f"m{i}", A_VALUES) for i in range(8)]))
    assert crowded and not any(t.get_visible() for t in crowded)  # the bars alone, no overlapping digits


def test_radar_needs_three_benchmarks_and_out_without_suffix_is_png(tmp_path: Path) -> None:
    from kobench.errors import BadInputError

    two = make_result("a", {"k-seed": 50.0, "k-mmbench": 60.0})
    with pytest.raises(BadInputError, match="at least 3"):
        plot.plot_results([two], tmp_path / "r.png", radar=True)
    assert plot.plot_results([two], tmp_path / "chart") == [tmp_path / "chart.png"]
    assert (tmp_path / "chart.png").is_file()


def test_every_text_stays_inside_the_picture(results: list[RunResult]) -> None:
    from matplotlib.text import Text

    # CER above 100 (clipped on the radar); a long name that lands beside the circle
    third = {**A_VALUES, "ko-ocr-synth": 140.0, "ko-ocr-grounding-synth": 90.0}
    three = [*results, make_result("세 번째 모델", third)]
    for fig in (plot.build_figure(three, title=TITLE), plot.build_radar(three, title=TITLE)):
        with plot._style():
            fig.draw_without_rendering()
        width, height = fig.bbox.width, fig.bbox.height
        for text in fig.findobj(Text):
            if not text.get_visible() or not text.get_text():
                continue
            box = text.get_window_extent()
            inside = box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1
            assert inside, (text.get_text(), box.bounds)
