"""Ctrl-C ends a run at once, whatever the API server does: real `kobench` processes against the loopback
fake server, a real SIGINT. A hanging request is cancelled (the server sees its connection closed), a
`429 Retry-After: 600` backoff is cancelled and never retried, the answers that had arrived are kept in the
samples and the cache and a re-run resumes them, and any further Ctrl-C ends the process with exit 5 and
no traceback. The runs allow an hour per request and per Retry-After wait, so an uncancelled wait lasts
the server's 600 s: the timeouts below are safety nets against a hang, far from it, never measurements."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kobench
from kobench.cli import app
from kobench.errors import BadInputError
from kobench.results import load_results
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

ROWS = 40  # kobench-demo, generated: no download
ANSWERED = 6  # the requests answered before the server stalls
SLOTS = 2  # --concurrency
SAFETY = 120.0  # seconds: a hang detector; an uncancelled wait would take the server's 600 s
ENV = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"} | {"PYTHONUNBUFFERED": "1"}


def command(server: FakeOpenAIServer, tmp_path: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "kobench",
        "run",
        "--model",
        f"openai:m@{server.base_url}",
        "--tasks",
        "kobench-demo",
        "--concurrency",
        str(SLOTS),
        "--output",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
        # Neither cap shortens the server's 600 s: only a cancellation ends such a wait.
        *("--request-timeout", "3600", "--max-retry-after", "3600"),
        *extra,
    ]


def start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(
    what: Callable[[], bool], proc: subprocess.Popen[str] | None = None, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"kobench ended (exit {proc.returncode}) before: {proc.communicate()[1][-2000:]}")
        assert time.monotonic() < deadline, "safety timeout"
        time.sleep(0.02)


def answers_then(stall: Reply) -> Callable[[dict, int], Reply]:
    """The first ANSWERED requests answered at once, every later one stalled."""
    return lambda body, index: Reply(text="A") if index < ANSWERED else stall


def samples(tmp_path: Path) -> list[dict]:
    path = tmp_path / "out" / "samples" / "kobench-demo.jsonl"
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            rows.append(json.loads(line))
        except ValueError:  # a line cut off by the hard stop of a second Ctrl-C: the re-run answers it
            continue
    return rows


def cached_answers(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "cache" / "responses.sqlite") as db:
        return db.execute("SELECT count(*) FROM responses").fetchone()[0]


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr[-3000:]


def resume_completes(server: FakeOpenAIServer, tmp_path: Path, kept: int) -> None:
    """The same command, against a server that now answers at once, finishes the run: every row exactly
    once, only the rows not kept asked again."""
    server.script = lambda body, index: Reply(text="A")
    rerun = subprocess.run(
        command(server, tmp_path), env=ENV, capture_output=True, text=True, timeout=120, check=False
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    final = load_results(tmp_path / "out" / "results.json")
    assert final.status == "complete" and final.tasks["kobench-demo"].n == ROWS
    assert final.run.model_calls + final.run.cache_hits == ROWS - kept
    ids = [row["id"] for row in samples(tmp_path)]
    assert len(ids) == len(set(ids)) == ROWS


@pytest.mark.parametrize(
    ("stall", "in_flight"),
    [
        pytest.param(Reply(text="A", hang=600), True, id="hanging-request"),
        pytest.param(Reply.rate_limited(600), False, id="retry-after-600"),
    ],
)
def test_ctrl_c_cancels_what_waits_and_keeps_what_arrived(
    stall: Reply, in_flight: bool, tmp_path: Path
) -> None:
    with FakeOpenAIServer(answers_then(stall)) as server:
        proc = start(command(server, tmp_path))
        # Both slots hold a stalled request only once the client has read every answer before them.
        wait_for(lambda: server.calls >= ANSWERED + SLOTS, proc)
        time.sleep(0.5)  # the main thread takes those answers off the client's queue
        calls = server.calls
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=SAFETY)
        assert proc.returncode == 5, stderr
        no_traceback(stderr)
        assert "the run was interrupted" in stderr
        stalled = set(range(ANSWERED, ANSWERED + SLOTS))
        if in_flight:  # the hanging requests were cancelled: their connections closed
            wait_for(lambda: stalled <= set(server.disconnected), timeout=10)
        assert server.calls == calls  # nothing asked after Ctrl-C, no retry after the cancelled backoff

        kept = samples(tmp_path)
        assert len(kept) == ANSWERED and all(row["status"] == "scored" for row in kept)
        assert cached_answers(tmp_path) == ANSWERED
        first = load_results(tmp_path / "out" / "results.json")
        assert first.status == "incomplete" and first.tasks["kobench-demo"].n == ANSWERED
        resume_completes(server, tmp_path, ANSWERED)
    final = load_results(tmp_path / "out" / "results.json")
    assert final.run.model_calls == ROWS - ANSWERED and final.run.cache_hits == 0  # resumed from samples


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(lambda body, index: Reply(text="A", delay=0.2), id="slow-answers"),
        pytest.param(answers_then(Reply(text="A", hang=600)), id="hanging-request"),
    ],
)
def test_ctrl_c_again_and_again_exits_5_without_a_traceback(
    script: Callable[[dict, int], Reply], tmp_path: Path
) -> None:
    with FakeOpenAIServer(script) as server:
        proc = start(command(server, tmp_path))
        wait_for(lambda: server.calls >= ANSWERED + SLOTS, proc)
        signals = 0
        deadline = time.monotonic() + SAFETY
        while proc.poll() is None:  # Ctrl-C, and again while it winds down and while Python shuts down
            assert time.monotonic() < deadline, "safety timeout"
            proc.send_signal(signal.SIGINT)
            signals += 1
            time.sleep(0.005)
        _, stderr = proc.communicate(timeout=SAFETY)
        assert proc.returncode == 5 and signals >= 2, stderr
        no_traceback(stderr)
        resume_completes(server, tmp_path, len({row["id"] for row in samples(tmp_path)}))


def test_an_interrupt_caught_inside_string_code_still_exits_5(tmp_path: Path) -> None:
    """A Ctrl-C that lands while Python runs code compiled from a string (exec of a str: dataclass bodies,
    templates) is caught by kobench, yet CPython remembers it and, under `python -m` or `-c`, kills the
    process with SIGINT at exit: -2 instead of 5 (the flaky end of a Ctrl-C during data generation). Raised
    there on purpose, so deterministically; run as `python -m kobench` runs, through runpy."""
    script = "import kobench.cli as c\nc.app = lambda: exec('raise KeyboardInterrupt')\nc.main()\n"
    (tmp_path / "probe.py").write_text(script)
    done = subprocess.run(
        [sys.executable, "-m", "probe"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 5, done.stderr
    no_traceback(done.stderr)


def test_retry_after_is_capped_by_max_retry_after_and_recorded(tmp_path: Path) -> None:
    def script(body: dict, index: int) -> Reply:
        return Reply.rate_limited(600) if index == 0 else Reply(text="A")

    with FakeOpenAIServer(script) as server:
        args = command(server, tmp_path, "--limit", "3", "--max-retry-after", "0.5")
        done = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=SAFETY, check=False)
        calls = server.calls
    assert done.returncode == 0, done.stdout + done.stderr
    assert calls == 4  # three rows, the refused one asked again after half a second, not ten minutes
    assert "the server asked for 600.0 s; capped at max_retry_after 0.5 s" in done.stderr
    result = load_results(tmp_path / "out" / "results.json")
    assert result.status == "complete" and result.run.concurrency is not None
    assert result.run.concurrency["max_retry_after"] == 0.5


@pytest.mark.parametrize(
    "where", [pytest.param("run", id="run-judge-pass"), pytest.param("judge", id="kobench-judge")]
)
def test_the_judge_caps_retry_after_by_max_retry_after(where: str, tmp_path: Path) -> None:
    """The judge's client honours --max-retry-after as the model's does: a judge asking for ten minutes is
    asked again after half a second (the safety timeout is shorter than the 60 s default cap)."""
    common = ["--cache-dir", str(tmp_path / "cache"), "--no-progress", "--max-retry-after", "0.5"]
    run = [sys.executable, "-m", "kobench", "run", "--tasks", "ko-chart-synth-judged", "--limit", "3"]
    run += ["--output", str(tmp_path / "out"), *common]
    with (
        FakeOpenAIServer(lambda body, index: Reply(text="3")) as model,
        FakeOpenAIServer(
            lambda body, index: Reply.rate_limited(600) if index == 0 else Reply(text="1")
        ) as judge,
    ):
        run += ["--model", f"openai:m@{model.base_url}"]
        if where == "judge":  # a finished run first, judged by another judge that answers at once
            with FakeOpenAIServer(lambda body, index: Reply(text="1")) as first:
                made = subprocess.run(
                    [*run, "--judge", f"j@{first.base_url}"],
                    env=ENV,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            assert made.returncode == 0, made.stdout + made.stderr
            args = [
                sys.executable,
                "-m",
                "kobench",
                "judge",
                str(tmp_path / "out"),
                "--judge",
                f"j2@{judge.base_url}",
                *common,
            ]
        else:
            args = [*run, "--judge", f"j@{judge.base_url}"]
        done = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=SAFETY, check=False)
        calls = judge.calls
    assert done.returncode == 0, done.stdout + done.stderr
    assert calls == 4  # three verdicts, the refused one asked again
    assert "the server asked for 600.0 s; capped at max_retry_after 0.5 s" in done.stderr


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("-1", id="negative"),
        pytest.param("soon", id="not-a-number"),
        pytest.param("nan", id="nan"),
        pytest.param("inf", id="infinite"),
        pytest.param("100000", id="above-a-day"),
    ],
)
def test_a_bad_max_retry_after_is_a_usage_error(value: str) -> None:
    args = ["run", "--model", "openai:m@http://127.0.0.1:9/v1", "--tasks", "kobench-demo"]
    result = CliRunner().invoke(app, [*args, "--max-retry-after", value])
    assert result.exit_code == 2, result.output
    assert "--max-retry-after" in result.output


@pytest.mark.parametrize(
    "value", [pytest.param(-1.0, id="api-negative"), pytest.param(float("inf"), id="api-infinite")]
)
def test_a_bad_max_retry_after_from_python_names_the_option(value: float, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="--max-retry-after"):
        kobench.evaluate(
            "openai:m@http://127.0.0.1:9/v1", "kobench-demo", max_retry_after=value, cache_dir=tmp_path
        )


@pytest.mark.parametrize(
    "where", [pytest.param("run", id="run-judge-pass"), pytest.param("judge", id="kobench-judge")]
)
def test_ctrl_c_cancels_a_hanging_judge(where: str, tmp_path: Path) -> None:
    task, out = "ko-chart-synth-judged", tmp_path / "out"
    common = ["--judge-concurrency", str(SLOTS), "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    with (
        FakeOpenAIServer(lambda body, index: Reply(text="3")) as model,
        FakeOpenAIServer(
            lambda body, index: Reply(text="1") if index < ANSWERED else Reply(hang=600)
        ) as judge,
    ):
        run = [
            sys.executable,
            "-m",
            "kobench",
            "run",
            "--model",
            f"openai:m@{model.base_url}",
            "--tasks",
            task,
        ]
        run += ["--limit", "20", "--output", str(out), *common]
        if where == "judge":  # first a finished run, judged by a judge that answers
            with FakeOpenAIServer(lambda body, index: Reply(text="1")) as first:
                done = subprocess.run(
                    [*run, "--judge", f"j@{first.base_url}"],
                    env=ENV,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            assert done.returncode == 0, done.stdout + done.stderr
            args = [
                sys.executable,
                "-m",
                "kobench",
                "judge",
                str(out),
                "--judge",
                f"j2@{judge.base_url}",
                *common,
            ]
        else:
            args = [*run, "--judge", f"j@{judge.base_url}"]
        proc = start(args)
        wait_for(lambda: judge.calls >= ANSWERED + SLOTS, proc)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=SAFETY)
        assert proc.returncode == 5, stderr
        no_traceback(stderr)
        wait_for(lambda: set(range(ANSWERED, ANSWERED + SLOTS)) <= set(judge.disconnected), timeout=10)
        assert judge.calls == ANSWERED + SLOTS


@pytest.mark.slow
def test_hf_ctrl_c_again_and_again_during_generate(tiny_llava: Path, tmp_path: Path) -> None:
    """The hf adapter: Ctrl-C lands inside generate (between two decoding steps, not at the end of the
    batch), and further ones end the process with 5, no traceback; the re-run resumes."""
    out = tmp_path / "out"
    args = [sys.executable, "-m", "kobench", "run", "--model", f"hf:{tiny_llava}", "--tasks", "kobench-demo"]
    args += ["--batch-size", "4", "--max-new-tokens", "256", "--output", str(out)]
    args += ["--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    proc = start(args)
    wait_for(lambda: len(samples(tmp_path)) >= 1, proc, timeout=120)  # generating, a batch answered
    signals = 0
    deadline = time.monotonic() + SAFETY
    while proc.poll() is None:
        assert time.monotonic() < deadline, "safety timeout"
        proc.send_signal(signal.SIGINT)
        signals += 1
        time.sleep(0.005)
    _, stderr = proc.communicate(timeout=SAFETY)
    assert proc.returncode == 5 and signals >= 2, stderr
    no_traceback(stderr)
    kept = len({row["id"] for row in samples(tmp_path)})
    rerun = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    final = load_results(out / "results.json")
    assert final.status == "complete" and final.run.model_calls + final.run.cache_hits == ROWS - kept


def test_ctrl_c_while_a_generated_dataset_is_written_leaves_nothing_half_written(tmp_path: Path) -> None:
    """A first run writes a generated task's data into the cache: Ctrl-C then must not leave a folder that
    every later run reads as the data (and fails on, exit 4); the next run generates it again."""
    data = tmp_path / "cache" / "data"
    with FakeOpenAIServer(lambda body, index: Reply(text="1")) as server:
        args = [sys.executable, "-m", "kobench", "run", "--model", f"openai:m@{server.base_url}"]
        args += ["--tasks", "ko-chart-synth", "--limit", "4", "--cache-dir", str(tmp_path / "cache")]
        args += ["--no-progress"]
        proc = start(args)
        wait_for(lambda: any(data.glob(".ko-chart-synth@*.partial-*")), proc)  # generating: seconds of it
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=SAFETY)
        assert proc.returncode == 5, stderr
        no_traceback(stderr)
        assert server.calls == 0 and not any(data.glob("ko-chart-synth@*"))
        rerun = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert [p.name for p in data.iterdir()] == [next(data.glob("ko-chart-synth@*")).name]  # no partial left


def test_a_generated_dataset_cut_off_by_an_older_kobench_is_generated_again(tmp_path: Path) -> None:
    """What a Ctrl-C during the first run of an older kobench left (the folder, part of its files): the
    next run generates the data again instead of failing on it with exit 4 forever."""
    from kobench.synth.registry import cached_root

    cut = cached_root(tmp_path / "cache", "demo-mc") / "kobench" / "demo-ko-mc" / "data"
    cut.mkdir(parents=True)
    (cut / "test-00000-of-00001.parquet.tmp").write_bytes(b"PAR1")
    with FakeOpenAIServer(lambda body, index: Reply(text="A")) as server:
        done = subprocess.run(
            [*command(server, tmp_path), "--limit", "4"], env=ENV, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert load_results(tmp_path / "out" / "results.json").tasks["kobench-demo"].n == 4
