"""Soak: random kills on real `kobench run` processes, then resume, and compare with an uninterrupted run.

Each trial starts a run, SIGKILLs it at a random moment, starts it again and sends SIGINT at another random
moment (timing how long the process takes to exit), then runs it to the end. The finished samples are
compared with an uninterrupted reference run row by row: rows lost, rows written twice, rows whose answer
or score differs. Goals: 0 / 0 / 0, and every exit after SIGINT within 2 s.

Two targets: the OpenAI-compatible adapter against the loopback fake server (answers that depend only on
the prompt, each a little slow), and `hf:` with a tiny random LLaVA built offline. kobench-demo is the task
(40 generated rows: no download).

    python bench/soak.py                      # 20 trials on each target
    python bench/soak.py --trials 5 --target openai
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from kobench.testing.fake_openai import FakeOpenAIServer, Reply
from kobench.testing.tiny_models import build_tiny_llava

TASK = "kobench-demo"
ROWS = 40
EXIT_GOAL_S = 2.0
ENV = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"} | {"PYTHONUNBUFFERED": "1"}
# What a row's outcome is: the answer and each pipeline's verdict (not timings or cache flags).
COMPARED = ("status", "prediction", "parsed", "score", "protocol", "kobench")


def _answer(body: dict, index: int) -> Reply:
    prompt = json.dumps(body["messages"], ensure_ascii=False, sort_keys=True)
    letter = "ABCD"[int(hashlib.sha256(prompt.encode("utf-8")).hexdigest(), 16) % 4]
    return Reply(text=f"정답은 {letter}입니다", delay=0.25)


def _command(model: str, out: Path, cache: Path, extra: list[str]) -> list[str]:
    args = [sys.executable, "-m", "kobench", "run", "--model", model, "--tasks", TASK]
    return [*args, "--output", str(out), "--cache-dir", str(cache), "--no-progress", *extra]


def _rows(out: Path) -> list[dict]:
    path = out / "samples" / f"{TASK}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _interrupt(args: list[str], sig: int, wait: float) -> float | None:
    """Start `args`, send `sig` after `wait` seconds; the seconds from the signal to the exit (None: the run
    had finished before the signal)."""
    proc = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(wait)
    if proc.poll() is not None:
        return None
    sent = time.monotonic()
    proc.send_signal(sig)
    proc.wait(timeout=120)
    return time.monotonic() - sent


def _finish(args: list[str]) -> None:
    done = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        tail = done.stdout[-2000:] + done.stderr[-2000:]
        raise SystemExit(f"a resumed run failed ({done.returncode}):\n{tail}")


def soak(name: str, model: str, extra: list[str], trials: int, root: Path, rng: random.Random) -> bool:
    reference_dir = root / name / "reference"
    started = time.monotonic()
    _finish(_command(model, reference_dir, root / name / "reference-cache", extra))
    span = time.monotonic() - started  # an uninterrupted run's length: where the kills are drawn from
    started = time.monotonic()
    _finish(_command(model, reference_dir, root / name / "reference-cache", extra))
    overhead = time.monotonic() - started  # the same run with every answer cached: start-up and writing
    reference = {r["id"]: {k: r.get(k) for k in COMPARED} for r in _rows(reference_dir)}
    assert len(reference) == ROWS, f"the reference run has {len(reference)} rows, not {ROWS}"
    print(f"\n{name}: reference run {span:.1f} s ({overhead:.1f} s all cached); {trials} trials", end="")
    print(" (SIGKILL, resume, SIGINT, resume)")
    print(f"{'trial':>5} {'kill at':>8} {'int at':>7} {'exit s':>7} {'lost':>5} {'twice':>6} {'differ':>7}")
    worst_exit, totals, measured = 0.0, Counter(), 0
    for trial in range(1, trials + 1):
        out, cache = root / name / f"t{trial}", root / name / f"t{trial}-cache"
        args = _command(model, out, cache, extra)
        kill_at = rng.uniform(0.3, span)
        # The resumed run is shorter by the answering the killed one got through: SIGINT lands within it.
        int_at = rng.uniform(0.3, max(0.5, span - max(0.0, kill_at - overhead)))
        _interrupt(args, signal.SIGKILL, kill_at)
        exit_s = _interrupt(args, signal.SIGINT, int_at)
        _finish(args)
        rows = _rows(out)
        counts = Counter(r["id"] for r in rows)
        got = {r["id"]: {k: r.get(k) for k in COMPARED} for r in rows}
        lost = len(set(reference) - set(got))
        twice = sum(n - 1 for n in counts.values() if n > 1)
        differ = sum(1 for rid, outcome in got.items() if reference.get(rid) != outcome)
        totals.update(lost=lost, twice=twice, differ=differ)
        worst_exit = max(worst_exit, exit_s or 0.0)
        measured += exit_s is not None
        shown = "ended" if exit_s is None else f"{exit_s:.2f}"
        print(f"{trial:>5} {kill_at:>7.1f}s {int_at:>6.1f}s {shown:>7} {lost:>5} {twice:>6} {differ:>7}")
    ok = not any(totals.values()) and worst_exit <= EXIT_GOAL_S
    print(
        f"{name}: rows lost {totals['lost']}, duplicated {totals['twice']}, differing {totals['differ']}"
        f" (goal 0 / 0 / 0); slowest exit after SIGINT {worst_exit:.2f} s in {measured} interrupted runs"
        f" (goal <= {EXIT_GOAL_S:g} s)"
        f" -> {'OK' if ok else 'FAILED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--target", choices=["openai", "hf", "both"], default="both")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    results = []
    with tempfile.TemporaryDirectory(prefix="kobench-soak-") as tmp:
        root = Path(tmp)
        if options.target in ("openai", "both"):
            with FakeOpenAIServer(_answer) as server:
                model = f"openai:soak@{server.base_url}"
                results.append(soak("openai", model, ["--concurrency", "2"], options.trials, root, rng))
        if options.target in ("hf", "both"):
            tiny = build_tiny_llava(root / "tiny-llava")
            extra = ["--device", "cpu", "--batch-size", "2", "--max-new-tokens", "16"]
            results.append(soak("hf", f"hf:{tiny}", extra, options.trials, root, rng))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
