"""The command line: commands, exit codes (DESIGN.md), score and table."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from benchmark_copies import k_seed_rows, write_all
from scripted_model import ScriptedModel, register
from typer.testing import CliRunner

from kobench.cli import app
from kobench.results import load_results

runner = CliRunner()


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    return write_all(tmp_path / "mirror")


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_help_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kobench", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("run", "score", "tasks", "table", "demo"):
        assert command in out.stdout


def test_help_command_list_wraps_each_summary_as_one_paragraph() -> None:
    """A docstring's own line breaks are not the list's: on a wide terminal each summary is one line, and
    tokens' tiktoken:[NAME=]PATH keeps its brackets (plain text, not markup)."""
    env = {**os.environ, "COLUMNS": "400"}
    wide = subprocess.run(
        [sys.executable, "-m", "kobench", "--help"], capture_output=True, text=True, check=True, env=env
    ).stdout
    score = next(line for line in wide.splitlines() if " score " in line)
    assert "as `run`; into an --output folder scored under the same --model-name" in score
    tokens = subprocess.run(
        [sys.executable, "-m", "kobench", "tokens", "--help"], capture_output=True, text=True, env=env
    ).stdout
    assert "tiktoken:[NAME=]PATH" in tokens


def test_tasks_lists_builtins_with_source_split_size_metric_version() -> None:
    result = invoke("tasks")
    assert result.exit_code == 0
    line = next(x for x in result.output.splitlines() if x.startswith("k-mmbench"))
    for part in ("NCSOFT/K-MMBench", "dev", "4329", "circular", "mmbench-heuristic", "2025-07 (default)"):
        assert part in line
    mmstar = next(x for x in result.output.splitlines() if x.startswith("k-mmstar"))
    assert "lmms-eval-0.7.2 (protocol: lmms-eval-mcq)" in mmstar and "lmms-eval-2025," in mmstar
    lines = result.output.splitlines()[2:]
    kmmlu = next(x for x in lines if x.startswith("kmmlu "))
    assert " text " in kmmlu and "accuracy (mean; log-likelihood)" in kmmlu
    assert "lm-eval-5shot (default; log-likelihood, 5-shot)" in kmmlu and kmmlu.endswith("lm-eval-direct")
    modalities = [x.split()[1] for x in lines]
    assert modalities == sorted(modalities, key=["image", "text"].index)  # the image tasks first


def test_unknown_task_exits_4(mirror: Path, tmp_path: Path) -> None:
    result = invoke("run", "--model", "hf:nowhere", "--tasks", "k-nope", "--data-dir", mirror)
    assert result.exit_code == 4 and "unknown task" in result.output


def test_unknown_adapter_exits_4(mirror: Path) -> None:
    result = invoke("run", "--model", "gguf:x", "--tasks", "k-seed", "--data-dir", mirror)
    assert result.exit_code == 4 and "unknown model adapter 'gguf'" in result.output


def test_a_mistyped_model_folder_is_said_before_any_data_is_read(tmp_path: Path) -> None:
    """The folder is checked first: the data folder here is empty, and reading it would fail (or, without a
    --data-dir, ask the Hub for K-SEED with its retries) before the model was ever looked at."""
    missing = tmp_path / "ckpt" / "step-1000"
    (tmp_path / "empty").mkdir()
    result = invoke("run", "--model", f"hf:{missing}", "--tasks", "k-seed", "--data-dir", tmp_path / "empty")
    assert result.exit_code == 4 and f"model folder not found: {missing}" in result.output, result.output


def test_bad_task_yaml_exits_4(mirror: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "bad.yaml").write_text("name: bad\nfamily: multiple_choice\nwhat: 1\n", encoding="utf-8")
    result = invoke("run", "--model", "hf:x", "--tasks", "bad", "--task-dir", folder, "--data-dir", mirror)
    assert result.exit_code == 4 and "bad.yaml:3: what: unknown key" in result.output


def test_missing_column_exits_4_before_any_model_work(monkeypatch, tmp_path: Path) -> None:
    from benchmark_copies import write_parquet

    rows = [{k: v for k, v in r.items() if k != "choice_c"} for r in k_seed_rows()]
    write_parquet(tmp_path / "m", "NCSOFT/K-SEED", "test", rows)
    model = ScriptedModel(lambda r: "A")
    register(monkeypatch, model)
    result = invoke(
        "run",
        "--model",
        "scripted:x",
        "--tasks",
        "k-seed",
        "--data-dir",
        tmp_path / "m",
        "--cache-dir",
        tmp_path / "c",
    )
    assert result.exit_code == 4 and "choice_c" in result.output and "K-SEED" in result.output
    assert model.calls == []


def test_failures_above_threshold_exit_5_and_keep_results(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    register(monkeypatch, ScriptedModel(lambda r: None if r.id == "1000" else "A"))  # 1 of 10 fails
    out = tmp_path / "out"
    args = [
        "run",
        "--model",
        "scripted:x",
        "--tasks",
        "k-seed",
        "--data-dir",
        mirror,
        "--output",
        out,
        "--cache-dir",
        tmp_path / "c",
        "--no-progress",
    ]
    result = invoke(*args)
    assert result.exit_code == 5 and "max-failed-share" in result.output
    assert load_results(out / "results.json").tasks["k-seed"].n_failed == 1
    assert invoke(*args, "--max-failed-share", "0.2").exit_code == 0


def test_score_predictions_from_elsewhere(mirror: Path, tmp_path: Path) -> None:
    answers = [r["answer"] for r in k_seed_rows()]
    preds = tmp_path / "other-harness.jsonl"
    lines = [
        {"id": 1000 + i, "prediction": f"{a}번" if i < 6 else "모르겠어요"} for i, a in enumerate(answers)
    ]
    preds.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    out = tmp_path / "scored"
    result = invoke(
        "score",
        "--task",
        "k-seed",
        "--predictions",
        preds,
        "--data-dir",
        mirror,
        "--output",
        out,
        "--max-failed-share",
        "0",
    )
    assert result.exit_code == 0, result.output
    saved = load_results(out / "results.json")
    task = saved.tasks["k-seed"]
    assert task.pipelines["kobench"].metrics["accuracy"].value == pytest.approx(60.0)  # "B번" is B
    assert task.pipelines["protocol"].metrics["accuracy"].value == pytest.approx(60.0)  # first char too
    assert task.pipelines["kobench"].n_unparsed == 4 and task.n == 10
    assert saved.run.model.name == "other-harness"
    samples = (out / "samples" / "k-seed.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(samples) == 10 and json.loads(samples[0])["prediction"]


def test_score_shows_its_progress_as_run_does(mirror: Path, tmp_path: Path) -> None:
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": 1000 + i, "prediction": "A"}) + "\n" for i in range(10)))
    command = [sys.executable, "-m", "kobench", "score", "-t", "k-seed", "--predictions", str(preds)]
    shown = subprocess.run([*command, "--data-dir", str(mirror)], capture_output=True, text=True)
    assert shown.returncode == 0 and re.search(r"k-seed .* 10/10 elapsed", shown.stderr), shown.stderr
    quiet = subprocess.run(
        [*command, "--data-dir", str(mirror), "--no-progress"], capture_output=True, text=True
    )
    assert quiet.returncode == 0 and "10/10" not in quiet.stderr


def test_score_rejects_a_malformed_line_naming_file_line_field(mirror: Path, tmp_path: Path) -> None:
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": 1000, "prediction": "A"}\n{"id": 1001}\n', encoding="utf-8")
    result = invoke("score", "--task", "k-seed", "--predictions", preds, "--data-dir", mirror)
    assert result.exit_code == 4
    assert "p.jsonl, row 2, field 'prediction'" in result.output


def test_table_puts_models_side_by_side(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    for name, text in (("a", "A"), ("b", "정답은 B입니다")):
        register(
            monkeypatch,
            ScriptedModel(lambda r, t=text: t, name=f"model-{name}", fingerprint=f"scripted:{name}"),
        )
        assert (
            invoke(
                "run",
                "--model",
                f"scripted:model-{name}",
                "--tasks",
                "k-seed,k-dtcbench",
                "--data-dir",
                mirror,
                "--output",
                tmp_path / name,
                "--cache-dir",
                tmp_path / "c",
                "--no-progress",
                "--max-new-tokens",
                "4" if name == "b" else "1024",
            ).exit_code
            == 0
        )
    result = invoke("table", tmp_path / "a", tmp_path / "b" / "results.json")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [c.strip() for c in lines[0].split("|")[1:5]] == ["Category", "Benchmark", "model-a", "model-b"]
    general = next(x for x in lines if "k-seed" in x)
    document = next(x for x in lines if "k-dtcbench" in x)
    # k-seed answers: A,B,C,D,... (3 of 10 are A, 3 are B); k-dtcbench: B,C,D,A,... (3 of 9 are B, 2 are A)
    assert "| **30.0** " in general and "| **30.0** †" in general  # a tie: both best
    assert "| 22.2 " in document and "| **33.3** †" in document
    assert lines.index(document) < lines.index(general)  # Document before General, as model cards order them
    assert any("†" in x and "other settings" in x for x in lines)
    protocol = invoke("table", "--pipeline", "protocol", tmp_path / "a", tmp_path / "b").output
    assert "| 0.0 †" in next(x for x in protocol.splitlines() if "k-seed" in x)  # "정..." is never credited


def test_predictions_may_say_why_each_answer_ended(mirror: Path, tmp_path: Path) -> None:
    preds = tmp_path / "p.jsonl"
    lines = [{"id": 1000 + i, "prediction": "A"} for i in range(10)]
    lines[0]["finish_reason"] = "length"
    lines[1]["finish_reason"] = "max_tokens"  # another harness's word for it
    lines[2]["finish_reason"] = "stop"
    preds.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    result = invoke(
        "score", "--task", "k-seed", "--predictions", preds, "--data-dir", mirror, "--output", tmp_path / "o"
    )
    assert result.exit_code == 0, result.output
    cut = load_results(tmp_path / "o" / "results.json").tasks["k-seed"].truncation
    assert cut.finish_reasons == {"length": 2, "stop": 1, "unknown": 7} and cut.n_truncated == 2
    lines[3]["finish_reason"] = "ran-out"
    preds.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    bad = invoke("score", "--task", "k-seed", "--predictions", preds, "--data-dir", mirror)
    assert bad.exit_code == 4 and "row 4" in bad.output and "finish_reason" in bad.output


_HOLD = """
import sys, time
from pathlib import Path
from kobench.run.output import OutputLock
with OutputLock(Path(sys.argv[1])) as lock:
    lock.acquire()
    print("held", flush=True)
    while not Path(sys.argv[2]).exists():
        time.sleep(0.05)
"""


def _chance_run(mirror: Path, out: Path) -> tuple:
    return ("run", "--model", "chance:0", "--tasks", "k-seed", "--data-dir", mirror, "--output", out)


def test_a_second_run_into_a_folder_in_use_is_refused_before_it_touches_it(
    mirror: Path, tmp_path: Path
) -> None:
    out, release = tmp_path / "out", tmp_path / "release"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(out), str(release)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        run = _chance_run(mirror, out)
        busy = invoke(*run, "--cache-dir", tmp_path / "c")
        assert busy.exit_code == 4, busy.output
        assert f"{out} is being written by another kobench run (process {holder.pid})" in busy.output
        assert sorted(p.name for p in out.iterdir()) == [".kobench.lock"]  # nothing written, nothing removed
        preds = tmp_path / "p.jsonl"
        preds.write_text("".join(json.dumps({"id": 1000 + i, "prediction": "A"}) + "\n" for i in range(10)))
        scored = invoke(
            "score", "-t", "k-seed", "--predictions", preds, "--data-dir", mirror, "--output", out
        )
        assert scored.exit_code == 4 and "is being written by another kobench run" in scored.output
    finally:
        release.touch()
        holder.wait(30)
    done = invoke(*run, "--cache-dir", tmp_path / "c")
    assert done.exit_code == 0, done.output
    assert (out / "results.json").is_file() and not (out / ".kobench.lock").exists()  # let go at the end


def test_a_killed_runs_lock_is_no_lock(mirror: Path, tmp_path: Path) -> None:
    import signal

    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(out), str(tmp_path / "never")], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    assert (out / ".kobench.lock").read_text() == str(holder.pid)  # left behind, and held by no one
    result = invoke(*_chance_run(mirror, out), "--cache-dir", tmp_path / "c")
    assert result.exit_code == 0, result.output
