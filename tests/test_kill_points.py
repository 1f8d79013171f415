"""A `kobench run` killed with SIGKILL at a chosen point, then run again with the same command, ends with
the samples and scores of a run that was never interrupted: every row exactly once, no answer asked for
twice (issue 18, point 9; the judge pass's own kill point is in test_judge_progress.py).

The kill points are deterministic. While answers arrive, the loopback server answers its first ANSWERED
requests and holds the others open, and the process is killed once those answers are in the response
cache. At the points where kobench writes its files, the run is started through a small bootstrap that
wraps one of kobench's writers so that the process SIGKILLs itself half-way: a samples checkpoint cut in
the middle of a line, the final rewrite left as a temporary file, the samples rewritten but results.json
not, results.json's temporary file written but not renamed. kobench's own code is not changed for this.
The server is real HTTP on 127.0.0.1, the processes are real, the cache is the real SQLite file.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlite_counts import count_rows

from kobench.testing.fake_openai import FakeOpenAIServer, Reply

TASK = "kobench-demo"  # 40 generated rows: no download
ROWS = 40
ANSWERED = 13  # answers in before the kill at "answers-cached" (not a checkpoint's multiple)
SAFETY = 120.0  # seconds: a safety net for a broken build, never a measure of speed
COMPARED = ("status", "prediction", "parsed", "score", "protocol", "kobench", "finish_reason")

# Runs kobench's CLI with one writer wrapped to SIGKILL the process at the point $KILL_POINT names.
BOOTSTRAP = r"""
import os, signal, sys
from kobench.run import output

point = os.environ["KILL_POINT"]


def die():
    os.kill(os.getpid(), signal.SIGKILL)


append, rewrite = output.OutputDir.append_samples, output.OutputDir.rewrite_samples

if point == "mid-checkpoint-line":
    def append_cut(self, task, records):
        records = list(records)
        if len(records) < 2:
            return append(self, task, records)
        append(self, task, records[:1])
        with self.samples_path(task).open("a", encoding="utf-8") as fh:
            fh.write(output._line(records[1])[:60])  # half a line, as a kill during the write leaves it
        die()
    output.OutputDir.append_samples = append_cut
elif point == "rewrite-not-renamed":
    def rewrite_cut(self, task, records):
        tmp = self.samples_path(task).with_suffix(".jsonl.tmp")
        tmp.write_text("".join(output._line(r) for r in records.values()), encoding="utf-8")
        die()
    output.OutputDir.rewrite_samples = rewrite_cut
elif point == "samples-rewritten-results-not":
    def rewrite_then_die(self, task, records):
        rewrite(self, task, records)
        die()
    output.OutputDir.rewrite_samples = rewrite_then_die
elif point == "results-not-renamed":
    real_replace = os.replace
    def replace_cut(src, dst, *args, **kwargs):
        if os.path.basename(dst) == "results.json":
            die()
        return real_replace(src, dst, *args, **kwargs)
    os.replace = replace_cut  # the os module's own: kobench.results calls os.replace
else:
    raise SystemExit(f"unknown kill point {point}")

from kobench.cli import main

sys.argv = ["kobench", *sys.argv[1:]]
main()
"""


class Script:
    """The loopback server's answers: each depends only on its prompt (so every run agrees); with `answer`
    set, requests after the first `answer` are held open until the process is gone."""

    def __init__(self) -> None:
        self.answer: int | None = None
        self.seen = 0
        self.lock = threading.Lock()

    def __call__(self, body: dict, index: int) -> Reply:
        prompt = json.dumps(body["messages"], ensure_ascii=False, sort_keys=True)
        with self.lock:
            self.seen += 1
            hold = self.answer is not None and self.seen > self.answer
        letter = "ABCD"[sum(prompt.encode("utf-8")) % 4]
        return Reply(text=f"정답은 {letter}번입니다", hang=SAFETY if hold else 0.0)


@pytest.fixture(scope="module")
def server():
    script = Script()
    with FakeOpenAIServer(script) as running:
        running.script = script  # type: ignore[attr-defined]
        yield running


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOBENCH_", "OPENAI_"))}
    return env | {"HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def _args(server: FakeOpenAIServer, out: Path, cache: Path) -> list[str]:
    model = f"openai:vlm@{server.base_url}"
    return ["run", "-m", model, "-t", TASK, "--output", str(out), "--cache-dir", str(cache), "--no-progress"]


def _finish(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kobench", *args], env=_env(), capture_output=True, text=True, timeout=SAFETY
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _cached(cache: Path) -> int:
    return count_rows(cache / "responses.sqlite", "responses")


def _rows(out: Path) -> list[dict]:
    path = out / "samples" / f"{TASK}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _outcome(out: Path) -> tuple[dict, dict]:
    rows = {r["id"]: {k: r.get(k) for k in COMPARED} for r in _rows(out)}
    result = json.loads((out / "results.json").read_text(encoding="utf-8"))
    task = result["tasks"][TASK]
    scores = {"status": result["status"], "n": task["n"], "n_failed": task["n_failed"]}
    scores["pipelines"] = task["pipelines"]
    return rows, scores


@pytest.fixture(scope="module")
def reference(server: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """An uninterrupted run: what every resumed one must end with."""
    base = tmp_path_factory.mktemp("reference")
    _finish(_args(server, base / "out", base / "cache"))
    return _outcome(base / "out")


def _killed_on_answers(server: FakeOpenAIServer, args: list[str], cache: Path) -> None:
    script: Script = server.script  # type: ignore[attr-defined]
    script.answer, script.seen = ANSWERED, 0
    proc = subprocess.Popen([sys.executable, "-m", "kobench", *args], env=_env(), stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + SAFETY
        while time.monotonic() < deadline and proc.poll() is None and _cached(cache) < ANSWERED:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[0].decode()[-3000:]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=SAFETY)
        script.answer = None
    assert proc.returncode == -signal.SIGKILL
    assert _cached(cache) == ANSWERED  # every answer that arrived is kept, and no more arrived


def _killed_at(point: str, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, *args],
        env=_env() | {"KILL_POINT": point},
        capture_output=True,
        text=True,
        timeout=SAFETY,
    )
    assert done.returncode == -signal.SIGKILL, done.stdout[-3000:] + done.stderr[-3000:]


def _settle(server: FakeOpenAIServer, quiet: float = 0.5) -> None:
    """Waits until the server has seen no new request for `quiet` seconds. A request the killed process had
    sent can sit in the socket's buffers and be read (and counted) by the server just after the process is
    gone; counted during the resume, it looked like a request the resume made."""
    deadline = time.monotonic() + SAFETY
    seen, since = server.calls, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.05)
        if server.calls != seen:
            seen, since = server.calls, time.monotonic()


POINTS = [
    "answers-cached",
    "mid-checkpoint-line",
    "rewrite-not-renamed",
    "samples-rewritten-results-not",
    "results-not-renamed",
]


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_here_resumes_to_the_uninterrupted_result(
    point: str, server: FakeOpenAIServer, reference: tuple[dict, dict], tmp_path: Path
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = _args(server, out, cache)
    if point == "answers-cached":
        _killed_on_answers(server, args, cache)
    else:
        _killed_at(point, args)
    answered = _cached(cache)
    _settle(server)
    before = server.calls
    _finish(args)

    rows = _rows(out)
    assert Counter(r["id"] for r in rows).most_common(1)[0][1] == 1, "a row was written twice"
    assert _outcome(out) == reference  # every row, the same answers, verdicts and scores
    # The resume asked the server only for what the cache did not hold, and for nothing twice.
    asked = [json.dumps(body["messages"], sort_keys=True) for _, body in server.requests[before:]]
    assert len(asked) == ROWS - answered
    assert len(set(asked)) == len(asked)
    assert not list(out.rglob("*.tmp")), "a temporary file was left behind"
    db = sqlite3.connect(cache / "responses.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def test_only_a_gone_process_temporaries_are_cleared(tmp_path: Path) -> None:
    from kobench.files.temporaries import clear_stale_temporaries, temporary_name

    target = tmp_path / "results.json"
    mine = temporary_name(target)  # a process still writing: this one
    gone = tmp_path / ".results.json.999999999.def456.tmp"  # no such process
    named = temporary_name(target)  # as named for a process that is gone
    named = named.with_name(named.name.replace(f".{os.getpid()}.", ".999999998.", 1))
    other = tmp_path / ".settings.json.999999999.ghi789.tmp"  # another file's
    for path in (mine, gone, named, other):
        path.write_text("{", encoding="utf-8")
    assert clear_stale_temporaries(target) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])


def test_atomic_writes_leave_files_as_shareable_as_any_other(tmp_path: Path) -> None:
    # results.json, samples and a user's README updated in place get the umask's permissions, as a file the
    # user writes would (mkstemp's temporaries made them readable by their owner alone).
    from kobench.results import write_json_atomic, write_text_atomic

    readme = tmp_path / "README.md"
    readme.write_text("old\r\n", encoding="utf-8")
    previous = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "out" / "results.json", {"a": 1})
        write_text_atomic(readme, "new\r\n")
    finally:
        os.umask(previous)
    assert (tmp_path / "out" / "results.json").stat().st_mode & 0o777 == 0o644
    assert readme.stat().st_mode & 0o777 == 0o644
    assert readme.read_bytes() == b"new\r\n"  # line ends as given
    assert json.loads((tmp_path / "out" / "results.json").read_text("utf-8")) == {"a": 1}
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["README.md", "out", "results.json"]
