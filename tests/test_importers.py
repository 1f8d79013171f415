"""Other harnesses' results in kobench's tables, read from real files: an lmms-eval 0.7.3 run on the tiny
LLaVA (tests/fixtures/other_harnesses/make_lmms_eval.py) and VLMEvalKit's score files as its code writes them
(make_vlmevalkit.py). Expected values are computed here from the files' own numbers."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from results_factory import run_result, task_result
from typer.testing import CliRunner

from kobench.cli import app
from kobench.errors import BadInputError
from kobench.report.gate import compare, load_run
from kobench.report.importers import (
    LMMS_EVAL,
    VLMEVALKIT,
    Z95,
    ImportedResult,
    ImportedScore,
    harness_files,
    harness_of,
    known,
    load_imported,
)
from kobench.report.inputs import load_inputs, load_report_inputs
from kobench.report.leaderboard import render_table
from kobench.results import load_results

FIXTURES = Path(__file__).parent / "fixtures" / "other_harnesses"
(LMMS_FILE,) = (FIXTURES / "lmms-eval").glob("*_results.json")
VLMEVALKIT_DIR = FIXTURES / "vlmevalkit"
VLM_MODEL = "vlmevalkit-schema-example"
VLM_RUN = VLMEVALKIT_DIR / VLM_MODEL / "T20261203-090000"
DEMO = Path(__file__).parents[1] / "results" / "demo"


def lmms_raw() -> dict:
    return json.loads(LMMS_FILE.read_text(encoding="utf-8"))


def by_benchmark(result: ImportedResult) -> dict[str, ImportedScore]:
    return {s.benchmark: s for s in result.scores}


def table_lines(text: str) -> dict[str, list[str]]:
    """Markdown table rows by their Benchmark cell."""
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and len(cells) > 2:
            out[cells[1]] = cells
    return out


# --- lmms-eval ---------------------------------------------------------------------------------


def test_lmms_eval_results_read_as_lmms_eval_wrote_them():
    raw = lmms_raw()
    result = load_imported(LMMS_FILE)
    assert (result.source, result.model, result.version) == (
        LMMS_EVAL,
        "tiny-llava-ko",
        raw["lmms_eval_version"],
    )
    scores = by_benchmark(result)
    assert set(scores) == {"chartqa_local", "docvqa_val_local", "kobench_demo"}
    chart = scores["chartqa_local"]
    # metric_list's first metric, a fraction ×100; the CI from lmms-eval's standard error
    assert chart.metric == "relaxed_overall"
    assert chart.value == pytest.approx(100 * raw["results"]["chartqa_local"]["relaxed_overall,none"])
    assert chart.value == pytest.approx(100 * 2 / 6)  # two of six questions right (make_lmms_eval.py)
    stderr = raw["results"]["chartqa_local"]["relaxed_overall_stderr,none"]
    assert chart.ci == pytest.approx(Z95 * 100 * stderr)
    assert (chart.n, chart.complete, chart.category) == (6, True, "Chart")  # a ChartQA variant's category
    doc = scores["docvqa_val_local"]
    assert (doc.metric, doc.category, doc.n) == ("anls", "Document", 6)
    assert doc.value == pytest.approx(100 * raw["results"]["docvqa_val_local"]["anls,none"])
    assert 0 < doc.value < 100 / 3  # one exact answer (1.0) and one near miss (ANLS < 1) of six
    demo = scores["kobench_demo"]
    assert (demo.metric, demo.value, demo.ci, demo.n) == ("seed_all", 0.0, None, 40)  # stderr "N/A"
    assert "split:test" in demo.settings and LMMS_EVAL in demo.settings


def test_lmms_eval_limit_marks_the_cells_incomplete(tmp_path):
    raw = lmms_raw()
    raw["config"]["limit"] = 3
    raw["n-samples"]["chartqa_local"]["effective"] = 3
    path = tmp_path / "20260101_000000_results.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    scores = by_benchmark(load_imported(path))
    assert not scores["chartqa_local"].complete
    text = render_table([], imported=[load_imported(path)])
    assert "33.3 *" in table_lines(text)["chartqa_local (relaxed_overall) [lmms-eval]"][2]
    assert "* incomplete run" in text


def test_lmms_eval_groups_are_one_row(tmp_path):
    raw = lmms_raw()
    raw["results"]["docvqa_group"] = {"alias": "docvqa_group", "anls,none": 0.5, "anls_stderr,none": "N/A"}
    raw["group_subtasks"] = {"docvqa_group": ["docvqa_val_local"]}
    path = tmp_path / "x_results.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert set(by_benchmark(load_imported(path))) == {"chartqa_local", "docvqa_group", "kobench_demo"}


def test_lmms_eval_failed_run_is_refused(tmp_path):
    raw = lmms_raw()
    raw["results"] = {}
    path = tmp_path / "x_results.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(BadInputError, match="no scored task"):
        load_imported(path)


# --- VLMEvalKit --------------------------------------------------------------------------------


def test_vlmevalkit_vqa_acc_csv_is_already_in_percent():
    result = load_imported(VLM_RUN / f"{VLM_MODEL}_ChartQA_TEST_acc.csv")
    assert (result.source, result.model, result.created) == (VLMEVALKIT, VLM_MODEL, "20261203090000")
    (score,) = result.scores
    # ImageVQADataset: np.mean(hit) * 100 over the builder's hits, 5 of 8
    assert (score.benchmark, score.category, score.metric, score.value) == (
        "ChartQA",
        "Chart",
        "Overall",
        62.5,
    )


def test_vlmevalkit_report_acc_is_a_row_per_split_in_fractions():
    result = load_imported(VLM_RUN / f"{VLM_MODEL}_MMMU_DEV_VAL_acc.csv")
    scores = by_benchmark(result)
    assert set(scores) == {"MMMU dev", "MMMU val"}
    assert scores["MMMU dev"].value == pytest.approx(100 * 2 / 4)
    assert scores["MMMU val"].value == pytest.approx(100 * 3 / 5)
    assert scores["MMMU val"].category == "Knowledge"
    assert "split:validation" in scores["MMMU val"].settings


def test_vlmevalkit_long_score_csv_takes_the_overall_row():
    (score,) = load_imported(VLM_RUN / f"{VLM_MODEL}_MathVista_MINI_score.csv").scores
    assert (score.benchmark, score.metric, score.value, score.n) == ("MathVista testmini", "acc", 40.0, 5)


def test_vlmevalkit_xlsx_summary():
    pytest.importorskip("openpyxl", reason="VLMEvalKit's .xlsx files need openpyxl")
    result = load_imported(VLM_RUN / f"{VLM_MODEL}_MMVMBench_gpt-4o-mini_acc.xlsx")
    (score,) = result.scores
    assert (result.model, score.benchmark, score.category) == (VLM_MODEL, "MMVMBench", "Other")
    assert score.value == pytest.approx(60.0)  # report_acc_mmatch's fraction, 6 of 10
    assert "judge:gpt-4o-mini" in score.settings


def test_vlmevalkit_fixture_is_what_its_builder_writes(tmp_path):
    pytest.importorskip("xlsxwriter", reason="the builder writes .xlsx with xlsxwriter, as VLMEvalKit does")
    pytest.importorskip("openpyxl", reason="VLMEvalKit's .xlsx files need openpyxl")
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_vlmevalkit
    finally:
        sys.path.remove(str(FIXTURES))
    for path in make_vlmevalkit.write(tmp_path):
        committed = VLM_RUN / path.name
        if path.suffix == ".csv":
            assert path.read_bytes() == committed.read_bytes(), path.name
        else:
            assert [s.value for s in load_imported(path).scores] == [
                s.value for s in load_imported(committed).scores
            ]


def test_vlmevalkit_per_sample_scores_are_refused(tmp_path):
    folder = tmp_path / "m" / "T20260101-000000"
    folder.mkdir(parents=True)
    path = folder / "m_MME-RealWorld_score.csv"
    path.write_text(
        '"index","question","answer","prediction","score"\n"1","q","A","A","1"\n', encoding="utf-8"
    )
    with pytest.raises(BadInputError, match="per-sample"):
        load_imported(path)


def test_vlmevalkit_file_outside_its_layout_names_no_model(tmp_path):
    path = tmp_path / "copied_ChartQA_TEST_acc.csv"
    shutil.copy(VLM_RUN / f"{VLM_MODEL}_ChartQA_TEST_acc.csv", path)
    with pytest.raises(BadInputError, match="cannot tell the model"):
        load_imported(path)


def test_vlmevalkit_links_beside_the_run_are_read_once(tmp_path):
    pytest.importorskip("openpyxl", reason="VLMEvalKit's .xlsx files need openpyxl")
    work = tmp_path / "work"
    shutil.copytree(VLMEVALKIT_DIR, work)
    run = work / VLM_MODEL / VLM_RUN.name
    for path in run.iterdir():  # run.py links each file of the newest run into WORK/<model>/
        (work / VLM_MODEL / path.name).symlink_to(path)
    assert len(harness_files(work)) == 4
    inputs = load_report_inputs([work])
    assert sorted(r.file for r in inputs.imported) == sorted(p.name for p in run.iterdir())


# --- names -------------------------------------------------------------------------------------


def test_two_harnesses_names_for_one_benchmark_agree():
    assert known("docvqa_val") == known("DocVQA_VAL") == ("DocVQA val", "Document")
    assert known("chartqa") == known("ChartQA_TEST") == ("ChartQA", "Chart")
    assert known("chartqa_lite") == ("chartqa_lite", "Chart")  # a variant: its own name, ChartQA's category
    assert known("my_bench") == ("my_bench", "Other")


def test_harness_of():
    assert harness_of(LMMS_FILE) == LMMS_EVAL
    assert harness_of(VLM_RUN / f"{VLM_MODEL}_ChartQA_TEST_acc.csv") == VLMEVALKIT
    assert harness_of(DEMO / "chance" / "results.json") is None


# --- tables ------------------------------------------------------------------------------------


def imported(source: str, model: str, benchmark: str, value: float, *, created="1", settings="s", **kw):
    score = ImportedScore(benchmark, benchmark, "Document", "Overall", value, settings=settings, **kw)
    return ImportedResult(source, model, f"{model}.json", created, None, (score,))


def test_mixed_table_by_hand():
    """kobench rows, another harness's rows marked by source, the Average over kobench's only."""
    kobench = [
        run_result("a", [task_result("k-doc", category="Document", value=80.0)]),
        run_result("b", [task_result("k-doc", category="Document", value=70.0)]),
    ]
    other = [
        imported(LMMS_EVAL, "a", "DocVQA val", 90.0),
        imported(LMMS_EVAL, "c", "DocVQA val", 95.0),  # a model only lmms-eval reports: its own column
    ]
    expected = """\
| Category   | Benchmark              | a        | b    | c        |
|------------|------------------------|----------|------|----------|
| Document   | DocVQA val [lmms-eval] | 90.0     | –    | **95.0** |
|            | k-doc                  | **80.0** | 70.0 | –        |

Each task's primary metric ×100 (accuracies and rates in %), kobench Korean-aware extraction.
[lmms-eval] lmms-eval's numbers (version not recorded) from its own files: its prompts, parsers and data; \
not re-scored, averaged or gated by kobench; † there: another harness version, split or metric than the \
row's first value.
"""
    assert render_table(kobench, imported=other) == expected
    with_average = render_table(kobench[:1], imported=other[:1])
    assert "| Average    | (1 benchmarks)         | 80.0 |" in with_average
    assert "other harnesses' rows are not averaged" in with_average


def test_two_harnesses_on_one_benchmark_are_two_rows_never_merged():
    other = [
        imported(LMMS_EVAL, "m", "DocVQA val", 90.0),
        imported(VLMEVALKIT, "m", "DocVQA val", 88.0),
    ]
    rows = table_lines(render_table([], imported=other))
    assert rows["DocVQA val [lmms-eval]"][2] == "90.0"
    assert rows["DocVQA val [VLMEvalKit]"][2] == "88.0"


def test_other_settings_are_marked_and_the_newest_file_wins():
    other = [
        imported(LMMS_EVAL, "a", "ChartQA", 50.0, created="2026-01", settings="lmms-eval@0.7.3"),
        imported(LMMS_EVAL, "a", "ChartQA", 55.0, created="2026-02", settings="lmms-eval@0.7.3"),
        imported(LMMS_EVAL, "b", "ChartQA", 60.0, settings="lmms-eval@0.6.0"),
    ]
    row = table_lines(render_table([], imported=other))["ChartQA [lmms-eval]"]
    assert row[2:] == ["55.0", "**60.0** †"]


def test_demo_results_and_the_real_lmms_eval_file_in_one_table():
    """The README's mixed table: kobench's demo runs and lmms-eval's run of the same tiny model."""
    inputs = load_report_inputs([DEMO / "tiny-llava-ko", DEMO / "chance", LMMS_FILE.parent])
    assert [r.source for r in inputs.imported] == [LMMS_EVAL]
    text = render_table(inputs.results, imported=inputs.imported)
    rows = table_lines(text)
    header = rows["Benchmark"]
    assert header[2:] == ["tiny-llava-ko", "chance"]  # lmms-eval's model matched to kobench's column
    assert rows["chartqa_local (relaxed_overall) [lmms-eval]"][2] == "33.3"
    # kobench-demo: kobench ran it, lmms-eval ran it on the same rows; both shown, each marked
    names = list(rows)
    ours, theirs = "kobench-demo [kobench]", "kobench_demo (seed_all) [lmms-eval]"
    assert names.index(theirs) == names.index(ours) + 1
    demo = load_results(DEMO / "tiny-llava-ko" / "results.json").tasks["kobench-demo"]
    assert rows[ours][2] == f"{demo.pipelines['kobench'].metrics['accuracy'].value:.1f}"
    assert rows[theirs][3] == "–"  # lmms-eval did not run the chance baseline
    assert "[kobench] kobench's run of a benchmark another harness reports too" in text
    csv_text = render_table(inputs.results, imported=inputs.imported, fmt="csv")
    assert "Chart,chartqa_local (relaxed_overall) [lmms-eval],33.3,," in csv_text.splitlines()


# --- never gated -------------------------------------------------------------------------------


def test_the_gate_refuses_other_harnesses_files():
    for path in (LMMS_FILE, LMMS_FILE.parent, VLM_RUN / f"{VLM_MODEL}_ChartQA_TEST_acc.csv"):
        with pytest.raises(BadInputError, match="never gated"):
            load_run(path)
    kobench = load_results(DEMO / "chance" / "results.json")
    with pytest.raises(BadInputError, match="never gated"):
        compare(kobench, load_imported(LMMS_FILE))  # type: ignore[arg-type]


def test_gate_command_exits_4_with_the_reason():
    result = CliRunner().invoke(
        app, ["gate", "--baseline", str(DEMO / "chance"), "--candidate", str(LMMS_FILE.parent)]
    )
    assert result.exit_code == 4
    assert "lmms-eval's results" in result.output and "never gated" in result.output


def test_load_inputs_refuses_other_harnesses_by_name():
    with pytest.raises(BadInputError, match=r"\(lmms-eval\)"):
        load_inputs([LMMS_FILE])


def test_a_folder_with_nothing_readable(tmp_path):
    with pytest.raises(BadInputError, match="VLMEvalKit's"):
        load_report_inputs([tmp_path])


def test_imported_rows_in_the_chart():
    pytest.importorskip("matplotlib", reason="charts need matplotlib (the ocr extra)")
    from kobench.report import plot

    kobench = [run_result("tiny-llava-ko", [task_result("kobench-demo", category="Demo", value=10.0)])]
    table = plot.collect(kobench, imported=[load_imported(LMMS_FILE)])
    assert "chartqa_local [lmms-eval]" in [r.task for r in table.rows]
    assert table.metrics["chartqa_local [lmms-eval]"] == "relaxed_overall"
    fig = plot.build_figure(kobench, imported=[load_imported(LMMS_FILE)])
    bars = {p.get_gid(): p.get_height() for ax in fig.axes for p in ax.patches if p.get_gid()}
    assert bars["bar:chartqa_local [lmms-eval]:0"] == pytest.approx(100 * 2 / 6)


def test_results_untouched_by_a_mixed_table():
    kobench = [run_result("a", [task_result("k-doc", category="Document", value=80.0)])]
    before = copy.deepcopy(kobench)
    render_table(kobench, imported=[imported(LMMS_EVAL, "a", "DocVQA val", 90.0)])
    assert kobench == before
    assert render_table(kobench) == render_table(kobench, imported=[])


@pytest.mark.extended
def test_the_lmms_eval_fixture_is_what_lmms_eval_writes(tmp_path):
    """Run lmms-eval again as make_lmms_eval.py does (minutes; its own venv) and read the same scores."""
    venv = Path("~/.cache/kobench/lmms-eval-venv").expanduser()
    if not (venv / "bin" / "python").is_file():
        pytest.skip(f"no lmms-eval venv at {venv} (see tests/fixtures/other_harnesses/README.md)")
    script = FIXTURES / "make_lmms_eval.py"
    subprocess.run(
        [sys.executable, str(script), "--venv", str(venv), "--out", str(tmp_path)], check=True, timeout=1500
    )
    (fresh,) = tmp_path.glob("*_results.json")

    def scores(path: Path) -> list[tuple]:
        return [
            (s.benchmark, s.metric, round(s.value, 9), s.n, s.complete) for s in load_imported(path).scores
        ]

    assert scores(fresh) == scores(LMMS_FILE)
