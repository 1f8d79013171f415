"""METEOR 1.5 on Korean morphemes, through the jar that ships with pycocoevalcap, driven by our own
subprocess code: every read is bounded by a timeout and many lines are pipelined, where pycocoevalcap's
wrapper waits forever on a dead jar and makes one round trip per image.

Language mode, checked with the bundled jar (meteor-1.5.jar) and OpenJDK 17:
- `-l en -norm` (pycocoevalcap's default) splits Hangul into syllables, so unrelated Korean sentences still
  score about 0.15; `-l other -norm` crashes the jar ("No normalizer for language (other)").
- `-l other` without -norm (used here) takes the space-separated tokens as given and matches them exactly
  only: no stemming, synonyms or paraphrases exist for "other" (the stats of the stem/synonym/paraphrase
  stages stay 0; 고양이 does not match 고양이들), and nothing is lower-cased (the morpheme tokenizer
  lower-cases Latin words itself). The jar still weights English function words ("a", "the", ",") as
  function words in this mode although its other.words list is empty; no Hangul morpheme is on that list.
- The JVM's locale is pinned to en-US: the jar reads stats back with java.util.Scanner, which under a
  decimal-comma locale (de, fr) rejects its own "6.0" and crashes on EVAL (reproduced with
  -Duser.language=de).

The SCORE answer is 23 numbers (MeteorStats): test length, reference length, test/reference function
words, then for each of 4 stages test/reference content matches and test/reference function matches,
then chunks, test word matches, reference word matches. They are counts that add up over images, with one
exception found in the jar's MeteorStats.addStats: a segment that matches its reference perfectly in one
chunk contributes 0 chunks to the corpus total instead of 1. `Meteor.score` returns the stats with that
segment's chunks already set to 0 (its own score is unchanged: its fragmentation is 0 either way), so
`aggregate(stats.sum(0))` equals the jar's corpus score and bootstrap resamples can sum rows.

An empty prediction is sent as an empty hypothesis field: the jar scores it 0 (test length 0). The line
must end with "||| " then: Java's split drops a trailing empty field, and "SCORE ||| ref |||" is answered
with an error instead of stats.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import shutil
import signal
import subprocess
import threading
import weakref
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn

import numpy as np

from kobench.metrics.captioning import CorpusScore, scorer_inputs

METEOR_VERSION = "1"
METEOR_JAR_VERSION = "1.5"
LANGUAGE_ARGS = ("-l", "other")
STATS_LENGTH = 23
# Column of the chunk count in a stats row, and of the stage-wise match counts that must add up to the
# lengths for a "perfect" segment (MeteorStats: 4 length fields, then 4 stages x 4 match fields).
CHUNKS_COLUMN = 20
_TEST_MATCH_COLUMNS = [4 + 4 * s + f for s in range(4) for f in (0, 2)]
_REF_MATCH_COLUMNS = [4 + 4 * s + f for s in range(4) for f in (1, 3)]
# Segments per EVAL line in aggregate_many: long lines are fine for the jar, this only bounds one write.
_EVAL_BATCH = 1000
JAVA_MISSING = (
    "METEOR needs a Java runtime (java not found on PATH): install one, e.g. "
    "`apt-get install default-jre-headless` (scripts/setup.sh does this)"
)


class MeteorError(RuntimeError):
    """The METEOR jar could not be started, died, answered garbage or did not answer in time."""


def meteor_signature() -> str:
    return f"meteor-{METEOR_JAR_VERSION}@{METEOR_VERSION}({' '.join(LANGUAGE_ARGS)})"


def meteor_jar() -> Path:
    """pycocoevalcap's bundled meteor-1.5.jar (pycocoevalcap is a namespace package: no __file__)."""
    spec = importlib.util.find_spec("pycocoevalcap.meteor")
    if spec is None or not spec.submodule_search_locations:
        raise MeteorError("METEOR needs pycocoevalcap (its meteor-1.5.jar): pip install pycocoevalcap")
    for folder in spec.submodule_search_locations:
        jar = Path(folder) / "meteor-1.5.jar"
        if jar.is_file():
            return jar
    raise MeteorError("pycocoevalcap is installed without meteor/meteor-1.5.jar: reinstall pycocoevalcap")


class Meteor:
    """One METEOR jar process; use as a context manager (or call close()) so the JVM goes away."""

    def __init__(self, timeout: float = 120.0, java: str = "java") -> None:
        self.timeout = timeout
        executable = shutil.which(java)
        if executable is None:
            raise MeteorError(JAVA_MISSING + ("" if java == "java" else f" [looked for {java!r}]"))
        jar = meteor_jar()
        command = [
            executable,
            "-Duser.language=en",
            "-Duser.country=US",
            "-Xmx2G",
            "-jar",
            str(jar),
            "-",
            "-",
            "-stdio",
            *LANGUAGE_ARGS,
        ]
        try:
            # Own process group, so a kill also reaches children of a wrapper script around java.
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=jar.parent,
                start_new_session=True,
            )
        except OSError as err:
            raise MeteorError(f"could not start the METEOR jar with {executable}: {err}") from err
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=20)
        self._write_errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._closed = False
        # The threads get the streams, not `self`, so an unclosed Meteor can still be collected.
        threading.Thread(target=_pump_lines, args=(self._proc.stdout, self._lines), daemon=True).start()
        self._stderr_thread = threading.Thread(
            target=_pump_tail, args=(self._proc.stderr, self._stderr), daemon=True
        )
        self._stderr_thread.start()
        # A forgotten close() must not leave a JVM behind.
        self._finalizer = weakref.finalize(self, _kill, self._proc)

    def __enter__(self) -> Meteor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError, ValueError):
            self._proc.stdin.close()  # type: ignore[union-attr]
        try:
            self._proc.wait(timeout=5)  # the jar exits on end of input
        except subprocess.TimeoutExpired:
            _kill(self._proc)
        self._finalizer.detach()

    def score(
        self, references: Sequence[Sequence[str]], predictions: Sequence[str]
    ) -> tuple[CorpusScore, np.ndarray]:
        """Corpus METEOR (the jar's aggregate) with per-image scores, and per-image stats, shape (n, 23).

        Inputs are morpheme strings as for `ngram_scores` (same checks: empty references dropped, an image
        without one is a ValueError). Stats rows are additive (see the module doc).
        """
        gts, res = scorer_inputs(references, predictions)
        # " ||| " before the hypothesis keeps a trailing space when it is empty (see the module doc).
        lines = [
            "SCORE ||| " + " ||| ".join(_field(r) for r in refs) + " ||| " + _field(res[key][0])
            for key, refs in gts.items()
        ]
        with self._lock:
            answers = self._ask(lines, len(lines))
            stats = np.array([_parse_stats(a, i) for i, a in enumerate(answers)])
            # EVAL takes the stats exactly as the jar wrote them: its aggregate is the reference value.
            scores = self._ask(["EVAL ||| " + " ||| ".join(answers)], len(lines) + 1)
        values = [_parse_float(s) for s in scores]
        return CorpusScore(value=values[-1], per_unit=values[:-1]), additive_stats(stats)

    def aggregate(self, summed_stats: np.ndarray) -> float:
        """The METEOR score of one summed stats vector (the jar's EVAL aggregate)."""
        with self._lock:
            answers = self._ask(["EVAL ||| " + _stats_field(summed_stats)], 2)
        return _parse_float(answers[1])

    def aggregate_many(self, rows: np.ndarray) -> list[float]:
        """`aggregate` of each row, many rows to one EVAL line (for bootstrap resamples).

        EVAL answers each segment's own score before the aggregate; for a single summed vector the two
        are the same number, so one EVAL line with many rows gives all their scores at once.
        """
        rows = np.atleast_2d(np.asarray(rows, dtype=float))
        out: list[float] = []
        with self._lock:
            for start in range(0, rows.shape[0], _EVAL_BATCH):
                batch = rows[start : start + _EVAL_BATCH]
                line = "EVAL ||| " + " ||| ".join(_stats_field(r) for r in batch)
                out.extend(_parse_float(a) for a in self._ask([line], len(batch) + 1)[:-1])
        return out

    def _ask(self, lines: list[str], n_answers: int) -> list[str]:
        """Write `lines` (from a thread, so a full pipe cannot deadlock us) and read `n_answers` lines."""
        if self._closed:
            raise MeteorError("this Meteor instance is closed (or failed before)")
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        threading.Thread(target=_write, args=(self._proc, data, self._write_errors), daemon=True).start()
        answers = []
        for _ in range(n_answers):
            try:
                line = self._lines.get(timeout=self.timeout)
            except queue.Empty:
                self._fail(f"no answer from the METEOR jar within {self.timeout:g} s")
            if line is None:
                self._fail("the METEOR jar exited")
            answers.append(line)
        return answers

    def _fail(self, what: str) -> NoReturn:
        self._closed = True
        _kill(self._proc)
        self._finalizer.detach()
        self._stderr_thread.join(timeout=2)  # the jar's last words (a Java stack trace) arrive last
        tail = "\n".join(self._stderr) or "(nothing)"
        write = f"; writing to it failed: {self._write_errors[-1]}" if self._write_errors else ""
        raise MeteorError(
            f"{what} (exit code {self._proc.returncode}){write}; the jar was stopped. "
            f"Its stderr ended with:\n{tail}"
        )


def additive_stats(stats: np.ndarray) -> np.ndarray:
    """Stats rows with a perfect segment's chunk set to 0, as the jar's own aggregation counts it."""
    stats = np.array(stats, dtype=float)
    if stats.size == 0:
        return stats.reshape(0, STATS_LENGTH)
    perfect = (
        (stats[:, _TEST_MATCH_COLUMNS].sum(axis=1) == stats[:, 0])
        & (stats[:, _REF_MATCH_COLUMNS].sum(axis=1) == stats[:, 1])
        & (stats[:, CHUNKS_COLUMN] == 1)
    )
    stats[perfect, CHUNKS_COLUMN] = 0.0
    return stats


def _field(text: str) -> str:
    # "|||" separates fields and a newline ends the request: neither may appear inside one.
    return " ".join(text.replace("|||", " ").split())


def _stats_field(row: np.ndarray) -> str:
    values = np.asarray(row, dtype=float).ravel()
    if values.size != STATS_LENGTH:
        raise ValueError(f"METEOR stats have {STATS_LENGTH} numbers, got {values.size}")
    return " ".join(repr(float(v)) for v in values)


def _parse_stats(line: str, index: int) -> list[float]:
    try:
        values = [float(x) for x in line.split()]
    except ValueError:
        values = []
    if len(values) != STATS_LENGTH:
        raise MeteorError(f"the METEOR jar answered {line!r} for image {index}, not {STATS_LENGTH} stats")
    return values


def _parse_float(line: str) -> float:
    try:
        return float(line)
    except ValueError:
        raise MeteorError(f"the METEOR jar answered {line!r} where a score was expected") from None


def _pump_lines(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    for raw in stream:
        lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
    lines.put(None)  # end of output: the jar exited


def _pump_tail(stream: IO[bytes], tail: deque[str]) -> None:
    # Drained continuously: a jar that fills the stderr pipe would otherwise block.
    for raw in stream:
        tail.append(raw.decode("utf-8", "replace").rstrip())


def _write(proc: subprocess.Popen[bytes], data: bytes, errors: list[BaseException]) -> None:
    try:
        proc.stdin.write(data)  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
    except (OSError, ValueError) as err:  # the jar died or was killed: the reading side reports it
        errors.append(err)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows has no process groups to kill
            proc.kill()
    proc.wait()
