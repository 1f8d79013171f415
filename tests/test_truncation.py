"""Why each answer ended is recorded and counted (issue 12, point 5): `stop`, `length` (cut off at
max_new_tokens), `error`; answers ending inside an unclosed think block counted apart; answers cached
before kobench recorded it count as `unknown`; an optional threshold makes the run incomplete (exit 5)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kobench
from kobench.cli import app
from kobench.models.base import in_request_order
from kobench.models.hf import HFModel
from kobench.report.summary import incomplete_reasons, run_summary
from kobench.run.cache import ResponseCache
from kobench.testing.fake_openai import FakeOpenAIServer, Reply
from kobench.types import GenerationSettings, Message, Request, Response, TextPart

LIMIT = 10


def _samples(out: Path, task: str = "kobench-demo") -> list[dict]:
    lines = (out / "samples" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_the_servers_finish_reasons_are_recorded_and_counted(tmp_path: Path) -> None:
    # rows 0-2 cut off (one of them inside a think block), row 3 from a server that sends no reason,
    # row 4 refused by the content filter, the rest stopped
    def script(body: dict, index: int) -> Reply:
        if index < 2:
            return Reply(text="정답은", finish_reason="length")
        if index == 2:
            return Reply(text="<think>보기를 하나씩 살펴보면", finish_reason="length")
        if index == 3:
            return Reply(text="A", finish_reason=None)
        if index == 4:
            return Reply(text="", finish_reason="content_filter")
        return Reply(text="A", finish_reason="stop")

    out = tmp_path / "o"
    with FakeOpenAIServer(script) as server:
        result = kobench.evaluate(
            f"openai:m@{server.base_url}",
            "kobench-demo",
            limit=LIMIT,
            concurrency=1,
            cache_dir=tmp_path / "cache",
            output=out,
        )
    reasons = [r["finish_reason"] for r in _samples(out)]
    assert sorted(reasons, key=str) == sorted(["length"] * 3 + [None, "filtered"] + ["stop"] * 5, key=str)
    cut = result.tasks["kobench-demo"].truncation
    assert cut is not None
    assert cut.finish_reasons == {"filtered": 1, "length": 3, "stop": 5, "unknown": 1}
    assert (cut.n_truncated, cut.n_unclosed_thinking) == (3, 1)
    assert cut.truncated_share == pytest.approx(3 / 10)
    summary = run_summary(result)
    assert "cut off" in summary and "3 (30.0%), 1 in <think>, 1 unknown" in summary
    assert result.status == "complete"  # no threshold: reported, not held against the run


def test_a_threshold_makes_the_run_incomplete_with_exit_5(tmp_path: Path) -> None:
    with FakeOpenAIServer(lambda body, index: Reply(text="정답은", finish_reason="length")) as server:
        model = f"openai:m@{server.base_url}"
        options = {"limit": LIMIT, "cache_dir": tmp_path / "cache"}
        result = kobench.evaluate(model, "kobench-demo", max_truncated_share=0.5, **options)
        assert result.status == "incomplete"
        assert result.tasks["kobench-demo"].truncation.truncated_share == 1.0
        assert any(
            "--max-truncated-share 50%" in r and "kobench-demo (100.0%)" in r
            for r in incomplete_reasons(result)
        )
        assert (
            kobench.evaluate(model, "kobench-demo", max_truncated_share=1.0, **options).status == "complete"
        )
        cli = CliRunner().invoke(
            app,
            [
                *("run", "--model", model, "--tasks", "kobench-demo", "--limit", str(LIMIT)),
                *("--no-progress", "--cache-dir", str(tmp_path / "cache"), "--max-truncated-share", "0.2"),
            ],
        )
        assert cli.exit_code == 5, cli.output
        bad = CliRunner().invoke(
            app, ["run", "--model", model, "--tasks", "kobench-demo", "--max-truncated-share", "2"]
        )
        assert bad.exit_code == 2


def test_failed_rows_are_errors_and_baselines_stop(tmp_path: Path) -> None:
    with FakeOpenAIServer(
        lambda body, index: Reply(status=400, text="bad image") if index == 0 else Reply(text="B")
    ) as server:
        result = kobench.evaluate(
            f"openai:m@{server.base_url}", "kobench-demo", limit=4, concurrency=1, cache_dir=tmp_path / "c"
        )
    assert result.tasks["kobench-demo"].truncation.finish_reasons == {"error": 1, "stop": 3}
    chance = kobench.evaluate("chance", "kobench-demo", limit=6, cache_dir=tmp_path / "c2")
    assert chance.tasks["kobench-demo"].truncation.finish_reasons == {"stop": 6}


def test_answers_cached_before_finish_reasons_were_recorded_count_as_unknown(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    with FakeOpenAIServer(lambda body, index: Reply(text="A", finish_reason="length")) as server:
        model = f"openai:m@{server.base_url}"
        first = kobench.evaluate(model, "kobench-demo", limit=4, cache_dir=cache_dir)
        assert first.tasks["kobench-demo"].truncation.finish_reasons == {"length": 4}
        # what an older kobench's cache holds: the same rows, without the columns added since
        db = sqlite3.connect(cache_dir / "responses.sqlite")
        rows = db.execute("SELECT key, text, n_tokens, seconds FROM responses").fetchall()
        db.execute("DROP TABLE responses")
        db.execute(
            "CREATE TABLE responses (key TEXT PRIMARY KEY, text TEXT NOT NULL, n_tokens INTEGER NOT NULL,"
            " seconds REAL NOT NULL)"
        )
        db.executemany("INSERT INTO responses VALUES (?, ?, ?, ?)", rows)
        db.commit()
        db.close()
        again = kobench.evaluate(model, "kobench-demo", limit=4, cache_dir=cache_dir)
        assert server.requests and len(server.requests) == 4  # served from the old cache, nothing asked
    assert again.run.cache_hits == 4
    assert again.tasks["kobench-demo"].truncation.finish_reasons == {"unknown": 4}


def test_the_cache_keeps_why_an_answer_ended(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "r.sqlite")
    cache.put_many(
        [("k1", Response(text="x", finish_reason="length", prompt_tokens=12)), ("k2", Response(text="y"))]
    )
    found = cache.get_many(["k1", "k2"])
    cache.close()
    assert (found["k1"].finish_reason, found["k1"].prompt_tokens) == ("length", 12)
    assert found["k2"].finish_reason is None


def _ask(rid: str, max_new_tokens: int, stop: tuple[str, ...] = ()) -> Request:
    messages = (Message("user", (TextPart("사진 속 물건은 무엇입니까?"),)),)
    return Request(rid, messages, GenerationSettings(max_new_tokens=max_new_tokens, stop=stop))


@pytest.mark.slow
def test_hf_tells_a_cut_off_answer_from_a_stopped_one(tiny_llava: Path) -> None:
    model = HFModel(str(tiny_llava), batch_size=2)
    # random weights: 6 greedy tokens run to the limit (an end token among them would be a 1-in-150 draw)
    long = in_request_order(model, [_ask("a", 6)])[0]
    assert long.ok and long.n_tokens == 6 and long.finish_reason == "length"
    # a stop string the model is known to write (its third character onwards) ends the answer early
    text = long.text or ""
    stop = text[2:4]
    assert stop.strip(), f"the tiny model's answer {text!r} has no usable stop string"
    stopped = in_request_order(model, [_ask("b", 6, stop=(stop,))])[0]
    assert stopped.finish_reason == "stop" and stopped.text == text[: text.find(stop)]
