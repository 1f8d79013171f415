"""Data parallel runs (torchrun): rows shared out by conversation, each rank's answers in its own file,
rank 0 merging in dataset order; the scores equal a one-process run's, and a killed rank's work resumes.

The ranks are real processes in a real gloo group on loopback: started here as torchrun would start them
(RANK, WORLD_SIZE, MASTER_ADDR...) with a scripted model, and once through torchrun itself on a tiny
transformers model."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from benchmark_copies import k_seed_rows, write_parquet
from data_parallel_worker import answer, rank_main

from kobench.errors import BadInputError
from kobench.parallel import Ranks
from kobench.results import load_results
from kobench.run.output import OutputDir
from kobench.run.records import SampleRecord

ROWS = 60


# --- sharing out ---


def test_each_conversation_goes_whole_to_one_rank_round_robin() -> None:
    # (id, the ids whose answers it carries): b2 follows b1, c3 follows c2 which follows c1
    items = [("a", ()), ("b1", ()), ("b2", ("b1",)), ("c1", ()), ("d", ()), ("c2", ("c1",)), ("c3", ("c2",))]
    shares = [
        [i for i, _ in Ranks(rank, 2).owns(items, key=lambda x: x[0], after=lambda x: x[1])]
        for rank in (0, 1)
    ]
    # conversations in order: a (0), b (1), c (2), d (3): even ones to rank 0, odd ones to rank 1
    assert shares == [["a", "c1", "c2", "c3"], ["b1", "b2", "d"]]
    three = [Ranks(r, 3).owns(items, key=lambda x: x[0], after=lambda x: x[1]) for r in range(3)]
    assert sorted(i for share in three for i, _ in share) == sorted(i for i, _ in items)
    assert Ranks().owns(items, key=lambda x: x[0], after=lambda x: x[1]) == items


def test_torchrun_environment_is_read_and_checked(monkeypatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert Ranks.from_env() == Ranks(0, 1, 0)
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert Ranks.from_env() == Ranks(3, 4, 1) and Ranks.from_env().parallel
    monkeypatch.setenv("RANK", "4")
    with pytest.raises(BadInputError, match="RANK=4 does not fit WORLD_SIZE=4"):
        Ranks.from_env()


# --- the ranks' files ---


def _record(i: int, status: str = "scored") -> SampleRecord:
    return SampleRecord.model_validate(
        {
            "id": str(i), "index": i, "prompt": "?", "target": "A", "options": {}, "fields": {},
            "group": None, "status": status, "error": None, "prediction": "A", "parsed": "A", "score": 1.0,
            "protocol": None, "kobench": None,
        }
    )  # fmt: skip


def test_a_rank_reads_every_file_but_compacts_only_its_own(tmp_path: Path) -> None:
    rank0, rank1 = OutputDir(tmp_path, rank=0), OutputDir(tmp_path, rank=1)
    rank1.append_samples("t", [_record(1), _record(3, "failed")])
    rank0.append_samples("t", [_record(0)])
    OutputDir(tmp_path, rank=0).append_samples("t.x", [_record(9)])  # another task named with a dot
    assert rank1.rank_samples_path("t", 1).exists() and not rank0.samples_path("t").exists()
    before = rank1.rank_samples_path("t", 1).read_text(encoding="utf-8")
    assert set(rank0.finished_samples("t")) == {"0", "1"}  # the failed row 3 is to be asked again
    # rank 0 leaves rank 1's file as it is (rank 1 may be appending to it)...
    assert rank1.rank_samples_path("t", 1).read_text(encoding="utf-8") == before
    # ...and rank 1 drops its own failed row
    assert set(rank1.finished_samples("t")) == {"0", "1"}
    assert len(rank1.rank_samples_path("t", 1).read_text(encoding="utf-8").splitlines()) == 1
    # a one-process run resumes from the ranks' files too
    assert set(OutputDir(tmp_path).finished_samples("t")) == {"0", "1"}
    rank0.rewrite_samples("t", rank0.finished_samples("t"))
    merged = [json.loads(x)["id"] for x in rank0.samples_path("t").read_text(encoding="utf-8").splitlines()]
    assert merged == ["0", "1"]
    assert not rank0.rank_samples_path("t", 0).exists() and not rank0.rank_samples_path("t", 1).exists()
    assert rank0.rank_samples_path("t.x", 0).exists()


# --- real ranks in a gloo group ---


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mirror(tmp_path: Path) -> Path:
    mirror = tmp_path / "mirror"
    write_parquet(mirror, "NCSOFT/K-SEED", "test", k_seed_rows(ROWS))
    return mirror


def _kwargs(mirror: Path, out: Path, tmp_path: Path) -> dict:
    return {
        "data_dir": str(mirror),
        "output": str(out),
        "cache_dir": str(tmp_path / "cache"),
        "use_cache": False,  # every answer the model's: model_calls counts the work done
        "batch_size": 1,
        "progress": False,
    }


def _ranks(
    world: int,
    kwargs: dict,
    tmp_path: Path,
    die: dict[int, int] | None = None,
    fingerprint_by_rank: bool = False,
) -> list:
    """Start `world` ranks; those in `die` are killed after that many answers. Returns the processes,
    finished (or, when a rank was killed, the survivors stopped as torchrun stops them)."""
    ctx = multiprocessing.get_context("spawn")
    port = _free_port()
    die = die or {}
    procs = [
        ctx.Process(
            target=rank_main,
            args=(r, world, port, kwargs, die.get(r), str(tmp_path / f"rank{r}.json"), fingerprint_by_rank),
        )
        for r in range(world)
    ]
    for p in procs:
        p.start()
    if die:
        for r in die:
            procs[r].join(120)
        for p in procs:  # the others wait at the task's barrier for the dead: torchrun would stop them
            p.join(5)
            if p.is_alive():
                p.terminate()
                p.join(30)
    else:
        for p in procs:
            p.join(180)
    return procs


def _samples(out: Path) -> list[dict]:
    return [
        json.loads(x) for x in (out / "samples" / "k-seed.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def _same_rows(a: list[dict], b: list[dict]) -> None:
    keys = ("id", "index", "prediction", "parsed", "score", "status")
    assert [{k: r.get(k) for k in keys} for r in a] == [{k: r.get(k) for k in keys} for r in b]


@pytest.fixture()
def one_process(tmp_path: Path) -> tuple[Path, dict]:
    """The same run in one process: the reference the ranks must agree with."""
    mirror = _mirror(tmp_path)
    out = tmp_path / "single"
    procs = _ranks(1, _kwargs(mirror, out, tmp_path), tmp_path)
    assert procs[0].exitcode == 0
    return mirror, {"samples": _samples(out), "results": load_results(out / "results.json")}


def test_two_ranks_score_as_one_process(tmp_path: Path, one_process) -> None:
    mirror, single = one_process
    out = tmp_path / "dp"
    procs = _ranks(2, _kwargs(mirror, out, tmp_path), tmp_path)
    assert [p.exitcode for p in procs] == [0, 0]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text(encoding="utf-8")) for r in (0, 1)]
    # each rank answered its half: the even rows on rank 0, the odd ones on rank 1
    assert ranks[0]["calls"] == [str(1000 + i) for i in range(0, ROWS, 2)]
    assert ranks[1]["calls"] == [str(1000 + i) for i in range(1, ROWS, 2)]
    _same_rows(_samples(out), single["samples"])
    assert [r["index"] for r in _samples(out)] == list(range(ROWS))  # merged in dataset order
    assert not list((out / "samples" / "ranks").glob("*.jsonl"))
    saved = load_results(out / "results.json")
    expected = single["results"].tasks["k-seed"].pipelines
    for pipeline, scores in saved.tasks["k-seed"].pipelines.items():
        assert scores.metrics["accuracy"].value == expected[pipeline].metrics["accuracy"].value
    # hand count: even rows answered "정답은 X입니다." right, odd rows a wrong letter
    assert saved.tasks["k-seed"].pipelines["kobench"].metrics["accuracy"].value == pytest.approx(50.0)
    assert saved.status == "complete" and saved.run.model_calls == ROWS
    dp = saved.run.data_parallel
    assert dp is not None and dp["world_size"] == 2
    assert [r["model_calls"] for r in dp["ranks"]] == [ROWS // 2, ROWS // 2]
    # every rank returns the merged results, not its own share
    assert all(r["result"]["run"]["model_calls"] == ROWS for r in ranks)


def test_every_rank_caches_and_reports_rank_0s_fingerprint(tmp_path: Path) -> None:
    """Each rank looking the model up itself could name two commits in one run (a Hub branch moving
    between the lookups): rank 0 looks, and its fingerprint keys every rank's cached answers."""
    out = tmp_path / "dp"
    kwargs = {**_kwargs(_mirror(tmp_path), out, tmp_path), "use_cache": True}
    procs = _ranks(2, kwargs, tmp_path, fingerprint_by_rank=True)
    assert [p.exitcode for p in procs] == [0, 0]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text(encoding="utf-8")) for r in (0, 1)]
    assert {r["result"]["run"]["model"]["fingerprint"] for r in ranks} == {"scripted:1@rank0"}
    assert load_results(out / "results.json").run.model.fingerprint == "scripted:1@rank0"
    again = _ranks(1, {**kwargs, "output": str(tmp_path / "again")}, tmp_path, fingerprint_by_rank=True)
    assert again[0].exitcode == 0
    rerun = json.loads((tmp_path / "rank0.json").read_text(encoding="utf-8"))
    assert rerun["calls"] == [] and rerun["result"]["run"]["cache_hits"] == ROWS  # rank 1's answers too


def test_a_killed_rank_resumes_and_the_result_is_unchanged(tmp_path: Path, one_process) -> None:
    mirror, single = one_process
    out = tmp_path / "dp"
    kwargs = _kwargs(mirror, out, tmp_path)
    procs = _ranks(2, kwargs, tmp_path, die={1: 20})
    assert procs[1].exitcode == 9
    assert not (out / "results.json").exists() or load_results(out / "results.json").status != "complete"
    kept = OutputDir(out).finished_samples("k-seed")
    rank1_kept = [r for r in kept.values() if int(r.id) % 2 == 1]
    assert len(rank1_kept) >= 16  # its first checkpoint reached its file before it died
    procs = _ranks(2, kwargs, tmp_path)
    assert [p.exitcode for p in procs] == [0, 0]
    resumed = load_results(out / "results.json")
    assert resumed.status == "complete" and resumed.run.model_calls == ROWS - len(kept)
    _same_rows(_samples(out), single["samples"])


def test_ranks_refuse_what_cannot_be_shared_out(tmp_path: Path, monkeypatch) -> None:
    from kobench.api import evaluate

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    mirror = _mirror(tmp_path)
    with pytest.raises(BadInputError, match="needs --output"):
        evaluate("scripted:x", "k-seed", data_dir=mirror, cache_dir=tmp_path / "c")
    with pytest.raises(BadInputError, match="--device-map auto under torchrun"):
        evaluate("hf:./m", "k-seed", data_dir=mirror, output=tmp_path / "o", device_map="auto")
    with pytest.raises(BadInputError, match="--data-parallel-size"):
        evaluate("vllm:./m", "k-seed", data_dir=mirror, output=tmp_path / "o")


@pytest.mark.slow
def test_torchrun_on_a_tiny_transformers_model_matches_one_process(tiny_llava: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_parquet(mirror, "NCSOFT/K-SEED", "test", k_seed_rows(12))
    common = [
        "-m", "kobench", "run", "--model", f"hf:{tiny_llava}", "--tasks", "k-seed", "--data-dir", str(mirror),
        "--batch-size", "1", "--max-new-tokens", "8", "--no-cache", "--no-progress",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    single = subprocess.run(
        [sys.executable, *common, "--output", str(tmp_path / "one")], env=env, capture_output=True, text=True
    )
    assert single.returncode == 0, single.stderr
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    both = subprocess.run(
        [*torchrun, *common[1:], "--output", str(tmp_path / "two")], env=env, capture_output=True, text=True
    )
    assert both.returncode == 0, both.stderr[-3000:]
    _same_rows(_samples(tmp_path / "two"), _samples(tmp_path / "one"))
    one, two = (
        load_results(tmp_path / "one" / "results.json"),
        load_results(tmp_path / "two" / "results.json"),
    )
    assert two.run.data_parallel is not None and two.run.data_parallel["world_size"] == 2
    assert [r["model_calls"] for r in two.run.data_parallel["ranks"]] == [6, 6]
    for pipeline, scores in two.tasks["k-seed"].pipelines.items():
        assert (
            scores.metrics["accuracy"].value
            == one.tasks["k-seed"].pipelines[pipeline].metrics["accuracy"].value
        )
    assert both.stdout.count("| Benchmark") <= 1  # the table is printed once, by rank 0


def test_the_script_is_right_on_even_rows() -> None:
    # the hand count the agreement tests rely on: K-SEED copies answer A, B, C, D by row
    rows = k_seed_rows(8)
    for i, row in enumerate(rows):
        text = answer(type("R", (), {"id": str(1000 + i)})())
        assert (row["answer"] in text) == (i % 2 == 0)


def test_ranks_share_one_response_cache(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    kwargs = {**_kwargs(mirror, tmp_path / "dp", tmp_path), "use_cache": True}
    procs = _ranks(2, kwargs, tmp_path)  # both ranks write the one SQLite cache at once
    assert [p.exitcode for p in procs] == [0, 0]
    again = {**kwargs, "output": str(tmp_path / "again")}
    procs = _ranks(1, again, tmp_path)
    assert procs[0].exitcode == 0
    repeat = load_results(tmp_path / "again" / "results.json")
    assert repeat.run.cache_hits == ROWS and repeat.run.model_calls == 0  # every rank's answers were kept
    _same_rows(_samples(tmp_path / "again"), _samples(tmp_path / "dp"))
