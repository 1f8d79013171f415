"""K-Viscuit in Korean: a user's translated copy runs as the task `k-viscuit-ko`, never as `k-viscuit` on
other data. A run on the Korean copy and one on the original never share a signature, and `kobench table`
never merges them: each has a row of its own, even for one model whose runs are merged into one column."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_k_viscuit_ko import IDS, KOREAN_DIR, rows, write_k_viscuit_copies
from scripted_model import ScriptedModel, register
from typer.testing import CliRunner

from kobench.api import evaluate
from kobench.cli import app
from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.errors import BadInputError
from kobench.families import resolve_tasks
from kobench.report.leaderboard import build_rows, columns_of
from kobench.report.signatures import signature_differences, signature_parts, signatures_agree
from kobench.results import RunResult
from kobench.run.prepare import prepare_task

ENGLISH_INSTRUCTION = "Answer with the option's letter from the given choices directly."
KOREAN_INSTRUCTION = "주어진 선택지 중 해당 옵션의 문자로 바로 답하세요."
# The script answers every English question right and the Korean copy's first five only, so the two scores
# differ (100.0 and 62.5).
GOLD = {row["question"]: row["answer"] for language in ("en", "ko") for row in rows(language)}
KOREAN_WRONG = {row["question"] for row in rows("ko")[5:]}


def _answer(request) -> str:
    gold = GOLD[request.question]
    return "ABCD"[("ABCD".index(gold) + 1) % 4] if request.question in KOREAN_WRONG else gold


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return write_k_viscuit_copies(tmp_path / "data")


def _task(name: str):
    return resolve_tasks([name])[0]


def _prepare(name: str, tmp_path: Path, **data):
    return prepare_task(_task(name), DataOptions(**data), ScoringOptions(), JudgeOptions(), tmp_path / "c")


def test_the_korean_copy_is_a_task_of_its_own_with_a_korean_instruction(
    data_dir: Path, tmp_path: Path
) -> None:
    task = _task("k-viscuit-ko")
    original = _task("k-viscuit")
    assert task.dataset.user_data and task.dataset.hub_id is None and task.dataset.local_dir == KOREAN_DIR
    assert task.columns == original.columns and task.scoring == original.scoring  # the same data, read alike
    assert task.prompt.versions["kobench-1"] == original.prompt.versions["kobench-1"]
    prepared = _prepare("k-viscuit-ko", tmp_path, data_dir=data_dir)
    assert prepared.version == "kobench-ko-1"
    assert [item.id for item in prepared.items] == [*IDS[:-1], IDS[-1] + "#2"]  # repeated ids, as k-viscuit
    for item, row in zip(prepared.items, rows("ko"), strict=True):
        options = "".join(f"{letter}. {text}\n" for letter, text in zip("ABCD", row["options"], strict=True))
        assert item.request.messages[0].text == f"{row['question']}\n{options}{KOREAN_INSTRUCTION}"
        assert len(item.request.images) == 1 and item.target == row["answer"]
    # --data-path names the same copy wherever it lies
    elsewhere = _prepare("k-viscuit-ko", tmp_path, data_paths=(f"k-viscuit-ko={data_dir / KOREAN_DIR}",))
    assert elsewhere.dataset.identity == prepared.dataset.identity


def test_without_a_copy_it_says_how_to_give_one(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="--data-path k-viscuit-ko=DIR"):
        _prepare("k-viscuit-ko", tmp_path)


def _run(data_dir: Path, tmp_path: Path, name: str, tasks: str, **kw) -> RunResult:
    return evaluate("scripted:x", tasks, data_dir=data_dir, use_cache=False, output=tmp_path / name, **kw)


def test_korean_and_original_runs_never_share_a_signature_nor_a_row(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(monkeypatch, ScriptedModel(_answer))
    english = _run(data_dir, tmp_path, "en", "k-viscuit")
    korean = _run(data_dir, tmp_path, "ko", "k-viscuit-ko")
    # the translated copy with the original's English instruction: the same prompt, still not the same numbers
    same_prompt = _run(data_dir, tmp_path, "ko-en", "k-viscuit-ko", prompt_versions=["kobench-1"])
    en = english.tasks["k-viscuit"]
    assert en.primary_metric == "accuracy" and en.pipelines["kobench"].metrics["accuracy"].value == 100.0
    ko = korean.tasks["k-viscuit-ko"]
    assert ko.pipelines["kobench"].metrics["accuracy"].value == pytest.approx(62.5)
    for pipeline in ("protocol", "kobench"):
        a = en.pipelines[pipeline].signature
        for other in (ko, same_prompt.tasks["k-viscuit-ko"]):
            b = other.pipelines[pipeline].signature
            assert not signatures_agree(a, b)
            changed = {d.split(":")[0] for d in signature_differences(a, b)}
            assert {"task", "data"} <= changed
        b = ko.pipelines[pipeline].signature
        assert signature_parts(b)["task"] == "k-viscuit-ko" and signature_parts(b)["prompt"] == "kobench-ko-1"
        assert "prompt" in {d.split(":")[0] for d in signature_differences(a, b)}
        assert (
            signature_parts(same_prompt.tasks["k-viscuit-ko"].pipelines[pipeline].signature)["phash"]
            == (signature_parts(a)["phash"])
        )

    # one model, runs merged into one column: each copy keeps its own row, none marked as made otherwise
    (column,) = columns_of([english, korean])
    assert set(column.tasks) == {"k-viscuit", "k-viscuit-ko"}
    table_rows, notes = build_rows([column])
    values = {row.task: row.cells[0].value for row in table_rows}
    assert values == {"k-viscuit": 100.0, "k-viscuit-ko": pytest.approx(62.5)}
    assert all(not row.cells[0].marks for row in table_rows) and notes == []
    printed = CliRunner().invoke(app, ["table", str(tmp_path / "en"), str(tmp_path / "ko")])
    assert printed.exit_code == 0, printed.output
    lines = printed.output.splitlines()
    original_line = next(x for x in lines if "| k-viscuit " in x)
    korean_line = next(x for x in lines if "| k-viscuit-ko " in x)
    assert "100.0" in original_line and "62.5" in korean_line and "†" not in printed.output


def test_one_run_may_hold_both(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, ScriptedModel(_answer))
    both = _run(data_dir, tmp_path, "both", "k-viscuit,k-viscuit-ko")
    assert both.tasks["k-viscuit"].pipelines["protocol"].metrics["accuracy"].value == 100.0
    assert both.tasks["k-viscuit-ko"].pipelines["protocol"].metrics["accuracy"].value == pytest.approx(62.5)
    assert both.tasks["k-viscuit-ko"].n == both.tasks["k-viscuit"].n == 8


def test_the_original_task_on_a_translated_copy_is_other_data(data_dir: Path, tmp_path: Path) -> None:
    """Pointing `k-viscuit` itself at the translation is possible, but its signature names other data, so
    tables mark it † beside an original run and the gate refuses to compare them; k-viscuit-ko is the way."""
    original = _prepare("k-viscuit", tmp_path, data_dir=data_dir)
    misused = _prepare("k-viscuit", tmp_path, data_paths=(f"k-viscuit={data_dir / KOREAN_DIR}",))
    korean = _prepare("k-viscuit-ko", tmp_path, data_dir=data_dir)
    assert misused.dataset.identity == korean.dataset.identity != original.dataset.identity
