"""The batch-first model protocol: an adapter gets every pending request of a task at once, answers in any
order (each answer tagged with its request), and the runner checkpoints whatever the adapter does; a
request may carry an earlier answer; what an adapter cannot take is refused before any work."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import kobench
from kobench.errors import BadInputError
from kobench.models import registry
from kobench.models.registry import AdapterEntry
from kobench.run.cache import ResponseCache
from kobench.run.respond import CHECKPOINT_EVERY, Responder
from kobench.testing.fake_openai import FakeOpenAIServer, Reply
from kobench.types import GenerationSettings, Message, Request, Response, TextPart


@dataclass
class Recorder:
    """Answers "A" to everything, in reverse order, and remembers each call's requests."""

    name: str = "recorder"
    adapter: str = "recorder"
    fingerprint: str = "recorder:1"
    settings: dict = field(default_factory=dict)
    calls: list[list[Request]] = field(default_factory=list)
    closed: int = 0
    stop_after: int | None = None  # Ctrl-C after this many answers

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        self.calls.append(list(requests))
        for n, request in enumerate(reversed(requests)):
            if self.stop_after is not None and n == self.stop_after:
                raise KeyboardInterrupt
            yield Response(text=request.options[0][0] if request.options else "A", request_id=request.id)

    def close(self) -> None:
        self.closed += 1


def _register(monkeypatch, model: Recorder, accepts=frozenset({"text", "image"})) -> None:
    entry = AdapterEntry(lambda t, o: model.fingerprint, lambda t, o: model, accepts=accepts)
    monkeypatch.setitem(registry.BUILTIN_ADAPTERS, "recorder", entry)


def test_the_adapter_sees_every_pending_request_at_once(tmp_path: Path, monkeypatch) -> None:
    model = Recorder()
    _register(monkeypatch, model)
    out = tmp_path / "o"
    result = kobench.evaluate("recorder:x", "kobench-demo", batch_size=4, cache_dir=tmp_path, output=out)
    assert [len(call) for call in model.calls] == [40]  # one call, not ten batches of four
    assert model.closed == 1
    # answered in reverse order, yet every answer is joined to its own row: "A" (the first option) is right
    # exactly where the target is A
    samples = [json.loads(line) for line in (tmp_path / "o" / "samples" / "kobench-demo.jsonl").open()]
    assert all(s["prediction"] == "A" and s["score"] == (1.0 if s["target"] == "A" else 0.0) for s in samples)
    expected = 100 * sum(s["target"] == "A" for s in samples) / len(samples)
    assert result.primary("kobench-demo").value == pytest.approx(expected)


def test_checkpoints_come_whatever_the_adapter_does(tmp_path: Path, monkeypatch) -> None:
    model = Recorder(stop_after=CHECKPOINT_EVERY + 5)
    _register(monkeypatch, model)
    out = tmp_path / "o"
    first = kobench.evaluate("recorder:x", "kobench-demo", cache_dir=tmp_path, output=out)
    assert first.status == "incomplete"
    kept = (out / "samples" / "kobench-demo.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(kept) == CHECKPOINT_EVERY + 5  # nothing that came back was lost, in one call of 40
    model.stop_after = None
    second = kobench.evaluate("recorder:x", "kobench-demo", cache_dir=tmp_path, output=out)
    assert second.status == "complete" and len(model.calls[-1]) == 40 - len(kept)


def test_api_concurrency_is_not_capped_by_the_batch_size(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(lambda body, i: Reply(text="A", delay=0.2)) as server:
        kobench.evaluate(
            f"openai:m@{server.base_url}",
            "kobench-demo",
            limit=32,
            batch_size=4,
            concurrency=32,
            cache_dir=tmp_path,
        )
        assert server.max_in_flight > 4


def test_a_request_that_needs_what_the_adapter_does_not_take_is_refused_first(tmp_path, monkeypatch) -> None:
    model = Recorder()
    _register(monkeypatch, model, accepts=frozenset({"text"}))
    with pytest.raises(BadInputError, match=r"accepts text only: kobench-demo needs image"):
        kobench.evaluate("recorder:x", "kobench-demo", cache_dir=tmp_path, output=tmp_path / "o")
    assert model.calls == [] and not (tmp_path / "o").exists()


# --- a request that carries an earlier answer (a second conversation turn) ---


def _turn(rid: str, text: str, after: str | None = None) -> Request:
    messages = [Message("user", (TextPart("첫 질문"),))] if after else []
    if after:
        messages.append(Message("assistant", (), answer_of=after))
    messages.append(Message("user", (TextPart(text),)))
    return Request(id=rid, messages=tuple(messages), generation=GenerationSettings(max_new_tokens=8))


@dataclass
class Echo:
    """Answers with the text of the conversation it saw; fails requests whose last text is 'fail'."""

    name: str = "echo"
    adapter: str = "echo"
    fingerprint: str = "echo:1"
    settings: dict = field(default_factory=dict)
    seen: list[list[str]] = field(default_factory=list)

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        self.seen.append([r.id for r in requests])
        for r in requests:
            if r.messages[-1].text == "fail":
                yield Response(text=None, error="failed on purpose", request_id=r.id)
            else:
                yield Response(text=" | ".join(f"{m.role}:{m.text}" for m in r.messages), request_id=r.id)


def test_a_second_turn_sees_the_first_answer(tmp_path: Path) -> None:
    model = Echo()
    responder = Responder(lambda: model, "echo", "echo:1", {}, ResponseCache(tmp_path / "c.sqlite"))
    requests = [
        _turn("t2", "두 번째", after="t1"),
        _turn("t1", "첫 질문"),
        _turn("u2", "또", after="u1"),
        _turn("u1", "fail"),
        _turn("x2", "고아", after="nowhere"),
    ]
    answers = {r.request_id: r for r in responder.answers(requests)}
    assert answers["t1"].text == "user:첫 질문"
    assert answers["t2"].text == "user:첫 질문 | assistant:user:첫 질문 | user:두 번째"
    assert answers["u2"].error == "the earlier turn u1 failed"
    assert "nowhere, which was not asked" in (answers["x2"].error or "")
    assert model.seen == [["t1", "u1"], ["t2"]]  # the second turn waited for the first
    # the second turn is cached with the answer it carried: asked again, nothing reaches the model
    again = Responder(lambda: model, "echo", "echo:1", {}, ResponseCache(tmp_path / "c.sqlite"))
    assert {r.request_id: r.text for r in again.answers(requests[:2])}["t2"] == answers["t2"].text
    assert model.seen == [["t1", "u1"], ["t2"]] and again.stats.cache_hits == 2


def test_an_adapter_answering_a_request_it_was_not_asked_is_an_error(tmp_path: Path) -> None:
    class Wrong(Echo):
        def generate(self, requests):
            yield Response(text="?", request_id="someone-else")

    responder = Responder(Wrong, "wrong", "wrong:1", {}, ResponseCache(None))
    with pytest.raises(RuntimeError, match="answered request 'someone-else'"):
        list(responder.answers([_turn("a", "질문")]))
