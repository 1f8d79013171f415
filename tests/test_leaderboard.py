"""Leaderboards and README blocks, compared with the text expected by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from results_factory import run_result as make_run
from results_factory import task_result as make_task
from typer.testing import CliRunner

from kobench.cli import app
from kobench.errors import BadInputError
from kobench.report.leaderboard import render_table
from kobench.report.readme import replace_between
from kobench.results import (
    RunResult,
    save_results,
)

# task -> (category, metric, direction)
TASKS = {
    "k-dtcbench": ("Document", "accuracy", "higher"),
    "ko-ocr-synth": ("OCR", "cer", "lower"),
    "k-seed": ("General", "accuracy", "higher"),
    "k-viscuit": ("Culture", "accuracy", "higher"),
}


def task_result(name: str, value: float, *, ci: float = 1.0, prompt: str = "1", complete: bool = True):
    category, metric, direction = TASKS[name]
    return make_task(
        name,
        category=category,
        metric=metric,
        direction=direction,
        value=value,
        ci=(value - ci, value + ci),
        signature=f"{name}|data:sha256:x|split:test|prompt:{prompt}|metric:{metric}@1|unit:row",
        complete=complete,
        prompt_version=prompt,
    )


def run_result(model: str, tasks: dict, ended: str = "2026-11-23T10:00:00+00:00") -> RunResult:
    return make_run(model, tasks.values(), ended=ended, status="complete")


def two_models() -> list[RunResult]:
    a = run_result(
        "VARCO-VISION",
        {
            "k-dtcbench": task_result("k-dtcbench", 84.5),
            "ko-ocr-synth": task_result("ko-ocr-synth", 3.25),
            "k-seed": task_result("k-seed", 75.0),
        },
    )
    b = run_result(
        "A.X-4.0-VL",
        {
            "k-dtcbench": task_result("k-dtcbench", 90.0),
            "ko-ocr-synth": task_result("ko-ocr-synth", 2.0, prompt="2"),  # another prompt: marked
            "k-seed": task_result("k-seed", 75.0, complete=False),
            "k-viscuit": task_result("k-viscuit", 60.0),
        },
    )
    return [a, b]


def test_markdown_table_layout_bold_marks_and_average() -> None:
    expected = """\
| Category   | Benchmark          | VARCO-VISION   | A.X-4.0-VL   |
|------------|--------------------|----------------|--------------|
| Document   | k-dtcbench         | 84.5           | **90.0**     |
| OCR        | ko-ocr-synth (cer ↓) | 3.2            | **2.0** †    |
| Culture    | k-viscuit          | –              | 60.0         |
| General    | k-seed             | **75.0**       | **75.0** *   |
| Average    | (2 benchmarks)     | 79.8           | 82.5         |

Each task's primary metric ×100 (accuracies and rates in %), kobench Korean-aware extraction.
† made with other settings than the first value in its row (prompt, parser, judge or data; see the signatures)
* incomplete run
Average: mean over the 2 benchmarks every model has where higher is better.
"""
    got = render_table(two_models())
    # tabulate pads by display width; compare cell by cell so the hand-written text need not be aligned.
    cells = [[c.strip() for c in line.split("|")] for line in got.splitlines() if line.startswith("|")]
    want = [[c.strip() for c in line.split("|")] for line in expected.splitlines() if line.startswith("|")]
    assert cells[0] == want[0] and cells[2:] == want[2:]
    assert got.split("\n\n", 1)[1] == expected.split("\n\n", 1)[1]


def test_newest_run_of_a_model_wins_unless_all_runs() -> None:
    old = run_result("m", {"k-seed": task_result("k-seed", 50.0)}, ended="2026-11-01T00:00:00+00:00")
    new = run_result("m", {"k-seed": task_result("k-seed", 70.0)}, ended="2026-11-20T00:00:00+00:00")
    merged = render_table([new, old], average=False)
    assert "70.0" in merged and "50.0" not in merged and merged.splitlines()[0].count("| m") == 1
    separate = render_table([old, new], merge=False, average=False)
    assert "| m (2)" in separate.splitlines()[0] and "50.0" in separate


def _built(result: RunResult, fingerprint: str) -> RunResult:
    model = result.run.model.model_copy(update={"fingerprint": fingerprint})
    return result.model_copy(update={"run": result.run.model_copy(update={"model": model})})


def test_a_column_merged_from_two_builds_of_one_name_says_so() -> None:
    """A checkpoint retrained at the same path keeps its name: its column may show k-seed from the new
    weights and k-dtcbench from the old, and the table says which builds made it."""
    old = _built(
        run_result(
            "step-1000",
            {"k-seed": task_result("k-seed", 50.0), "k-dtcbench": task_result("k-dtcbench", 40.0)},
            ended="2026-11-01T00:00:00+00:00",
        ),
        "local:aaaa",
    )
    new = _built(run_result("step-1000", {"k-seed": task_result("k-seed", 70.0)}), "local:bbbb")
    table = render_table([old, new], average=False)
    assert "70.0" in table and "40.0" in table  # one column, each task from its newest run
    note = "step-1000: these tasks come from runs of 2 builds of the model (local:aaaa, local:bbbb)"
    assert note in table
    again = _built(run_result("step-1000", {"k-dtcbench": task_result("k-dtcbench", 45.0)}), "local:bbbb")
    assert "builds of the model" not in render_table([old, new, again], average=False)  # all of bbbb now
    assert "builds of the model" not in render_table([old, new], merge=False, average=False)


def test_other_formats() -> None:
    results = two_models()
    csv_text = render_table(results, fmt="csv")
    assert csv_text.splitlines()[0] == "Category,Benchmark,VARCO-VISION,A.X-4.0-VL,marks"
    assert "OCR,ko-ocr-synth (cer ↓),3.2,2.0,†" in csv_text
    assert "Culture,k-viscuit,,60.0," in csv_text
    html_text = render_table(results, fmt="html", with_ci=True)
    assert "<td><b>90.0 ± 1.0</b></td>" in html_text and "<th>A.X-4.0-VL</th>" in html_text
    latex = render_table(results, fmt="latex")
    assert latex.startswith("\\begin{tabular}{llrr}")
    assert "Document & k-dtcbench & 84.5 & \\textbf{90.0} \\\\" in latex
    flat = render_table(results, group_by="none", average=False)
    assert flat.splitlines()[0].split("|")[1].strip() == "Benchmark"


def test_readme_block_replaced_idempotently_and_bad_markers_refused(tmp_path: Path) -> None:
    text = (
        "# My VLM\n\nintro\n<!-- kobench:leaderboard:start -->\nold\n<!-- kobench:leaderboard:end -->\ntail\n"
    )
    once = replace_between(text, "leaderboard", "| a |\n")
    start, end = "<!-- kobench:leaderboard:start -->", "<!-- kobench:leaderboard:end -->"
    assert once == f"# My VLM\n\nintro\n{start}\n\n| a |\n\n{end}\ntail\n"
    assert replace_between(once, "leaderboard", "| a |\n") == once
    with pytest.raises(BadInputError, match="appears 0 times"):
        replace_between(text, "other", "x")
    with pytest.raises(BadInputError, match="appears 2 times"):
        replace_between(text + "<!-- kobench:leaderboard:start -->", "leaderboard", "x")
    with pytest.raises(BadInputError, match="comes before"):
        replace_between("<!-- kobench:x:end --> <!-- kobench:x:start -->", "x", "y")


def test_readme_command(tmp_path: Path) -> None:
    paths = []
    for n, result in enumerate(two_models()):
        save_results(result, tmp_path / f"r{n}" / "results.json")
        paths.append(str(tmp_path / f"r{n}"))
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- kobench:scores:start -->\n<!-- kobench:scores:end -->\ny\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["readme", str(readme), *paths, "--marker", "scores"])
    assert first.exit_code == 0 and "updated" in first.output
    content = readme.read_text(encoding="utf-8")
    assert "| Document   | k-dtcbench" in content and content.startswith("x\n") and content.endswith("y\n")
    second = runner.invoke(app, ["readme", str(readme), *paths, "--marker", "scores"])
    assert "already up to date" in second.output and readme.read_text(encoding="utf-8") == content
    broken = tmp_path / "B.md"
    broken.write_text("no markers\n", encoding="utf-8")
    bad = runner.invoke(app, ["readme", str(broken), *paths])
    assert bad.exit_code == 4 and broken.read_text(encoding="utf-8") == "no markers\n"
    table = runner.invoke(app, ["table", *paths, "--format", "csv"])
    assert table.exit_code == 0 and table.output.startswith("Category,Benchmark,VARCO-VISION,A.X-4.0-VL")


def test_table_of_a_folder_holding_one_run_folder_per_model(tmp_path: Path) -> None:
    """`kobench table results/` reads every run below it, as `kobench table results/*` does; a glob's
    picture beside them is refused by what it is, not read as mis-encoded text."""
    for n, result in enumerate(two_models()):
        save_results(result, tmp_path / "results" / f"model-{n}" / "results.json")
    (tmp_path / "results" / "scores.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    runner = CliRunner()
    folder = runner.invoke(app, ["table", str(tmp_path / "results")])
    each = runner.invoke(app, ["table", *(str(tmp_path / "results" / f"model-{n}") for n in range(2))])
    assert folder.exit_code == 0 and each.exit_code == 0, folder.output
    assert folder.output == each.output
    assert "VARCO-VISION" in folder.output and "A.X-4.0-VL" in folder.output
    picture = runner.invoke(app, ["table", str(tmp_path / "results" / "scores.png")])
    assert picture.exit_code == 4
    assert "scores.png: not a results file" in picture.output and "UTF-8" not in picture.output
    empty = tmp_path / "empty"
    (empty / "inner").mkdir(parents=True)
    nothing = runner.invoke(app, ["table", str(empty)])
    assert nothing.exit_code == 4 and "no results.json" in nothing.output and "below it" in nothing.output
