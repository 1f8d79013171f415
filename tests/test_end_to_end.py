"""`kobench run` with real transformers models (tiny, random weights, built offline) on benchmark copies
and on the real K-Viscuit subset in ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmark_copies import write_all
from typer.testing import CliRunner

from kobench.cli import app
from kobench.results import load_results

pytestmark = pytest.mark.slow
runner = CliRunner()
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def run_cli(*args: object):
    result = runner.invoke(app, ["run", *map(str, args)])
    return result


def test_run_on_tiny_llava_writes_results_and_samples(tiny_llava: Path, tmp_path: Path) -> None:
    mirror = write_all(tmp_path / "mirror")
    out = tmp_path / "results" / "tiny"
    args = [
        "--model",
        f"hf:{tiny_llava}",
        "--tasks",
        "k-seed,k-dtcbench",
        "--data-dir",
        mirror,
        "--limit",
        4,
        "--batch-size",
        2,
        "--max-new-tokens",
        6,
        "--output",
        out,
        "--cache-dir",
        tmp_path / "cache",
        "--max-failed-share",
        0,
    ]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    saved = load_results(out / "results.json")
    assert saved.status == "complete" and saved.run.model.adapter == "hf"
    assert saved.run.model.fingerprint.startswith("generated:") and saved.run.generated_tokens > 0
    assert saved.run.tokens_per_second and saved.run.model_calls == 8
    for task in ("k-seed", "k-dtcbench"):
        t = saved.tasks[task]
        assert t.n == 4 and t.n_failed == 0 and t.complete
        value = t.pipelines["kobench"].metrics["accuracy"].value
        assert value is not None and 0.0 <= value <= 100.0
        assert t.pipelines["kobench"].n_unparsed + sum(t.pipelines["kobench"].unit_scores) <= 4
        lines = [
            json.loads(x)
            for x in (out / "samples" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        assert [x["index"] for x in lines] == [0, 1, 2, 3]  # rewritten in dataset order once complete
        assert all(isinstance(x["prediction"], str) and x["protocol"]["parser"] for x in lines)
    assert "| k-seed " in result.output  # the leaderboard is printed
    # The same command again: everything is already in the output folder; a new folder: all from the cache.
    again = run_cli(*[a if a != out else tmp_path / "results" / "again" for a in args])
    assert again.exit_code == 0
    assert load_results(tmp_path / "results" / "again" / "results.json").run.model_calls == 0


def test_run_on_tiny_qwen2_vl_k_mmstar(tiny_qwen2_vl: Path, tmp_path: Path) -> None:
    mirror = write_all(tmp_path / "mirror")
    result = run_cli(
        "--model",
        f"hf:{tiny_qwen2_vl}",
        "--tasks",
        "k-mmstar",
        "--data-dir",
        mirror,
        "--limit",
        4,
        "--max-new-tokens",
        4,
        "--cache-dir",
        tmp_path / "c",
        "--output",
        tmp_path / "o",
    )
    assert result.exit_code == 0, result.output
    task = load_results(tmp_path / "o" / "results.json").tasks["k-mmstar"]
    assert task.n == 4 and task.units.strata is not None


@pytest.mark.skipif(
    not (SHARED_DATA / "ddehun" / "k-viscuit").is_dir(),
    reason="../shared/data/ddehun/k-viscuit is not beside this checkout (it is not part of kobench)",
)
def test_real_k_viscuit_subset_end_to_end(tiny_llava: Path, tmp_path: Path) -> None:
    out = tmp_path / "kv"
    result = run_cli(
        "--model",
        f"hf:{tiny_llava}",
        "--tasks",
        "k-viscuit",
        "--data-dir",
        SHARED_DATA,
        "--batch-size",
        8,
        "--output",
        out,
        "--cache-dir",
        tmp_path / "c",
    )
    assert result.exit_code == 0, result.output
    task = load_results(out / "results.json").tasks["k-viscuit"]
    assert task.n_rows == 200 and task.n == 200 and task.n_failed == 0
    assert set(task.pipelines["kobench"].breakdown["category"]) >= {"Food", "Heritage", "Religion"}
    ids = [
        json.loads(x)["id"]
        for x in (out / "samples" / "k-viscuit.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(ids) == len(set(ids)) == 200
    raw = [
        json.loads(x)["id"]
        for x in (SHARED_DATA / "ddehun/k-viscuit/k_viscuit_subset.jsonl").read_text().splitlines()
    ]
    repeats = len(raw) - len(set(raw))
    assert sum("#" in i for i in ids) == repeats == 21
    assert task.dataset.identity.startswith("sha256:")


def test_a_generated_model_resumes_on_another_machine_and_results_name_no_path(tmp_path: Path) -> None:
    from kobench.provenance import CACHE_SYMBOL
    from kobench.testing.tiny_models import build_tiny_llava

    out = tmp_path / "results" / "tiny"

    def run_with(cache: Path):
        model = build_tiny_llava(cache / "models" / "tiny-llava-ko")
        args = ["--model", f"hf:{model}", "--tasks", "kobench-demo", "--limit", 4, "--max-new-tokens", 4]
        result = run_cli(*args, "--output", out, "--cache-dir", cache, "--max-failed-share", 1)
        assert result.exit_code == 0, result.output
        return load_results(out / "results.json")

    first = run_with(tmp_path / "machine-a" / "cache")
    assert first.run.model_calls == 4
    # The same generated model built in another cache (another machine, another time) is the same model:
    # the folder resumes instead of being refused, and nothing is asked again.
    second = run_with(tmp_path / "machine-b" / "cache")
    assert second.run.model_calls == 0 and second.run.model.fingerprint == first.run.model.fingerprint
    for name in ("results.json", "settings.json"):
        text = (out / name).read_text(encoding="utf-8")
        assert str(tmp_path / "machine") not in text, name
    assert second.run.model.spec == f"hf:{CACHE_SYMBOL}/models/tiny-llava-ko"
    assert second.tasks["kobench-demo"].dataset.origin.startswith(f"generated {CACHE_SYMBOL}/") or (
        CACHE_SYMBOL in second.tasks["kobench-demo"].dataset.origin
    )
