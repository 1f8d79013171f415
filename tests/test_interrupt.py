"""Ctrl-C on a real `kobench run` process keeps what finished, marks the results incomplete (exit 5),
and the same command then resumes with only the missing rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from benchmark_copies import k_seed_rows, write_parquet

from kobench.results import load_results

pytestmark = pytest.mark.slow


def test_sigint_keeps_finished_rows_and_the_rerun_resumes(tiny_llava: Path, tmp_path: Path) -> None:
    rows = k_seed_rows(60)
    write_parquet(tmp_path / "m", "NCSOFT/K-SEED", "test", rows)
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "kobench",
        "run",
        "--model",
        f"hf:{tiny_llava}",
        "--tasks",
        "k-seed",
        "--data-dir",
        str(tmp_path / "m"),
        "--batch-size",
        "1",
        "--max-new-tokens",
        "24",
        "--output",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    samples = out / "samples" / "k-seed.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if samples.exists() and len(samples.read_text(encoding="utf-8").splitlines()) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 5, output
    kept = [json.loads(x) for x in samples.read_text(encoding="utf-8").splitlines()]
    assert 3 <= len(kept) < 60 and all(k["status"] == "scored" for k in kept)
    first = load_results(out / "results.json")
    assert first.status == "incomplete" and not first.tasks["k-seed"].complete
    assert first.tasks["k-seed"].n == len(kept)

    rerun = subprocess.run(
        [*command[: command.index("--cache-dir")], "--no-cache", "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    final = load_results(out / "results.json")
    assert final.status == "complete" and final.tasks["k-seed"].n == 60
    assert final.run.model_calls == 60 - len(kept)  # only the missing rows were generated
