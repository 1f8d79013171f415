"""Options as the published code builds them (task option_values), MMBench's stripped response, and
circular groups formed from main rows only; expected scores worked by hand from lmms-eval's source
(seedbench/ko_utils.py seed_doc_to_text; mmbench/ko_utils.py mmbench_doc_to_text and
mmbench_process_results; mmbench/mmbench_evals.py create_options_prompt, build_choices, can_infer,
eval_result)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_copies import k_mmbench_rows, k_seed_rows, write_parquet
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.extract.protocol import mmbench_heuristic


def run(root: Path, tmp_path: Path, task: str, **kw):
    return evaluate("scripted:x", task, data_dir=root, cache_dir=tmp_path / "cache", **kw).tasks[task]


def test_k_seed_scores_empty_and_nan_options_as_the_reference(monkeypatch, tmp_path: Path) -> None:
    rows = k_seed_rows()
    rows[0].update(choice_c="", choice_d="nan", answer="C")  # seed_doc_to_text: "C. " and "D. nan"
    rows[1].update(choice_d="nan", answer="D")
    write_parquet(tmp_path / "m", "NCSOFT/K-SEED", "test", rows)
    prompts = {}

    def script(request) -> str:
        prompts[request.id] = request.prompt_text
        return {"1000": "C", "1001": "D. nan"}.get(request.id, "A")

    register(monkeypatch, ScriptedModel(script))
    task = run(tmp_path / "m", tmp_path, "k-seed")
    assert task.n_failed == 0 and task.n == 10  # before: "only 3 options" / "only 2 options"
    assert "\nC. \nD. nan\n" in prompts["1000"]
    proto = task.pipelines["protocol"].unit_scores
    assert proto[:2] == [1.0, 1.0]  # first character "C", "D": right, as lmms-eval scores them
    assert task.pipelines["kobench"].unit_scores[:2] == [1.0, 1.0]


def _mmbench_rows() -> list[dict]:
    rows = [r for r in k_mmbench_rows() if r["index"] % 1_000_000 == 0]  # question 0 and its rotations
    main = dict(rows[0], index=7, C="", D="nan", answer="C")  # question 7: one row, no rotation
    other = dict(rows[0], index=8, C="", D="nan", answer="C")
    return [*rows, main, other]


def test_k_mmbench_hidden_options_still_match_text(monkeypatch, tmp_path: Path) -> None:
    write_parquet(tmp_path / "m", "NCSOFT/K-MMBench", "dev", _mmbench_rows())
    prompts = {}

    def script(request) -> str:
        prompts[request.id] = request.prompt_text
        # 7: no letter, no option text but "" (C's, which every response contains) -> C, right.
        # 8: "banana" also holds "nan" (D's text) -> two candidates -> nothing.
        return {"7": "모르겠습니다", "8": "banana"}.get(request.id, "A")

    register(monkeypatch, ScriptedModel(script))
    task = run(tmp_path / "m", tmp_path, "k-mmbench")
    assert task.n_failed == 0 and task.units.ids == ["0", "7", "8"]
    # create_options_prompt shows A and B only: "" is false, "nan" is left out
    assert "There are several options:\nA. " in prompts["7"] and "\nC." not in prompts["7"]
    assert "\nD." not in prompts["7"]
    proto, kob = task.pipelines["protocol"], task.pipelines["kobench"]
    assert proto.unit_scores[1:] == [1.0, 0.0]
    assert kob.unit_scores[1:] == [0.0, 0.0]  # kobench reads the shown options only: C is not one


def test_mmbench_matches_the_stripped_response() -> None:
    options = [("A", "사과 "), ("B", "배")]
    # mmbench_process_results stores results[0].strip(): "사과" no longer holds "사과 "
    assert mmbench_heuristic("사과 ", options) is None
    assert mmbench_heuristic("  사과 맛\n", options) == "A"  # "사과 " inside the stripped text
    assert mmbench_heuristic(" B\n", options) == "B"


def test_rotations_without_their_main_row_are_not_a_question(monkeypatch, tmp_path: Path) -> None:
    rows = [r for r in k_mmbench_rows() if r["index"] != 1]  # question 1 keeps its two rotations only
    write_parquet(tmp_path / "m", "NCSOFT/K-MMBench", "dev", rows)
    answers = {str(r["index"]): r["answer"] for r in rows}
    register(monkeypatch, ScriptedModel(lambda r: answers[r.id]))
    task = run(tmp_path / "m", tmp_path, "k-mmbench")
    assert task.n_rows == 10 and task.n == 10 and task.n_failed == 0
    assert task.units.ids == ["0", "2"]  # eval_result forms groups from index < 1e6 only
    for pipeline in ("protocol", "kobench"):
        assert task.pipelines[pipeline].metrics["accuracy"].value == pytest.approx(100.0)
        assert task.pipelines[pipeline].metrics["accuracy"].n == 2


def test_a_groups_category_is_its_main_rows(monkeypatch, tmp_path: Path) -> None:
    rows = k_mmbench_rows(1)
    rows[1]["category"] = "회전"  # a rotation listed before the main row, with another category
    rows = [rows[1], rows[0], *rows[2:]]
    write_parquet(tmp_path / "m", "NCSOFT/K-MMBench", "dev", rows)
    register(monkeypatch, ScriptedModel(lambda r: "A"))
    task = run(tmp_path / "m", tmp_path, "k-mmbench")
    assert list(task.pipelines["kobench"].breakdown["category"]) == ["인식"]
