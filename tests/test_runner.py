"""The run path end to end (data -> prompts -> cache/model -> samples -> results), with a scripted
model whose answers make the right scores known in advance (worked out by hand below)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmark_copies import k_mmbench_rows, k_mmstar_rows, k_seed_rows, write_all, write_parquet
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.errors import NotComparableError
from kobench.results import load_results

# K-SEED copy: answers are A,B,C,D,A,B,C,D,A,B by row.
SEED_ANSWERS = [r["answer"] for r in k_seed_rows()]


def seed_script(request) -> str:
    i = int(request.id) - 1000
    right = SEED_ANSWERS[i]
    wrong = "A" if right != "A" else "B"
    if i < 5:
        return f"정답은 {right}입니다."  # protocol (first char) misses it, kobench finds it
    if i < 8:
        return right  # both right
    if i == 8:
        return wrong  # both wrong, parsed
    return "잘 모르겠습니다."  # nobody can parse it


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    return write_all(tmp_path / "mirror")


def run(mirror: Path, tmp_path: Path, tasks: str = "k-seed", **kw):
    kw.setdefault("cache_dir", tmp_path / "cache")
    return evaluate("scripted:x", tasks, data_dir=mirror, **kw)


def test_scores_both_pipelines_and_counts_unparsed(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    model = ScriptedModel(seed_script)
    register(monkeypatch, model)
    result = run(mirror, tmp_path, output=tmp_path / "out", batch_size=4)
    task = result.tasks["k-seed"]
    assert result.status == "complete" and task.complete
    kob, proto = task.pipelines["kobench"], task.pipelines["protocol"]
    assert kob.metrics["accuracy"].value == pytest.approx(80.0)  # rows 0-7 right
    assert proto.metrics["accuracy"].value == pytest.approx(30.0)  # rows 5-7 right
    assert kob.n_unparsed == 1 and proto.n_unparsed == 6  # "정..." x5 and "잘..." x1
    assert kob.metrics["accuracy"].ci_low <= 80.0 <= kob.metrics["accuracy"].ci_high
    assert task.n == 10 and task.n_failed == 0
    assert kob.breakdown["data_type"]["image"].n == 10
    assert list(kob.metrics) == ["accuracy"] and task.primary_metric == "accuracy" and task.scale == "percent"
    assert "prompt:2025-07" in kob.signature and "parser:kobench-choice@2" in kob.signature
    assert "parser:first-char@1" in proto.signature and "n=" not in kob.signature
    # results.json and samples written
    saved = load_results(tmp_path / "out" / "results.json")
    assert saved.tasks["k-seed"].pipelines["kobench"].metrics["accuracy"].value == pytest.approx(80.0)
    lines = [json.loads(x) for x in (tmp_path / "out" / "samples" / "k-seed.jsonl").read_text().splitlines()]
    assert len(lines) == 10
    first = next(x for x in lines if x["id"] == "1000")
    assert first["prediction"] == "정답은 A입니다." and first["parsed"] == "A" and first["score"] == 1.0
    assert (
        first["protocol"]["parsed"] is None and first["protocol"]["score"] == 0.0 and first["target"] == "A"
    )
    assert first["prompt"].startswith("사진 속 사람은") and first["status"] == "scored"
    assert (
        saved.run.model.adapter == "scripted" and saved.run.kobench_version and "numpy" in saved.run.packages
    )
    assert saved.run.generated_tokens > 0 and saved.run.model_calls == 10


def test_cache_answers_a_repeat_run_without_loading_the_model(
    monkeypatch, mirror: Path, tmp_path: Path
) -> None:
    loads: list[str] = []
    model = ScriptedModel(seed_script)
    register(monkeypatch, model, loads)
    run(mirror, tmp_path, output=tmp_path / "first")
    assert len(model.calls) == 10 and loads == ["x"]
    second = run(mirror, tmp_path, output=tmp_path / "second")
    assert len(model.calls) == 10 and loads == ["x"]  # zero model calls, model never loaded again
    assert second.run.model_calls == 0 and second.run.cache_hits == 10
    assert second.tasks["k-seed"].pipelines["kobench"].metrics["accuracy"].value == pytest.approx(80.0)
    # --no-cache asks the model again
    third = run(mirror, tmp_path, use_cache=False)
    assert third.run.model_calls == 10 and len(model.calls) == 20


def test_new_checkpoint_is_never_served_old_answers(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    model = ScriptedModel(seed_script)
    register(monkeypatch, model)
    run(mirror, tmp_path)
    model.fingerprint = "scripted:2"  # same path, new weights
    result = run(mirror, tmp_path)
    assert result.run.model_calls == 10 and result.run.cache_hits == 0


def test_interrupted_run_keeps_finished_rows_and_resumes(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    model = ScriptedModel(seed_script, interrupt_after=4)
    register(monkeypatch, model)
    out = tmp_path / "out"
    first = run(mirror, tmp_path, output=out, batch_size=4, use_cache=False)
    assert first.status == "incomplete" and not first.tasks["k-seed"].complete
    assert len((out / "samples" / "k-seed.jsonl").read_text().splitlines()) == 4
    assert load_results(out / "results.json").status == "incomplete"
    model.interrupt_after = None
    second = run(mirror, tmp_path, output=out, batch_size=4, use_cache=False)
    assert second.status == "complete"
    assert len(model.calls) == 10  # the 4 finished rows were not asked again
    assert second.tasks["k-seed"].pipelines["kobench"].metrics["accuracy"].value == pytest.approx(80.0)


def test_other_settings_in_the_same_output_are_refused(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    register(monkeypatch, ScriptedModel(seed_script))
    out = tmp_path / "out"
    run(mirror, tmp_path, output=out)
    with pytest.raises(NotComparableError, match="--overwrite"):
        run(mirror, tmp_path, output=out, max_new_tokens=5)
    result = run(mirror, tmp_path, output=out, max_new_tokens=5, overwrite=True)
    assert result.tasks["k-seed"].generation_overridden == ["max_new_tokens"]
    assert "max_new_tokens=5(cli)" in result.tasks["k-seed"].pipelines["kobench"].signature


def test_bad_rows_are_counted_failures_with_reasons(monkeypatch, tmp_path: Path) -> None:
    rows = k_seed_rows()
    rows[0]["image"] = {"bytes": b"not an image", "path": "x.png"}
    rows[1]["choice_d"] = None  # fewer options than the template needs
    rows[2]["answer"] = "Z"
    write_parquet(tmp_path / "m", "NCSOFT/K-SEED", "test", rows)
    model = ScriptedModel(lambda r: None if r.id == "1003" else seed_script(r))  # the model fails on one
    register(monkeypatch, model)
    result = run(tmp_path / "m", tmp_path, output=tmp_path / "out")
    task = result.tasks["k-seed"]
    assert task.n_failed == 4 and task.n == 6 and task.failed_share == pytest.approx(0.4)
    reasons = " | ".join(task.failure_reasons)
    assert "unreadable image" in reasons and "only 3 options" in reasons and "'Z'" in reasons
    assert "scripted failure" in reasons
    assert sorted(model.calls) == [str(1000 + i) for i in range(3, 10)]  # bad rows never reach the model
    failed = [
        json.loads(x)
        for x in (tmp_path / "out/samples/k-seed.jsonl").read_text().splitlines()
        if json.loads(x)["status"] == "failed"
    ]
    assert {f["id"] for f in failed} == {"1000", "1001", "1002", "1003"} and all(f["error"] for f in failed)


def test_k_mmbench_circular_groups(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    rows = {str(r["index"]): r for r in k_mmbench_rows()}
    # question 0: every rotation right; question 1: one rotation wrong; question 2: one rotation's answer
    # is given as "정답은 X" (protocol heuristic cannot match it; kobench can).

    def script(request) -> str:
        row = rows[request.id]
        if request.id == "1000001":
            return "A" if row["answer"] != "A" else "B"
        if request.id == "2000002":
            return f"정답은 {row['answer']}입니다"
        return row["answer"]

    register(monkeypatch, ScriptedModel(script))
    task = run(mirror, tmp_path, tasks="k-mmbench").tasks["k-mmbench"]
    assert task.units.kind == "question-group" and task.units.ids == ["0", "1", "2"]
    assert task.pipelines["kobench"].metrics["accuracy"].value == pytest.approx(200 / 3)  # q0, q2
    assert task.pipelines["protocol"].metrics["accuracy"].value == pytest.approx(100 / 3)  # q0 only
    assert task.pipelines["protocol"].n_unparsed == 1 and task.n == 11
    assert task.pipelines["kobench"].breakdown["category"]["인식"].value == pytest.approx(100.0)


def test_k_mmbench_limit_takes_whole_questions(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    register(monkeypatch, ScriptedModel(lambda r: "A"))
    task = run(mirror, tmp_path, tasks="k-mmbench", limit=2).tasks["k-mmbench"]
    assert task.n_rows == 7 and task.units.ids == ["0", "1"]  # 4 + 3 rotations


def test_k_mmstar_macro_over_l2(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    rows = {str(r["index"]): r for r in k_mmstar_rows()}

    # l2 groups by index % 4; right on every row of group 0, on one of three rows of group 1, none else
    def script(request) -> str:
        i = int(request.id)
        right = rows[request.id]["answer"]
        good = i % 4 == 0 or i == 1
        return f"정답은 {right}" if good else ("옵션 Z" if right != "Z" else "")

    register(monkeypatch, ScriptedModel(script))
    task = run(mirror, tmp_path, tasks="k-mmstar").tasks["k-mmstar"]
    expected = 100 * (1.0 + 1 / 3 + 0 + 0) / 4
    for pipeline in ("kobench", "protocol"):
        assert task.pipelines[pipeline].metrics["accuracy"].value == pytest.approx(expected)
    assert task.units.strata is not None and len(set(task.units.strata)) == 4
    assert task.pipelines["kobench"].breakdown["l2_category"]["recognition"].value == pytest.approx(100 / 3)


def test_python_api_honours_kobench_data_dir(monkeypatch, mirror: Path, tmp_path: Path) -> None:
    register(monkeypatch, ScriptedModel(seed_script))
    monkeypatch.setenv("KOBENCH_DATA_DIR", str(mirror))
    result = evaluate("scripted:x", ["k-seed"], cache_dir=tmp_path / "c", limit=3)
    assert result.tasks["k-seed"].n_rows == 3
    assert result.primary("k-seed").value == pytest.approx(100.0)


def test_hf_cache_settings_resolve_auto_to_what_this_machine_uses() -> None:
    # "auto" would let a GPU (bf16) run and a CPU (fp32) run of one checkpoint share cached answers.
    import torch

    from kobench.models.registry import BUILTIN_ADAPTERS, ModelOptions, resolved_settings

    settings = resolved_settings(BUILTIN_ADAPTERS["hf"], ModelOptions())
    expected_device = "cuda" if torch.cuda.is_available() else "cpu"
    assert settings["device"] == expected_device and settings["dtype"] != "auto"
    if expected_device == "cpu":
        assert settings["dtype"] == "float32"
    explicit = resolved_settings(BUILTIN_ADAPTERS["hf"], ModelOptions(device="cpu", dtype="bfloat16"))
    assert (explicit["device"], explicit["dtype"]) == ("cpu", "bfloat16")
