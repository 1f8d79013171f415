"""The judge pass keeps its progress: a `kobench run` (or `kobench judge`) process killed with SIGKILL in
the middle of judging keeps every verdict that came back, and the same command then asks the judge only
for the missing ones and ends with the scores of a run that was never interrupted.

The kill point is deterministic: the loopback judge answers its first KEPT judge requests and holds every
later one open, so exactly KEPT verdicts exist when the process is killed. The judge server is real HTTP on
127.0.0.1 (kobench.testing.fake_openai), the processes are real, the cache is the real SQLite file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from benchmark_copies import k_llava_w_rows, write_parquet
from sqlite_counts import count_rows

from kobench.results import load_results
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

ROWS = 12
KEPT = 5  # verdicts that arrive before the kill
CONCURRENCY = 4  # judge requests in flight: at the kill, this many are held open
SCORES = {"conv": (8, 6), "detail": (5, 5), "complex": (10, 4)}  # judge scores (reference, model)
SAFETY = 120.0  # seconds: a safety net for a broken build, never a measure of speed


def _user_text(body: dict) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content


class Judge:
    """The script of the loopback server: the model `vlm` answers every question; a judge model answers
    its requests up to the `answer_first`th of all it received (None: all) and holds those after it open
    until the process is gone.
    Requests are counted by model."""

    def __init__(self) -> None:
        self.answer_first: int | None = None
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, body: dict, index: int) -> Reply:
        text = _user_text(body)
        with self._lock:
            seen = self.requests.get(body["model"], 0)
            self.requests[body["model"]] = seen + 1
            hold = self.answer_first is not None and seen >= self.answer_first
        if body["model"] == "vlm":
            return Reply(text=f"모델 답변: {text[:20]}")
        if hold:
            return Reply(hang=600)  # open until the client's connection goes away (the kill)
        number = int(re.search(r"\((\d+)\)", text.split("[질문]")[1]).group(1))
        reference, model = SCORES[["conv", "detail", "complex"][number % 3]]
        return Reply(text=f"{reference} {model}\n두 어시스턴트 모두 ...")

    def count(self, model: str) -> int:
        with self._lock:
            return self.requests.get(model, 0)


@pytest.fixture()
def server():
    judge = Judge()
    with FakeOpenAIServer(judge) as fake:
        fake.judge = judge  # type: ignore[attr-defined]
        yield fake


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    write_parquet(tmp_path / "mirror", "NCSOFT/K-LLaVA-W", "test", k_llava_w_rows(ROWS))
    return tmp_path / "mirror"


def _kobench(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "kobench", *map(str, args)]


def _run_command(server: FakeOpenAIServer, mirror: Path, out: Path, cache: Path) -> list[str]:
    return _kobench(
        "run",
        "--model",
        f"openai:vlm@{server.base_url}",
        "--tasks",
        "k-llava-w",
        "--data-dir",
        mirror,
        "--judge",
        f"judge@{server.base_url}",
        "--judge-concurrency",
        CONCURRENCY,
        "--output",
        out,
        "--cache-dir",
        cache,
        "--no-progress",
    )


def _judge_command(server: FakeOpenAIServer, out: Path, cache: Path, model: str) -> list[str]:
    return _kobench(
        "judge",
        out,
        "--judge",
        f"{model}@{server.base_url}",
        "--judge-concurrency",
        CONCURRENCY,
        "--cache-dir",
        cache,
        "--no-progress",
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOBENCH_")}
    return {**env, "PYTHONUNBUFFERED": "1"}


def _finish(command: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _verdicts(cache: Path) -> int:
    """Judgements in the cache file, read as another process would (0 before the file exists)."""
    return count_rows(cache / "judgements.sqlite", "judgements")


def _kill_during_judging(command: list[str], server: FakeOpenAIServer, model: str, cache: Path) -> None:
    """Start `command`, wait until the judge has answered KEPT requests and holds the next ones open, then
    SIGKILL the process."""
    judge: Judge = server.judge  # type: ignore[attr-defined]
    start = judge.count(model)
    judge.answer_first = start + KEPT
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SAFETY
        # Every answered verdict is in, and a request beyond them is held: the pass is mid-way.
        while time.monotonic() < deadline and proc.poll() is None:
            if judge.count(model) > start + KEPT and _verdicts(cache) >= KEPT:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[0].decode()[-3000:]
        kept = _verdicts(cache)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=SAFETY)
    assert proc.returncode == -signal.SIGKILL
    assert kept == KEPT, f"{kept} of the {KEPT} verdicts that arrived were cached before the kill"
    assert _verdicts(cache) == KEPT  # and they are still there once the process is gone
    judge.answer_first = None


def _scores(results_dir: Path, task: str = "k-llava-w") -> dict:
    result = load_results(results_dir / "results.json").tasks[task]
    return {
        "complete": result.complete,
        "n": result.n,
        "judge": (result.judge.model, result.judge.n_judged, result.judge.n_failed),
        "pipelines": {name: p.model_dump(mode="json") for name, p in result.pipelines.items()},
    }


def _verdict_fields(results_dir: Path, task: str = "k-llava-w") -> dict[str, dict]:
    """Per row and pipeline, what the judge decided (not whether it came from the cache)."""
    out = {}
    for line in (results_dir / "samples" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for pipeline in ("kobench", "protocol"):
            verdict = dict(record[pipeline])
            judgement = dict(verdict.pop("judgement"))
            out[f"{record['id']}/{pipeline}"] = {
                **verdict,
                "text": judgement["text"],
                "status": judgement["status"],
                "judge": judgement["judge"],
            }
    return out


@pytest.mark.parametrize("command", ["run", "judge"], ids=["kill-in-run-judge-pass", "kill-in-rejudge"])
def test_a_kill_during_judging_keeps_every_verdict(
    command: str, server: FakeOpenAIServer, mirror: Path, tmp_path: Path
) -> None:
    judge: Judge = server.judge  # type: ignore[attr-defined]
    # The uninterrupted reference: a run judged by `judge`, then judged again by `judge-b`.
    reference = tmp_path / "reference"
    _finish(_run_command(server, mirror, reference, tmp_path / "reference-cache"))
    if command == "run":
        model, out, cache = "judge", tmp_path / "out", tmp_path / "cache"
        resume = _run_command(server, mirror, out, cache)
    else:
        rejudged = tmp_path / "reference-rejudged"
        shutil.copytree(reference, rejudged)
        _finish(_judge_command(server, rejudged, tmp_path / "reference-cache", "judge-b"))
        model, out, cache = "judge-b", tmp_path / "out", tmp_path / "cache"
        shutil.copytree(reference, out)
        resume = _judge_command(server, out, cache, model)
        reference = rejudged

    _kill_during_judging(resume, server, model, cache)
    before, answers = judge.count(model), judge.count("vlm")
    _finish(resume)

    asked = judge.count(model) - before
    assert asked == ROWS - KEPT, f"the resume asked {asked} times, not only the {ROWS - KEPT} missing"
    assert judge.count("vlm") == answers  # the model's answers come from the response cache
    if command == "run":
        saved = load_results(out / "results.json").run
        assert (saved.judge_calls, saved.judge_cache_hits) == (ROWS - KEPT, KEPT)
    assert _scores(out) == _scores(reference)
    assert _verdict_fields(out) == _verdict_fields(reference)
