"""Judged tasks end to end against a real HTTP server on 127.0.0.1: an OpenAI-compatible model answers,
an LLM judge scores, and the numbers are worked out by hand. Failures, retries, the cache, re-judging
and the API key's secrecy are checked on the same server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from benchmark_copies import k_llava_w_rows, write_parquet
from typer.testing import CliRunner

from kobench.api import evaluate
from kobench.cli import app
from kobench.errors import BadInputError
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

SECRET = "sk-test-DO-NOT-LEAK-1234567890"
# Judge scores (reference, model) by category: relative = mean(model) / mean(reference) x 100.
SCORES = {"conv": (8, 6), "detail": (5, 5), "complex": (10, 4)}


def _category(content: str) -> str:
    number = int(re.search(r"\((\d+)\)", content).group(1))  # the question text carries its id
    return ["conv", "detail", "complex"][number % 3]


def _user_text(body: dict) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content


def script(body: dict, index: int) -> Reply:
    text = _user_text(body)
    if body["model"] == "vlm":
        return Reply(text=f"모델 답변: {text[:20]}")
    reference, model = SCORES[_category(text.split("[질문]")[1])]
    return Reply(text=f"{reference} {model}\n두 어시스턴트 모두 ...")


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    write_parquet(tmp_path / "mirror", "NCSOFT/K-LLaVA-W", "test", k_llava_w_rows(12))
    return tmp_path / "mirror"


def _run(server: FakeOpenAIServer, mirror: Path, tmp_path: Path, **kw):
    kw.setdefault("cache_dir", tmp_path / "cache")
    return evaluate(
        f"openai:vlm@{server.base_url}",
        "k-llava-w",
        data_dir=mirror,
        judge=kw.pop("judge", f"judge@{server.base_url}"),
        **kw,
    )


def test_k_llava_w_relative_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer(script) as server:
        result = _run(server, mirror, tmp_path, output=tmp_path / "out")
    task = result.tasks["k-llava-w"]
    kob = task.pipelines["kobench"]
    # 4 questions per category; overall = (6+5+4)*4 / ((8+5+10)*4).
    assert kob.metrics["relative_score"].value == pytest.approx(100 * 15 / 23, abs=1e-6)
    assert kob.breakdown["category"]["conv"].value == pytest.approx(75.0)
    assert kob.breakdown["category"]["detail"].value == pytest.approx(100.0)
    assert kob.breakdown["category"]["complex"].value == pytest.approx(40.0)
    assert task.judge.model == "judge" and task.judge.n_failed == 0 and task.judge.n_judged == 12
    assert task.judge.prompt_version == "lmms-eval-2025-07" and task.judge.temperature == 0.2
    assert "judge:judge" in kob.signature and "judge-prompt:lmms-eval-2025-07" in kob.signature
    assert task.complete and result.status == "complete"
    sample = json.loads((tmp_path / "out" / "samples" / "k-llava-w.jsonl").read_text().splitlines()[0])
    assert sample["kobench"]["judgement"]["text"].startswith("8 6\n")  # the raw judge text is kept
    assert sample["kobench"]["judgement"]["status"] == "ok"
    # Judge requests: system + user message, temperature 0.2, max_tokens 1024; one per row (the two
    # pipelines judge the same text, so one call serves both).
    judge_calls = [body for _, body in server.requests if body["model"] == "judge"]
    assert len(judge_calls) == 12
    assert judge_calls[0]["temperature"] == 0.2 and judge_calls[0]["max_tokens"] == 1024
    assert judge_calls[0]["messages"][0]["role"] == "system"


def test_failed_judgements_are_retried_counted_and_left_out(
    mirror: Path, tmp_path: Path, monkeypatch
) -> None:
    from kobench.llm.client import ChatClient

    monkeypatch.setattr(ChatClient, "_backoff", lambda self, attempt, outcome: 0.0)  # retried, not waited

    def flaky(body: dict, index: int) -> Reply:
        text = _user_text(body)
        if body["model"] == "judge" and "(1)" in text.split("[질문]")[1]:
            return Reply(text="점수를 매길 수 없습니다.")  # never a verdict
        if body["model"] == "judge" and "(2)" in text.split("[질문]")[1]:
            return Reply.server_error()  # the call itself always fails
        return script(body, index)

    with FakeOpenAIServer(flaky) as server:
        result = _run(server, mirror, tmp_path, output=tmp_path / "out")
        unreadable = [b for _, b in server.requests if b["model"] == "judge" and "(1)" in _user_text(b)]
    task = result.tasks["k-llava-w"]
    assert len(unreadable) == 3  # attempts: 3 fresh calls, none served from a cache
    assert task.judge.n_failed == 2 and task.judge.n_judged == 10
    assert any("not a two_scores verdict" in why for why in task.judge.failure_reasons)
    assert any("judge call failed" in why for why in task.judge.failure_reasons)
    # Left out of both means: questions 1 (detail) and 2 (complex) are gone, nothing enters as -1 or 0.
    kept = {"conv": 4, "detail": 3, "complex": 3}
    expected = sum(SCORES[c][1] * n for c, n in kept.items()) / sum(SCORES[c][0] * n for c, n in kept.items())
    assert task.pipelines["kobench"].metrics["relative_score"].value == pytest.approx(100 * expected)
    assert not task.complete and result.status == "incomplete"  # 2 of 12 failed > 5%


def test_judged_task_without_a_judge_stops_before_any_call(mirror: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer(script) as server:
        with pytest.raises(BadInputError, match=r"--judge MODEL@BASE_URL.*gpt-4o-2024-11-20"):
            _run(server, mirror, tmp_path, judge=None)
        assert server.requests == []


def test_judgements_are_cached_and_rejudged_without_regenerating(mirror: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer(script) as server:
        first = _run(server, mirror, tmp_path, output=tmp_path / "out")
        again = _run(server, mirror, tmp_path, output=tmp_path / "out2")
        assert first.run.judge_calls == 12 and again.run.judge_calls == 0 and again.run.judge_cache_hits == 12
        before = len([b for _, b in server.requests if b["model"] == "vlm"])
        result = CliRunner().invoke(
            app,
            [
                "judge",
                str(tmp_path / "out"),
                "--judge",
                f"judge-b@{server.base_url}",
                "--no-progress",
                "--cache-dir",
                str(tmp_path / "cache"),
            ],
        )
        after = len([b for _, b in server.requests if b["model"] == "vlm"])
        rejudged = [b for _, b in server.requests if b["model"] == "judge-b"]
    assert result.exit_code == 0, result.output
    assert after == before and len(rejudged) == 12  # judged again, nothing regenerated
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["tasks"]["k-llava-w"]["judge"]["model"] == "judge-b"
    assert "judge:judge-b" in saved["tasks"]["k-llava-w"]["pipelines"]["kobench"]["signature"]


def test_the_api_key_is_sent_but_never_written(
    mirror: Path, tmp_path: Path, monkeypatch, capfd, caplog
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with FakeOpenAIServer(script) as server:
        _run(server, mirror, tmp_path, output=tmp_path / "out")
        headers = [h for h, _ in server.requests]
    assert all(h.get("Authorization") == f"Bearer {SECRET}" for h in headers)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "judgements.sqlite" for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    out, err = capfd.readouterr()
    assert SECRET not in out + err + caplog.text


def test_judging_overlaps_requests(mirror: Path, tmp_path: Path) -> None:
    def slow(body: dict, index: int) -> Reply:
        reply = script(body, index)
        return Reply(text=reply.text, delay=0.2 if body["model"] == "judge" else 0.0)

    with FakeOpenAIServer(slow) as server:
        _run(server, mirror, tmp_path, judge_concurrency=8, concurrency=1)
        assert server.max_in_flight >= 4


def test_complex_ocr_on_user_data_from_the_command_line(tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "mine"
    folder.mkdir()
    rows = []
    for n in range(10):
        Image.new("RGB", (20, 20), (n * 20, 0, 0)).save(folder / f"{n}.png")
        rows.append(
            {"id": f"q{n}", "image": f"{n}.png", "question": f"{n}번 막대의 값은?", "answer": f"{n}억 원"}
        )
    (folder / "test.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")

    def binary(body: dict, index: int) -> Reply:
        text = _user_text(body)
        if body["model"] == "vlm":
            number = int(re.search(r"(\d)번", text).group(1))
            return Reply(text=f"{number}억 원" if number < 6 else "모르겠습니다")
        if "9번" in text:
            return Reply(text="판단할 수 없습니다")  # never a verdict: one of ten failed (> 5%)
        return Reply(text="1" if "모델의 예측 응답: 모르겠습니다" not in text else "0")

    with FakeOpenAIServer(binary) as server:
        args = [
            "run",
            "--model",
            f"openai:vlm@{server.base_url}",
            "--tasks",
            "ko-ocr-complex",
            "--data-path",
            f"ko-ocr-complex={folder}",
            "--judge",
            f"judge@{server.base_url}",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--output",
            str(tmp_path / "out"),
            "--no-progress",
        ]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 5, result.output
    assert (
        "failed judgements above --max-failed-judgements in ko-ocr-complex (1 of 10 failed" in result.output
    )
    saved = json.loads((tmp_path / "out" / "results.json").read_text())["tasks"]["ko-ocr-complex"]
    # Rows 0-5 right, 6-8 wrong, row 9 unjudged and left out: 6 / 9.
    assert saved["pipelines"]["kobench"]["metrics"]["judge_accuracy"]["value"] == pytest.approx(100 * 6 / 9)
    assert saved["judge"]["n_failed"] == 1 and saved["judge"]["parse"] == "binary"
