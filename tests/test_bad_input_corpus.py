"""Bad input as a hostile user gives it (issue 18, points 1, 5, 7 and 8): every case is a real
`python -m kobench` process on real files. Each must end with DESIGN's exit code (2 usage, 3 not comparable,
4 bad input, never 1, the gate's "regression"), one message naming the option, file, row or field, no
traceback; and where a folder or a cache was there before, every byte of it is still there after.

Beside the table: `score` joins a results folder as `run` does, ids made from a row's content pair two
copies of the same data in any order, a folder's status agrees with the exit code, and `kobench judge`
reports its own calls.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from benchmark_copies import k_seed_rows, write_all, write_parquet

from kobench.api import evaluate
from kobench.run.predictions import score_predictions
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

KOBENCH = [sys.executable, "-m", "kobench"]


# --- the world every case starts from (built once) ---------------------------------------------------


@dataclass(frozen=True)
class World:
    mirror: Path  # K-SEED, K-DTCBench, ... as the Hub lays them out
    broken_images: Path  # K-SEED with 2 of 10 images unreadable (failed rows), and K-DTCBench
    no_id_column: Path  # K-SEED without its question_id column
    finished: Path  # `kobench run -m constant:A -t k-seed,k-dtcbench --output` of the mirror
    cache: Path  # the response cache that run wrote
    predictions: Path  # one prediction per K-SEED row
    dtc_predictions: Path  # one per K-DTCBench row
    judged: Path  # `kobench run -m constant:A -t k-llava-w --judge` of the mirror, a loopback judge


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("world")
    mirror = write_all(root / "mirror")
    rows = k_seed_rows()
    for row in rows[:2]:
        row["image"] = {"bytes": b"not a png", "path": "x.png"}
    write_parquet(root / "broken", "NCSOFT/K-SEED", "test", rows)
    shutil.copytree(mirror / "NCSOFT" / "K-DTCBench", root / "broken" / "NCSOFT" / "K-DTCBench")
    write_parquet(
        root / "no-id",
        "NCSOFT/K-SEED",
        "test",
        [{k: v for k, v in r.items() if k != "question_id"} for r in rows],
    )
    finished = root / "finished"
    result = evaluate(
        "constant:A", "k-seed,k-dtcbench", output=finished, data_dir=mirror, cache_dir=root / "cache"
    )
    assert result.status == "complete"
    predictions, dtc = root / "k-seed.jsonl", root / "k-dtcbench.jsonl"
    for task, path, answer in (("k-seed", predictions, "B"), ("k-dtcbench", dtc, "A")):
        ids = [
            json.loads(line)["id"] for line in (finished / "samples" / f"{task}.jsonl").open(encoding="utf-8")
        ]
        _lines(path, [{"id": rid, "prediction": answer} for rid in ids])
    with FakeOpenAIServer(lambda body, index: Reply(text="8 6\n두 답변 모두 적절합니다")) as judge:
        judged = evaluate(
            "constant:A",
            "k-llava-w",
            output=root / "judged",
            data_dir=mirror,
            cache_dir=root / "judge-cache",
            judge=f"judge@{judge.base_url}",
        )
    assert judged.status == "complete"
    return World(
        mirror, root / "broken", root / "no-id", finished, root / "cache", predictions, dtc, root / "judged"
    )


def _lines(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# --- one case: its setting-up, its command, what it must say ------------------------------------------


@dataclass
class Place:
    """A case's own folder: `out` (results), `cache`, a plain file `afile`, and what must stay unchanged."""

    tmp: Path
    world: World
    keep: list[Path] = field(default_factory=list)
    undo: list[Callable[[], None]] = field(default_factory=list)

    @property
    def out(self) -> Path:
        return self.tmp / "out"

    @property
    def cache(self) -> Path:
        return self.tmp / "cache"

    def names(self) -> dict[str, str]:
        w = self.world
        return {
            "tmp": str(self.tmp),
            "out": str(self.out),
            "cache": str(self.cache),
            "afile": str(self.tmp / "afile"),
            "mirror": str(w.mirror),
            "broken": str(w.broken_images),
            "noid": str(w.no_id_column),
            "preds": str(w.predictions),
            "dtc": str(w.dtc_predictions),
            "own": str(self.tmp / "own.jsonl"),
        }

    def finished(self) -> Path:
        """A copy of the finished folder as `out`, kept: no byte of it may change."""
        shutil.copytree(self.world.finished, self.out)
        self.keep.append(self.out)
        return self.out

    def cache_file(self, data: bytes) -> Path:
        self.cache.mkdir(parents=True, exist_ok=True)
        path = self.cache / "responses.sqlite"
        path.write_bytes(data)
        self.keep.append(path)
        return path

    def read_only(self, path: Path) -> None:
        """`path` (a folder) read-only, for root too (immutable: chattr +i), undone after the case."""
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            path.chmod(0o555)
            self.undo.append(lambda: path.chmod(0o755))
            return
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot make a folder read-only for root here: {done.stderr.decode().strip()}")
        self.undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=True))


def kobench(args: list[str], place: Place, *extra_env: tuple[str, str]) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "KOBENCH_CACHE_DIR": str(place.cache),
        "KOBENCH_DATA_DIR": str(place.world.mirror),
        "HF_HUB_OFFLINE": "1",
        "NO_COLOR": "1",
        "COLUMNS": "200",
        **dict(extra_env),
    }
    return subprocess.run(
        [*KOBENCH, *args], cwd=place.tmp, env=env, capture_output=True, text=True, timeout=300
    )


def snapshot(paths: list[Path]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in paths:
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            files[str(file)] = file.read_bytes()
    return files


# --- setting-up, by name ------------------------------------------------------------------------------


def afile(place: Place) -> None:
    (place.tmp / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    place.keep.append(place.tmp / "afile")


def finished(place: Place) -> None:
    place.finished()


def _edit_settings(text: str) -> Callable[[Place], None]:
    def setup(place: Place) -> None:
        out = place.finished()
        (out / "settings.json").write_text(text, encoding="utf-8")

    return setup


def _truncate(name: str, size: int) -> Callable[[Place], None]:
    def setup(place: Place) -> None:
        out = place.finished()
        data = (out / name).read_bytes()
        (out / name).write_bytes(data[:size])

    return setup


def results_bad_task(place: Place) -> None:
    out = place.finished()
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    data["tasks"]["k-dtcbench"] = {"what": "not a task result"}
    (out / "results.json").write_text(json.dumps(data), encoding="utf-8")


def _edit_sample(line: int, edit: Callable[[bytes], bytes]) -> Callable[[Place], None]:
    def setup(place: Place) -> None:
        path = place.finished() / "samples" / "k-seed.jsonl"
        lines = path.read_bytes().split(b"\n")
        lines[line - 1] = edit(lines[line - 1])
        path.write_bytes(b"\n".join(lines))

    return setup


def _json_edit(change: Callable[[dict], None]) -> Callable[[bytes], bytes]:
    def edit(raw: bytes) -> bytes:
        record = json.loads(raw)
        change(record)
        return json.dumps(record, ensure_ascii=False).encode("utf-8")

    return edit


def samples_read_only(place: Place) -> None:
    place.read_only(place.finished() / "samples")


def output_read_only(place: Place) -> None:
    place.read_only(place.out)


def parent_read_only(place: Place) -> None:
    place.read_only(place.tmp / "ro")


def cache_read_only(place: Place) -> None:
    place.read_only(place.cache)


def finished_and_afile(place: Place) -> None:
    place.finished()
    afile(place)


def finished_and_read_only_folder(place: Place) -> None:
    place.finished()
    (place.tmp / "ro").mkdir()
    place.read_only(place.tmp / "ro")


def cache_garbage(place: Place) -> None:
    place.cache_file(bytes(range(256)) * 20)


def cache_header_garbage(place: Place) -> None:
    place.cache_file(b"SQLite format 3\x00" + b"\x07" * 4000)


def cache_truncated(place: Place) -> None:
    data = (place.world.cache / "responses.sqlite").read_bytes()
    place.cache_file(data[: len(data) // 2 + 100])


def cache_foreign(place: Place) -> None:
    place.cache.mkdir()
    with sqlite3.connect(place.cache / "responses.sqlite") as db:
        db.execute("CREATE TABLE responses (a TEXT, b TEXT)")
        db.execute("INSERT INTO responses VALUES ('x', 'y')")
    db.close()
    place.keep.append(place.cache / "responses.sqlite")


def judge_cache_file(data: bytes) -> Callable[[Place], None]:
    def setup(place: Place) -> None:
        place.cache.mkdir(parents=True, exist_ok=True)
        (place.cache / "judgements.sqlite").write_bytes(data)
        place.keep.append(place.cache / "judgements.sqlite")

    return setup


def judge_cache_foreign(place: Place) -> None:
    place.cache.mkdir()
    with sqlite3.connect(place.cache / "judgements.sqlite") as db:
        db.execute("CREATE TABLE judgements (verdict TEXT)")
        db.execute("INSERT INTO judgements VALUES ('10')")
    db.close()
    place.keep.append(place.cache / "judgements.sqlite")


def judged(place: Place) -> None:
    shutil.copytree(place.world.judged, place.out)
    place.keep.append(place.out)


def judged_and_damaged_cache(place: Place) -> None:
    judged(place)
    judge_cache_file(b"SQLite format 3\x00" + b"\x07" * 4000)(place)


def judged_and_afile(place: Place) -> None:
    judged(place)
    afile(place)


def cache_is_folder(place: Place) -> None:
    (place.cache / "responses.sqlite").mkdir(parents=True)


def scored_as(name: str) -> Callable[[Place], None]:
    def setup(place: Place) -> None:
        w = place.world
        score_predictions("k-seed", w.predictions, output=place.out, data_dir=w.mirror, model_name=name)
        place.keep.append(place.out)

    return setup


def _predictions(records: list) -> Callable[[Place], None]:
    def setup(place: Place) -> None:
        _lines(place.tmp / "own.jsonl", records)

    return setup


def other_predictions(place: Place) -> None:
    """k-seed scored as "a" from one file; then another file for the same task, under the same name."""
    scored_as("a")(place)
    _lines(place.tmp / "own.jsonl", [{"id": "1000", "prediction": "C"}])


def _raw_predictions(text: str) -> Callable[[Place], None]:
    def setup(place: Place) -> None:
        (place.tmp / "own.jsonl").write_text(text, encoding="utf-8")

    return setup


def with_unmatched_id(place: Place) -> None:
    records = [json.loads(line) for line in place.world.predictions.open(encoding="utf-8")]
    _lines(place.tmp / "own.jsonl", [*records, {"id": "no-such-row", "prediction": "A"}])


def _weights(payload: str) -> Callable[[Place], None]:
    def setup(place: Place) -> None:
        torch = pytest.importorskip("torch")
        pytest.importorskip("transformers")
        from kobench.testing.tiny_models import build_tiny_llava

        built = build_tiny_llava(place.world.cache.parent / "tiny-llava")
        model = place.tmp / "model"
        shutil.copytree(built, model, ignore=shutil.ignore_patterns("*.safetensors"))
        if payload == "code":
            torch.save({"w": _RunsCode(str(place.tmp / "PWNED"))}, model / "pytorch_model.bin")
        else:
            (model / "pytorch_model.bin").write_bytes(b"\x80\x02garbage" * 300)

    return setup


class _RunsCode:
    """A pickle payload: loading it (unsafely) would create a file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# --- the table ----------------------------------------------------------------------------------------

RUN = ["run", "-m", "constant:A", "-t", "k-seed", "--no-progress"]
SCORE = ["score", "-t", "k-seed", "--predictions", "{preds}"]
OWN = ["score", "-t", "k-seed", "--predictions", "{own}"]
JUDGED_RUN = [
    "run",
    "-m",
    "constant:A",
    "-t",
    "k-llava-w",
    "--judge",
    "j@http://127.0.0.1:9/v1",
    "--no-progress",
]


def case(name: str, args: list[str], code: int, says: str, setup: Callable[[Place], None] | None = None):
    return pytest.param(args, code, says, setup, id=name)


CASES = [
    # Options out of range: typer's usage error (2), naming the option.
    case("limit-zero", [*RUN, "--limit", "0"], 2, "--limit"),
    case("limit-negative", [*RUN, "--limit", "-1"], 2, "--limit"),
    case("batch-size-zero", [*RUN, "--batch-size", "0"], 2, "--batch-size"),
    case("batch-size-negative", [*RUN, "--batch-size", "-3"], 2, "--batch-size"),
    case("batch-size-word", [*RUN, "--batch-size", "lots"], 2, "--batch-size"),
    case("concurrency-zero", [*RUN, "--concurrency", "0"], 2, "--concurrency"),
    case("concurrency-negative", [*RUN, "--concurrency", "-2"], 2, "--concurrency"),
    case("max-concurrency-zero", [*RUN, "--max-concurrency", "0"], 2, "--max-concurrency"),
    case("request-timeout-zero", [*RUN, "--request-timeout", "0"], 2, "--request-timeout"),
    case("request-timeout-negative", [*RUN, "--request-timeout", "-5"], 2, "--request-timeout"),
    case("request-timeout-nan", [*RUN, "--request-timeout", "nan"], 2, "--request-timeout"),
    case("request-timeout-infinite", [*RUN, "--request-timeout", "inf"], 4, "--request-timeout"),
    case("max-failed-share-negative", [*RUN, "--max-failed-share", "-1"], 2, "--max-failed-share"),
    case("max-failed-share-above-one", [*RUN, "--max-failed-share", "2"], 2, "--max-failed-share"),
    case("max-failed-share-nan", [*RUN, "--max-failed-share", "nan"], 2, "--max-failed-share"),
    case("max-truncated-share-negative", [*RUN, "--max-truncated-share", "-0.1"], 2, "--max-truncated-share"),
    case("judge-concurrency-zero", [*RUN, "--judge-concurrency", "0"], 2, "--judge-concurrency"),
    case(
        "max-failed-judgements-above-one",
        [*RUN, "--max-failed-judgements", "1.5"],
        2,
        "--max-failed-judgements",
    ),
    case("max-new-tokens-zero", [*RUN, "--max-new-tokens", "0"], 2, "--max-new-tokens"),
    case("tensor-parallel-zero", [*RUN, "--tensor-parallel-size", "0"], 2, "--tensor-parallel-size"),
    case("gpu-memory-zero", [*RUN, "--gpu-memory-utilization", "0"], 4, "--gpu-memory-utilization"),
    case("gpu-memory-above-one", [*RUN, "--gpu-memory-utilization", "1.5"], 4, "--gpu-memory-utilization"),
    case("min-pixels-zero", [*RUN, "--min-pixels", "0"], 2, "--min-pixels"),
    case("max-tiles-zero", [*RUN, "--max-tiles", "0"], 2, "--max-tiles"),
    case("modalities-image-only", [*RUN, "--modalities", "image"], 2, "--modalities"),
    case("modalities-unknown", [*RUN, "--modalities", "text,audio"], 2, "--modalities"),
    case("dtype-unknown", [*RUN, "--dtype", "float8"], 2, "--dtype"),
    case("box-convention-unknown", [*RUN, "--box-convention", "bogus"], 2, "--box-convention"),
    case("device-map-unknown", [*RUN, "--device-map", "everywhere"], 2, "--device-map"),
    case("generation-defaults-unknown", [*RUN, "--generation-defaults", "x"], 2, "--generation-defaults"),
    # Options naming what is not there: refused, never ignored (4).
    case("prompt-version-typo", [*RUN, "--prompt-version", "2025-77"], 4, "--prompt-version 2025-77"),
    case("prompt-version-task-typo", [*RUN, "--prompt-version", "k-seed=2025-77"], 4, "k-seed=2025-77"),
    case("prompt-version-other-task", [*RUN, "--prompt-version", "k-mmstar=2025-07"], 4, "'k-mmstar' is not"),
    case("data-path-other-task", [*RUN, "--data-path", "k-mmstar={mirror}"], 4, "'k-mmstar' is not a task"),
    case("data-path-misspelt-task", [*RUN, "--data-path", "kseed={mirror}"], 4, "--data-path kseed="),
    case("data-path-no-folder", [*RUN, "--data-path", "k-seed"], 4, "--data-path"),
    case("data-path-missing-folder", [*RUN, "--data-path", "k-seed={tmp}/nowhere"], 4, "nowhere"),
    case("split-file-other-task", [*RUN, "--split-file", "k-mmstar=x.txt"], 4, "--split-file k-mmstar"),
    case("split-file-no-file", [*RUN, "--split-file", "k-seed"], 4, "--split-file"),
    case("tasks-empty", ["run", "-m", "constant:A", "-t", " ", "--no-progress"], 4, "no task given"),
    case("task-unknown", ["run", "-m", "constant:A", "-t", "k-nope", "--no-progress"], 4, "k-nope"),
    case("adapter-unknown", ["run", "-m", "gguf:x", "-t", "k-seed", "--no-progress"], 4, "'gguf'"),
    case("task-dir-missing", [*RUN, "--task-dir", "{tmp}/no-tasks"], 4, "no-tasks"),
    case("id-column-missing", [*RUN, "--data-dir", "{noid}"], 4, "needs column 'question_id' (id)"),
    # Folders that are files, or cannot be written: one line, exit 4.
    case("output-is-a-file", [*RUN, "--output", "{afile}"], 4, "--output: {afile} is a file", afile),
    case("output-under-a-file", [*RUN, "--output", "{afile}/sub"], 4, "--output {afile}/sub", afile),
    case("cache-dir-is-a-file", [*RUN, "--cache-dir", "{afile}"], 4, "--cache-dir: {afile} is a file", afile),
    case("cache-dir-under-a-file", [*RUN, "--cache-dir", "{afile}/c"], 4, "--cache-dir {afile}/c", afile),
    case(
        "output-read-only", [*RUN, "--output", "{out}"], 4, "--output {out}: cannot write", output_read_only
    ),
    case("output-parent-read-only", [*RUN, "--output", "{tmp}/ro/x"], 4, "cannot write", parent_read_only),
    case("samples-read-only", [*RUN, "--output", "{out}"], 4, "{out}/samples", samples_read_only),
    case("cache-dir-read-only", [*RUN, "--cache-dir", "{cache}"], 4, "--cache-dir {cache}", cache_read_only),
    case("score-output-is-a-file", [*SCORE, "--output", "{afile}"], 4, "--output: {afile} is a file", afile),
    case(
        "tokens-output-is-a-file", ["tokens", "-m", "hf:nowhere", "--output", "{afile}"], 4, "{afile}", afile
    ),
    case("speed-output-is-a-file", ["speed", "-m", "hf:nowhere", "--output", "{afile}"], 4, "{afile}", afile),
    # A damaged response cache: never trusted, never touched; the message says how to recover.
    case("cache-garbage", RUN, 4, "responses.sqlite.damaged", cache_garbage),
    case("cache-header-then-garbage", RUN, 4, "response cache is damaged", cache_header_garbage),
    case("cache-truncated", RUN, 4, "response cache is damaged", cache_truncated),
    case("cache-foreign-table", RUN, 4, "not kobench's", cache_foreign),
    case("cache-is-a-folder", RUN, 4, "cache/responses.sqlite", cache_is_folder),
    # A damaged results folder: refused naming the file (and line), nothing in it changed.
    case(
        "settings-truncated",
        [*RUN, "--output", "{out}"],
        4,
        "out/settings.json: unreadable",
        _truncate("settings.json", 30),
    ),
    case(
        "settings-empty", [*RUN, "--output", "{out}"], 4, "out/settings.json: unreadable", _edit_settings("")
    ),
    case(
        "settings-not-an-object",
        [*RUN, "--output", "{out}"],
        4,
        "out/settings.json",
        _edit_settings("[1, 2]"),
    ),
    case(
        "results-truncated",
        [*RUN, "--output", "{out}"],
        4,
        "out/results.json: unreadable",
        _truncate("results.json", 100),
    ),
    case("results-bad-task", [*RUN, "--output", "{out}"], 4, "task 'k-dtcbench'", results_bad_task),
    case(
        "sample-without-id",
        [*RUN, "--output", "{out}"],
        4,
        "k-seed.jsonl, row 4, field 'id'",
        _edit_sample(4, _json_edit(lambda r: r.pop("id"))),
    ),
    case(
        "sample-index-not-a-number",
        [*RUN, "--output", "{out}"],
        4,
        "k-seed.jsonl, row 2, field 'index'",
        _edit_sample(2, _json_edit(lambda r: r.update(index="second"))),
    ),
    case(
        "sample-line-not-json",
        [*RUN, "--output", "{out}"],
        4,
        "k-seed.jsonl, row 3",
        _edit_sample(3, lambda raw: raw[:40]),
    ),
    case(
        "sample-line-not-utf8",
        [*RUN, "--output", "{out}"],
        4,
        "k-seed.jsonl, row 5",
        _edit_sample(5, lambda raw: b"\xff\xfe" + raw),
    ),
    case(
        "sample-status-unknown",
        [*RUN, "--output", "{out}"],
        4,
        "field 'status'",
        _edit_sample(1, _json_edit(lambda r: r.update(status="great"))),
    ),
    # Another model's folder: not comparable (3), for `score` as for `run`, and nothing deleted.
    case(
        "run-other-model",
        ["run", "-m", "constant:B", "-t", "k-seed", "--output", "{out}"],
        3,
        "other settings",
        finished,
    ),
    case("score-into-run-folder", [*SCORE, "--output", "{out}"], 3, "pass --overwrite", finished),
    case(
        "score-other-model-name",
        [*SCORE, "--output", "{out}", "--model-name", "b"],
        3,
        "other settings",
        scored_as("a"),
    ),
    case(
        "score-other-predictions",
        [*OWN, "--output", "{out}", "--model-name", "a"],
        3,
        "'predictions': 'file:",
        other_predictions,
    ),
    # Predictions that cannot be paired with the rows.
    case(
        "prediction-id-matches-no-row",
        OWN,
        4,
        "own.jsonl, row 11, field 'id': 'no-such-row'",
        with_unmatched_id,
    ),
    case(
        "prediction-ids-match-nothing",
        OWN,
        4,
        "no prediction id matches a row id of k-seed",
        _predictions([{"id": f"q{i}", "prediction": "A"} for i in range(3)]),
    ),
    case(
        "prediction-without-id",
        OWN,
        4,
        "own.jsonl, row 2, field 'id'",
        _predictions([{"id": 1000, "prediction": "A"}, {"prediction": "B"}]),
    ),
    case(
        "prediction-without-text",
        OWN,
        4,
        "own.jsonl, row 1, field 'prediction'",
        _predictions([{"id": 1000}]),
    ),
    case(
        "prediction-id-twice",
        OWN,
        4,
        "row 2, field 'id': id '1000' appears twice",
        _predictions([{"id": 1000, "prediction": "A"}, {"id": "1000", "prediction": "B"}]),
    ),
    case(
        "prediction-not-json",
        OWN,
        4,
        "own.jsonl, row 2: invalid JSON",
        _raw_predictions('{"id": 1000, "prediction": "A"}\n{oops\n'),
    ),
    case(
        "prediction-not-an-object",
        OWN,
        4,
        "own.jsonl, row 1: expected a JSON object",
        _raw_predictions('[1000, "A"]\n'),
    ),
    case(
        "prediction-a-number",
        OWN,
        4,
        "field 'prediction': expected a string",
        _predictions([{"id": 1000, "prediction": 3}]),
    ),
    case(
        "prediction-finish-unknown",
        OWN,
        4,
        "field 'finish_reason'",
        _predictions([{"id": 1000, "prediction": "A", "finish_reason": "tired"}]),
    ),
    case(
        "predictions-missing", ["score", "-t", "k-seed", "--predictions", "{tmp}/none.jsonl"], 4, "none.jsonl"
    ),
    case("predictions-a-folder", ["score", "-t", "k-seed", "--predictions", "{tmp}"], 4, "unreadable"),
    case("score-limit-zero", [*SCORE, "--limit", "0"], 2, "--limit"),
    case("max-prompt-chars-zero", [*RUN, "--max-prompt-chars", "0"], 2, "--max-prompt-chars"),
    case(
        "max-prompt-chars-below-a-prompt",
        [*RUN, "--max-prompt-chars", "10"],
        4,
        "more than the 10 a prompt may have (--max-prompt-chars",
    ),
    case("score-max-prompt-chars-below-a-prompt", [*SCORE, "--max-prompt-chars", "10"], 4, "row 1 (id"),
    case("score-limit-negative", [*SCORE, "--limit", "-1"], 2, "--limit"),
    case("score-max-failed-share-above-one", [*SCORE, "--max-failed-share", "2"], 2, "--max-failed-share"),
    case("score-prompt-version-typo", [*SCORE, "--prompt-version", "2025-77"], 4, "--prompt-version 2025-77"),
    case(
        "score-data-path-other-task",
        [*SCORE, "--data-path", "k-mmstar={mirror}"],
        4,
        "'k-mmstar' is not a task",
    ),
    case(
        "score-split-file-other-task", [*SCORE, "--split-file", "k-mmstar=x.txt"], 4, "--split-file k-mmstar"
    ),
    case("score-unknown-task", ["score", "-t", "k-nope", "--predictions", "{preds}"], 4, "k-nope"),
    case("score-id-column-missing", [*SCORE, "--data-dir", "{noid}"], 4, "needs column 'question_id' (id)"),
    # `kobench judge` on what is no judged results folder.
    case(
        "judge-no-results",
        ["judge", "{tmp}/nowhere", "--judge", "j@http://127.0.0.1:9/v1"],
        4,
        "nowhere/results.json",
    ),
    case(
        "judge-no-judged-task",
        ["judge", "{out}", "--judge", "j@http://127.0.0.1:9/v1"],
        4,
        "holds no judged task",
        finished,
    ),
    case(
        "judge-unknown-task",
        ["judge", "{out}", "--judge", "j@x", "--tasks", "k-nope"],
        4,
        "no task k-nope",
        finished,
    ),
    case(
        "judge-concurrency-zero",
        ["judge", "{out}", "--judge", "j@x", "--judge-concurrency", "0"],
        2,
        "--judge-concurrency",
    ),
    # A damaged judgement cache, or a --cache-dir that is a file: refused before any answer or verdict.
    case(
        "judge-cache-garbage",
        [*JUDGED_RUN],
        4,
        "the judgement cache is damaged",
        judge_cache_file(bytes(range(256)) * 20),
    ),
    case(
        "judge-cache-header-then-garbage",
        [*JUDGED_RUN],
        4,
        "none of its verdicts is used",
        judge_cache_file(b"SQLite format 3\x00" + b"\x07" * 4000),
    ),
    case(
        "judge-cache-foreign-table",
        [*JUDGED_RUN],
        4,
        "its table 'judgements' is not kobench's",
        judge_cache_foreign,
    ),
    case(
        "rejudge-cache-damaged",
        ["judge", "{out}", "--judge", "j@http://127.0.0.1:9/v1", "--no-progress"],
        4,
        "the judgement cache is damaged",
        judged_and_damaged_cache,
    ),
    case(
        "rejudge-cache-dir-is-a-file",
        ["judge", "{out}", "--judge", "j@http://127.0.0.1:9/v1", "--cache-dir", "{afile}"],
        4,
        "--cache-dir {afile}: cannot make the folder",
        judged_and_afile,
    ),
    # The files `gate --json`, `report --out` and `plot --out` write: a folder there, a file where their
    # folder should be, a folder that takes no file. Refused before any work (the gate's verdict is never
    # followed by a traceback and exit 1, its "regression" code), the option and the path named.
    *[
        case(f"{command}-{option[2:]}-{kind}", [*args, option, target], 4, f"{option} {target}: {why}", setup)
        for command, args, option in (
            ("gate", ["gate", "--baseline", "{out}", "--candidate", "{out}"], "--json"),
            ("report", ["report", "{out}"], "--out"),
            ("plot", ["plot", "{out}"], "--out"),
        )
        for kind, target, why, setup in (
            ("is-a-folder", "{out}", "a folder, not a file", finished_and_afile),
            ("under-a-file", "{afile}/x.out", "{afile} is a file, not a folder", finished_and_afile),
            ("in-a-read-only-folder", "{tmp}/ro/x.out", "cannot write it", finished_and_read_only_folder),
        )
    ],
    # Weights that would run code as they load: refused, nothing run, one line.
    case(
        "weights-pickle-runs-code",
        ["run", "-m", "hf:{tmp}/model", "-t", "k-seed", "--device", "cpu"],
        4,
        "would run code",
        _weights("code"),
    ),
    case(
        "weights-pickle-garbage",
        ["run", "-m", "hf:{tmp}/model", "-t", "k-seed", "--device", "cpu"],
        4,
        "weights were refused",
        _weights("garbage"),
    ),
]


@pytest.mark.parametrize(("args", "code", "says", "setup"), CASES)
def test_bad_input(world: World, tmp_path: Path, args, code, says, setup) -> None:
    place = Place(tmp_path, world)
    try:
        if setup is not None:
            setup(place)
        before = snapshot(place.keep)
        names = place.names()
        done = kobench([a.format(**names) for a in args], place)
    finally:
        for undo in reversed(place.undo):
            undo()
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == code, output
    assert says.format(**names) in " ".join(output.split()), output
    assert snapshot(place.keep) == before, "a file that was there before changed"
    assert not (tmp_path / "PWNED").exists(), "a weights file ran its code"


# --- kobench's own files and a user's, when they are not UTF-8 (a CP949 save): the file and line named ---

CP949 = "한국어".encode("cp949")


def _not_utf8_results(place: Place) -> str:
    out = place.finished()
    path = out / "results.json"
    path.write_bytes(path.read_bytes().replace(b'"status"', b'"' + CP949 + b'", "status"', 1))
    return str(path)


def _not_utf8_settings(place: Place) -> str:
    out = place.finished()
    path = out / "settings.json"
    path.write_bytes(b"{\n" + CP949 + b"\n}")
    return str(path)


def _not_utf8_readme(place: Place) -> str:
    shutil.copytree(place.world.finished, place.out)
    path = place.tmp / "README.md"
    path.write_bytes(b"# model\n\n" + CP949 + b"\n")
    place.keep.append(path)
    return str(path)


def _not_utf8_corpus(place: Place) -> str:
    path = place.tmp / "corpus.txt"
    path.write_bytes("첫 줄\n".encode() + CP949 + b"\n")
    return str(path)


NOT_UTF8_FILES = {
    # what is broken -> (set-up returning the file, the command)
    "results-json-on-resume": (_not_utf8_results, [*RUN, "--output", "{out}"]),
    "results-json-in-table": (_not_utf8_results, ["table", "{out}"]),
    "settings-json-on-resume": (_not_utf8_settings, [*RUN, "--output", "{out}"]),
    "readme-to-update": (_not_utf8_readme, ["readme", "{tmp}/README.md", "{out}"]),
    "model-card-to-merge": (_not_utf8_readme, ["model-index", "{out}", "--readme", "{tmp}/README.md"]),
    "tokens-corpus": (
        _not_utf8_corpus,
        ["tokens", "--model", "tiktoken:nowhere", "--corpus", "{tmp}/corpus.txt"],
    ),
}


@pytest.mark.parametrize(("setup", "args"), NOT_UTF8_FILES.values(), ids=NOT_UTF8_FILES.keys())
def test_a_file_that_is_not_utf8_is_refused_naming_its_line(
    world: World, tmp_path: Path, setup, args
) -> None:
    place = Place(tmp_path, world)
    path = setup(place)
    data = Path(path).read_bytes()
    line = data[: data.index(CP949)].count(b"\n") + 1
    before = snapshot(place.keep)
    done = kobench([a.format(**place.names()) for a in args], place)
    output = " ".join((done.stdout + done.stderr).split())
    assert "Traceback" not in output, output
    assert done.returncode == 4, output
    assert f"{path}: line {line}, column" in output and "not UTF-8" in output, output
    assert snapshot(place.keep) == before


# --- beside the table: what the state cases keep, and what they now do instead ---------------------------


def _run_kobench(args: list[str], tmp: Path, world: World) -> subprocess.CompletedProcess:
    done = kobench([str(a) for a in args], Place(tmp, world))
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def _sample_ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_score_joins_a_folder_scored_under_the_same_name_and_resumes(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = [
        "score",
        "-t",
        "k-seed",
        "--predictions",
        world.predictions,
        "--output",
        out,
        "--model-name",
        "m",
    ]
    assert _run_kobench(first, tmp_path, world).returncode == 0
    kseed = (out / "samples" / "k-seed.jsonl").read_bytes()
    second = ["score", "-t", "k-dtcbench", "--predictions", world.dtc_predictions, "--output", out]
    assert _run_kobench([*second, "--model-name", "m"], tmp_path, world).returncode == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(results["tasks"]) == {"k-seed", "k-dtcbench"} and results["status"] == "complete"
    assert (out / "samples" / "k-seed.jsonl").read_bytes() == kseed  # the other task's samples untouched
    again = _run_kobench(first, tmp_path, world)  # the same file again: resumed, no row twice
    assert again.returncode == 0
    assert sorted(_sample_ids(out / "samples" / "k-seed.jsonl")) == sorted(
        set(_sample_ids(out / "samples" / "k-seed.jsonl"))
    )
    assert len(_sample_ids(out / "samples" / "k-seed.jsonl")) == 10
    # --overwrite replaces the folder's results, as `run --overwrite` does.
    replaced = _run_kobench([*second, "--model-name", "other", "--overwrite"], tmp_path, world)
    assert replaced.returncode == 0
    assert set(json.loads((out / "results.json").read_text(encoding="utf-8"))["tasks"]) == {"k-dtcbench"}


def test_rows_without_an_id_column_pair_by_content_in_any_order(world: World, tmp_path: Path) -> None:
    """Own data (--data-path) without its id column: each row is named by its content, so two copies of the
    same rows in other orders pair row for row, and predictions keyed by those ids score."""
    rows = [{k: v for k, v in r.items() if k != "question_id"} for r in k_seed_rows()]
    rows[3] = dict(rows[1])  # a repeated row: its copies are told apart, in file order
    write_parquet(tmp_path / "a", "NCSOFT/K-SEED", "test", rows)
    write_parquet(tmp_path / "b", "NCSOFT/K-SEED", "test", rows[::-1])
    contents = {}
    for name in ("a", "b"):
        folder = tmp_path / name / "NCSOFT" / "K-SEED"
        args = [*RUN, "--data-path", f"k-seed={folder}", "--output", tmp_path / f"out-{name}"]
        assert _run_kobench(args, tmp_path, world).returncode == 0
        lines = (
            (tmp_path / f"out-{name}" / "samples" / "k-seed.jsonl").read_text(encoding="utf-8").splitlines()
        )
        contents[name] = {r["id"]: r["prompt"] for r in map(json.loads, lines)}
    assert contents["a"] == contents["b"] and len(contents["a"]) == 10
    assert all(rid.startswith("sha256-") for rid in contents["a"])
    assert sum(rid.endswith("#2") for rid in contents["a"]) == 1


def test_a_folder_with_too_many_failed_rows_is_incomplete_whatever_runs_next(
    world: World, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    base = ["run", "-m", "constant:A", "--data-dir", world.broken_images, "--output", out, "--no-progress"]
    failed = _run_kobench([*base, "-t", "k-seed"], tmp_path, world)  # 2 of 10 images unreadable
    assert failed.returncode == 5 and "k-seed" in failed.stderr
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["status"] == "incomplete"
    other = _run_kobench([*base, "-t", "k-dtcbench"], tmp_path, world)  # fine itself; the folder is not
    saved = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(saved["tasks"]) == {"k-seed", "k-dtcbench"}
    assert other.returncode == 5 and saved["status"] == "incomplete"
    assert "failed rows above --max-failed-share 5% in k-seed" in " ".join(other.stderr.split())


def test_a_run_cut_off_in_its_last_line_resumes_with_every_row_once(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(world.finished, out)
    path = out / "samples" / "k-seed.jsonl"
    path.write_bytes(path.read_bytes()[:-60])  # a crash in the middle of the last line
    done = _run_kobench([*RUN, "--output", out], tmp_path, world)
    assert done.returncode == 0, done.stderr
    assert sorted(_sample_ids(path)) == sorted(_sample_ids(world.finished / "samples" / "k-seed.jsonl"))


def test_a_damaged_cache_is_left_as_it_is_and_no_cache_runs(world: World, tmp_path: Path) -> None:
    place = Place(tmp_path, world)
    damaged = place.cache_file(b"\x00garbage" * 100)
    refused = kobench(RUN, place)
    assert refused.returncode == 4 and f"mv {damaged} {damaged}.damaged" in " ".join(refused.stderr.split())
    assert kobench([*RUN, "--no-cache"], place).returncode == 0  # the way round it the message gives
    assert damaged.read_bytes() == b"\x00garbage" * 100


@pytest.mark.parametrize("variable", ["KOBENCH_MAX_IMAGE_BYTES", "KOBENCH_MAX_IMAGE_PIXELS"])
def test_a_bad_image_limit_is_refused_before_any_work(world: World, tmp_path: Path, variable: str) -> None:
    place = Place(tmp_path, world)
    done = kobench([*RUN, "--output", str(place.out)], place, (variable, "lots"))
    output = done.stdout + done.stderr
    assert done.returncode == 4 and "Traceback" not in output, output
    assert f"${variable}='lots': expected a positive whole number" in " ".join(output.split()), output
    assert not place.out.exists()  # refused before the output folder was claimed


def test_kobench_judge_reports_its_own_calls(world: World, tmp_path: Path) -> None:
    from benchmark_copies import k_llava_w_rows

    def script(body: dict, index: int) -> Reply:
        return Reply(text="답변입니다" if body["model"] == "vlm" else "8 6\n두 답변 모두 적절합니다")

    write_parquet(tmp_path / "m", "NCSOFT/K-LLaVA-W", "test", k_llava_w_rows(6))
    out = tmp_path / "out"
    with FakeOpenAIServer(script) as server:
        url = server.base_url
        made = _run_kobench(
            [
                "run",
                "-m",
                f"openai:vlm@{url}",
                "-t",
                "k-llava-w",
                "--judge",
                f"judge@{url}",
                "--data-dir",
                tmp_path / "m",
                "--output",
                out,
                "--no-progress",
            ],
            tmp_path,
            world,
        )
        assert made.returncode == 0, made.stderr
        assert json.loads((out / "results.json").read_text())["run"]["judge_calls"] == 6
        judge = ["judge", out, "--no-progress", "--judge"]
        cached = _run_kobench([*judge, f"judge@{url}"], tmp_path, world)  # every verdict from the cache
        saved = json.loads((out / "results.json").read_text())["run"]
        assert cached.returncode == 0 and (saved["judge_calls"], saved["judge_cache_hits"]) == (0, 6)
        assert "judge calls: 0 (6 from the cache)" in cached.stdout
        other = _run_kobench([*judge, f"judge-b@{url}"], tmp_path, world)
        saved = json.loads((out / "results.json").read_text())["run"]
        assert other.returncode == 0 and (saved["judge_calls"], saved["judge_cache_hits"]) == (6, 0)
        assert len([b for _, b in server.requests if b["model"] == "judge-b"]) == 6
