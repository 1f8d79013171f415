"""Generated benchmarks through the CLI: `kobench data synth`, first-use generation into the cache,
user-data tasks via --data-path, and adapters refusing tasks they cannot answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmark_copies import png
from scripted_model import ScriptedModel, register
from typer.testing import CliRunner

from kobench.cli import app
from kobench.results import load_results

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_data_synth_then_run_finds_it(tmp_path: Path) -> None:
    result = invoke("data", "synth", "--out", tmp_path / "d", "--only", "kobizdoc-synth", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "kobench" / "kobizdoc-synth" / "data" / "test-00000-of-00001.parquet").is_file()
    out = tmp_path / "out"
    run = invoke(
        "run",
        "--model",
        "chance",
        "--tasks",
        "kobizdoc-synth",
        "--data-dir",
        tmp_path / "d",
        "--limit",
        5,
        "--output",
        out,
        "--cache-dir",
        tmp_path / "c",
        "--no-progress",
    )
    assert run.exit_code == 0, run.output
    task = load_results(out / "results.json").tasks["kobizdoc-synth"]
    assert str(tmp_path / "d") in task.dataset.origin and task.n == 5
    assert task.pipelines["kobench"].metrics["anls"].value == 0.0  # chance answers nothing to open questions


def test_generated_task_writes_its_data_into_the_cache_on_first_use(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = invoke(
        "run",
        "--model",
        "chance",
        "--tasks",
        "ko-chart-synth-mc",
        "--limit",
        8,
        "--output",
        out,
        "--cache-dir",
        tmp_path / "c",
        "--no-progress",
    )
    assert run.exit_code == 0, run.output
    cached = list((tmp_path / "c" / "data").glob("ko-chart-synth@*/kobench/ko-chart-synth/data/mc-*.parquet"))
    assert len(cached) == 1
    task = load_results(out / "results.json").tasks["ko-chart-synth-mc"]
    assert task.n == 8 and task.pipelines["kobench"].n_unparsed == 0  # chance always names a letter


def test_data_synth_cut_off_leaves_the_data_that_was_there(monkeypatch, tmp_path: Path) -> None:
    """A generation cut off half-way (Ctrl-C, a full disk) into a folder that holds an earlier one: the
    earlier data stays whole and nothing half-written is left; one that finishes replaces it whole."""
    from kobench.synth import registry

    out = tmp_path / "d"
    assert invoke("data", "synth", "--out", out, "--only", "kobizdoc-synth").exit_code == 0
    folder = out / "kobench" / "kobizdoc-synth"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    real = registry.generators()

    def half_then_interrupted(root: Path, hub_id: str, seed: int = 0) -> Path:
        made = real["kobizdoc-synth"][2](root, hub_id, seed=seed)
        (made / "data" / "test-00000-of-00001.parquet").write_bytes(b"PAR1 cut")
        raise KeyboardInterrupt

    monkeypatch.setattr(
        registry,
        "generators",
        lambda: {**real, "kobizdoc-synth": (*real["kobizdoc-synth"][:2], half_then_interrupted)},
    )
    with pytest.raises(KeyboardInterrupt):
        registry.synth_all(out, 5, ["kobizdoc-synth"])
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in out.iterdir()) == ["kobench"]  # no partial copy left
    monkeypatch.undo()
    (folder / "stale.txt").write_text("from before", encoding="utf-8")
    registry.synth_all(out, 5, ["kobizdoc-synth"])
    assert not (folder / "stale.txt").exists()  # replaced whole, not written over
    assert sorted(p.name for p in out.iterdir()) == ["kobench"]


def test_data_synth_stopped_between_its_renames_puts_the_old_data_back(monkeypatch, tmp_path: Path) -> None:
    """Stopped after the old folder was moved aside and before the new one moved in: the old one is put
    back; and a partial copy a killed process left (its pid gone) is cleared by the next synth."""
    from kobench.synth import registry

    out = tmp_path / "d"
    assert invoke("data", "synth", "--out", out, "--only", "kobizdoc-synth").exit_code == 0
    folder = out / "kobench" / "kobizdoc-synth"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    rename = Path.rename

    def stopped_on_the_new_copy(self: Path, target: Path) -> Path:
        if self.name == "kobizdoc-synth" and ".partial-" in str(self):
            raise KeyboardInterrupt
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", stopped_on_the_new_copy)
    with pytest.raises(KeyboardInterrupt):
        registry.synth_all(out, 5, ["kobizdoc-synth"])
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in (out / "kobench").iterdir()) == ["kobizdoc-synth"]
    (out / ".kobizdoc-synth.partial-999999999").mkdir()  # no such process
    (out / "kobench" / ".kobizdoc-synth.old-999999999").mkdir()  # a swap killed (-9) between its renames
    registry.synth_all(out, 5, ["kobizdoc-synth"])
    assert sorted(p.name for p in out.iterdir()) == ["kobench"]
    assert sorted(p.name for p in (out / "kobench").iterdir()) == ["kobizdoc-synth"]


def test_data_synth_out_naming_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    result = invoke("data", "synth", "--out", tmp_path / "afile", "--only", "kobizdoc-synth")
    assert result.exit_code == 4 and "--out" in result.output and "cannot make the folder" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unknown_generator_exits_4(tmp_path: Path) -> None:
    result = invoke("data", "synth", "--out", tmp_path, "--only", "nope")
    assert result.exit_code == 4 and "unknown data generator" in result.output


def test_user_data_task_runs_on_data_path(monkeypatch, tmp_path: Path) -> None:
    folder = tmp_path / "my-docs"
    (folder / "images").mkdir(parents=True)
    rows = []
    for i, (question, answers) in enumerate(
        [("합계금액은?", ["55,000원"]), ("상호는?", ["(주)한빛상사", "한빛상사"])]
    ):
        (folder / "images" / f"{i}.png").write_bytes(png((i * 40, 90, 120)))
        rows.append({"id": f"doc-{i}", "image": f"images/{i}.png", "question": question, "answers": answers})
    (folder / "qa.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    register(monkeypatch, ScriptedModel(lambda r: "정답은 55000원입니다" if r.id == "doc-0" else "한빛상사"))
    common = [
        "run",
        "--model",
        "scripted:x",
        "--tasks",
        "kobizdoc",
        "--cache-dir",
        tmp_path / "c",
        "--no-progress",
    ]
    missing = invoke(*common)
    assert missing.exit_code == 4 and "--data-path kobizdoc=DIR" in missing.output
    result = invoke(*common, "--data-path", f"kobizdoc={folder}", "--output", tmp_path / "out")
    assert result.exit_code == 0, result.output
    task = load_results(tmp_path / "out" / "results.json").tasks["kobizdoc"]
    assert task.pipelines["kobench"].metrics["exact_match"].value == pytest.approx(100.0)
    # ANLS compares strings: "55000원" vs "55,000원" is 1 edit / 7 characters -> 6/7; row 1 ("한빛상사" is an
    # accepted answer) scores 1 -> (6/7 + 1) / 2 = 13/14
    assert task.pipelines["kobench"].metrics["anls"].value == pytest.approx(100 * 13 / 14)


def test_ocr_match_refuses_grounding_before_any_work(tmp_path: Path) -> None:
    result = invoke(
        "run", "--model", "ocr-match", "--tasks", "ko-ocr-grounding-synth", "--cache-dir", tmp_path / "c"
    )
    assert result.exit_code == 4 and "cannot answer ko-ocr-grounding-synth" in result.output
    assert not (tmp_path / "c" / "data").exists()  # nothing was generated


def test_demo_runs_each_baseline_only_on_tasks_it_answers() -> None:
    from kobench.demo import DEMO_RUNS, DEMO_TASKS, answerable

    assert answerable("tesseract", DEMO_TASKS) == ["ko-ocr-synth", "ko-ocr-grounding-synth"]
    assert "ko-ocr-grounding-synth" not in answerable("ocr-match", DEMO_TASKS)
    for adapter, tasks in DEMO_RUNS:
        assert answerable(adapter, tasks) == list(tasks)
