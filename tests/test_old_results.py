"""Results written by earlier kobench versions still load, table and gate; a signature part one of two runs
lacks is shown as unknown and never makes them incomparable on its own."""

from __future__ import annotations

from pathlib import Path

from results_factory import run_result, task_result
from typer.testing import CliRunner

from kobench.cli import app
from kobench.report.gate import INCOMPATIBLE, compare
from kobench.report.leaderboard import DIFFERENT, render_table
from kobench.report.signatures import signature_differences, signature_unknowns, signatures_agree
from kobench.results import load_results

# Written by kobench at commit 536af2d (the first with the command line), a tiny random model on 12 rows
# of K-Viscuit and kobench-demo: the oldest results shape there is.
OLDEST = Path(__file__).with_name("fixtures") / "results-536af2d.json"


def test_the_oldest_results_load_table_and_gate(tmp_path: Path) -> None:
    old = load_results(OLDEST)
    assert set(old.tasks) == {"k-viscuit", "kobench-demo"} and old.run.prompt_tokens == 0
    table = CliRunner().invoke(app, ["table", str(OLDEST)])
    assert table.exit_code == 0, table.output
    assert "k-viscuit" in table.output and "old_tiny" in table.output
    gate = CliRunner().invoke(app, ["gate", "--baseline", str(OLDEST), "--candidate", str(OLDEST)])
    assert gate.exit_code == 0, gate.output


OLD = "t|data:x|split:test|prompt:1|gen:max_new_tokens=8|parser:p@1|metric:accuracy@1|agg:mean"
NEW = OLD + "|unit:row"


def test_a_part_only_one_signature_has_is_unknown_not_different() -> None:
    assert signature_differences(OLD, NEW) == []
    assert signature_unknowns(OLD, NEW) == ["unit: unknown -> row"]
    assert signatures_agree(OLD, NEW)
    assert not signatures_agree(OLD, OLD.replace("prompt:1", "prompt:2"))
    assert signature_differences(NEW, NEW.replace("prompt:1", "prompt:2")) == ["prompt: 1 -> 2"]


def test_the_gate_and_the_table_compare_an_older_signature() -> None:
    scores = [1.0, 0.0, 1.0, 1.0]
    ids = ["a", "b", "c", "d"]
    base = run_result("m", [task_result("t", value=75.0, unit_scores=scores, ids=ids, signature=OLD)])
    cand = run_result("m", [task_result("t", value=75.0, unit_scores=scores, ids=ids, signature=NEW)])
    (row,) = compare(base, cand).rows
    assert row.verdict != INCOMPATIBLE and row.differences == []
    assert any("unit: unknown -> row" in note for note in row.notes)
    other = run_result("n", [task_result("t", value=75.0, unit_scores=scores, ids=ids, signature=NEW)])
    assert DIFFERENT not in render_table([base, other])
    changed = run_result("n", [task_result("t", value=75.0, signature=NEW.replace("prompt:1", "prompt:2"))])
    assert DIFFERENT in render_table([base, changed])
    (row,) = compare(base, changed).rows
    assert row.verdict == INCOMPATIBLE
