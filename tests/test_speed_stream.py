"""Streamed timings (kobench.speed.stream) against the fake server on 127.0.0.1: the first token and the
end as the stream delivers them, the usage chunk's counts, the concurrency cap, failures as timings."""

from __future__ import annotations

import io
import itertools
import json

import httpx2
import pytest
from PIL import Image

from kobench.errors import BadInputError
from kobench.llm.endpoint import Endpoint
from kobench.speed.stream import (
    StreamTiming,
    stream_client,
    stream_client_for,
    stream_many,
    stream_one,
    stream_requests,
)
from kobench.testing.fake_openai import FakeOpenAIServer, Reply
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

HELLO = [{"role": "user", "content": "안녕?"}]


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def client_for(server: FakeOpenAIServer):
    return stream_client_for(f"openai:vlm@{server.base_url}")


def counter(step: float = 1.0):
    """A fake timer: 0, step, 2*step, ... one value a read."""
    values = itertools.count()
    return lambda: next(values) * step


def test_the_server_streams_as_servers_do() -> None:
    reply = Reply(text="ab", usage=(7, 2))
    with FakeOpenAIServer(lambda body, i: reply) as server:
        body = {"model": "m", "messages": HELLO, "stream": True, "stream_options": {"include_usage": True}}
        response = httpx2.post(f"{server.base_url}/chat/completions", json=body, trust_env=False)
        plain = httpx2.post(f"{server.base_url}/chat/completions", json={**body, "stream": False})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:3]] == ["a", "b"]
    assert chunks[3]["choices"][0]["finish_reason"] == "stop"
    assert chunks[4]["choices"] == []
    assert chunks[4]["usage"] == {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    assert all(c["usage"] is None for c in chunks[:4])
    # Without "stream": true the answer is the one JSON completion, as before.
    assert plain.headers["content-type"] == "application/json"
    assert plain.json()["choices"][0]["message"]["content"] == "ab"


def test_first_token_before_the_end_with_the_usage_counts() -> None:
    reply = Reply(text="서울입니다", usage=(42, 5))
    with FakeOpenAIServer(lambda body, i: reply) as server:
        client, model = client_for(server)
        # The timer counts its own readings (no wall clock): the first token is read after the start and
        # the end after the first token.
        ticks = itertools.count()
        timing = stream_one(client, model, HELLO, 16, temperature=0.0, timer=lambda: float(next(ticks)))
        body = server.requests[0][1]
    assert timing.ok and timing.text == "서울입니다"
    assert timing.ttft_s is not None and 0 < timing.ttft_s < timing.latency_s
    assert (timing.prompt_tokens, timing.completion_tokens) == (42, 5)
    assert model == "vlm"
    assert (body["model"], body["stream"], body["max_tokens"], body["temperature"]) == ("vlm", True, 16, 0.0)
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == HELLO


class _CountedStream:
    """The real stream, counting the chunks the client has taken from it."""

    def __init__(self, stream) -> None:
        self.stream, self.taken = stream, 0

    def __enter__(self) -> _CountedStream:
        self.stream.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.stream.__exit__(*exc)

    def __iter__(self):
        for chunk in self.stream:
            self.taken += 1
            yield chunk


@pytest.mark.parametrize(("reply", "first"), [(Reply(text="abcd"), 2), (Reply(text="ab", reasoning="xy"), 2)])
def test_the_first_token_clock_reads_at_the_first_piece_and_the_end_after_the_last(
    reply: Reply, first: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the clock is read, by behaviour: the timer gives the number of chunks taken from the real
    stream so far, so the readings say after which chunk each was made (no wall clock)."""
    streams: list[_CountedStream] = []
    with FakeOpenAIServer(lambda body, i: reply) as server:
        client, model = client_for(server)
        create = client.chat.completions.create

        def counted(**options):
            streams.append(_CountedStream(create(**options)))
            return streams[-1]

        def taken() -> float:
            return float(streams[-1].taken if streams else 0)

        monkeypatch.setattr(client.chat.completions, "create", counted)
        timing = stream_one(client, model, HELLO, 16, timer=taken)
    # Chunks: the role (no text: not a token), the pieces (reasoning ones are tokens too), the finish, the
    # usage. The first token is read on the first piece; the end once the last chunk is in.
    pieces = len(reply.reasoning) + len(reply.text)
    assert timing.ok and timing.ttft_s == first
    assert timing.latency_s == streams[0].taken == 1 + pieces + 2


def test_chosen_pieces_and_reasoning_count_as_tokens_the_role_chunk_does_not() -> None:
    with FakeOpenAIServer(lambda body, i: Reply(text="", chunks=("안녕", "하세요"))) as server:
        client, model = client_for(server)
        pieces = stream_one(client, model, HELLO, 16)
    assert pieces.text == "안녕하세요" and pieces.ttft_s is not None
    with FakeOpenAIServer(lambda body, i: Reply(text="")) as server:
        client, model = client_for(server)
        empty = stream_one(client, model, HELLO, 16)
    assert empty.ok and empty.text == "" and empty.ttft_s is None  # only the role chunk's empty content
    assert empty.completion_tokens == 5
    with FakeOpenAIServer(lambda body, i: Reply(text="", reasoning="생각")) as server:
        client, model = client_for(server)
        thinking = stream_one(client, model, HELLO, 16)
    assert thinking.ok and thinking.text == "" and thinking.ttft_s is not None


def test_no_usage_chunk_leaves_the_counts_unknown() -> None:
    with FakeOpenAIServer(lambda body, i: Reply(text="ok", usage=None)) as server:
        client, model = client_for(server)
        silent = stream_one(client, model, HELLO, 16)
        # A caller's own stream_options replace the usage request: the server then sends none.
        unasked = stream_one(client, model, HELLO, 16, stream_options={"include_usage": False})
        body = server.requests[1][1]
    for timing in (silent, unasked):
        assert timing.ok and timing.text == "ok"
        assert (timing.prompt_tokens, timing.completion_tokens) == (None, None)
    assert body["stream_options"] == {"include_usage": False}


def test_the_injected_timer_gives_exact_values() -> None:
    with FakeOpenAIServer(lambda body, i: Reply(text="abc")) as server:
        client, model = client_for(server)
        reads = iter([100.0, 100.25, 101.5])
        timing = stream_one(client, model, HELLO, 16, timer=lambda: next(reads))
        timings, wall = stream_many(client, model, [HELLO, HELLO], 16, 1, timer=counter(0.5))
    assert (timing.ttft_s, timing.latency_s, timing.started_s) == (0.25, 1.5, 100.0)
    # One at a time: the set's start (0), then each request's send, first token and end, then the set's end.
    assert [(t.started_s, t.ttft_s, t.latency_s) for t in timings] == [(0.5, 0.5, 1.0), (2.0, 0.5, 1.0)]
    assert wall == 3.5


def test_many_keep_the_input_order_with_at_most_concurrency_in_flight() -> None:
    def script(body: dict, index: int) -> Reply:
        n = int(body["messages"][-1]["content"])
        return Reply(text=f"answer {n}", first_token_delay=0.02 * (6 - n), usage=(n, n + 1))

    conversations = [[{"role": "user", "content": str(n)}] for n in range(6)]
    with FakeOpenAIServer(script) as server:
        client, model = client_for(server)
        ticks = itertools.count()  # readings counted, not timed: each request's and the whole run's order
        timings, wall = stream_many(client, model, conversations, 8, 2, timer=lambda: float(next(ticks)))
        assert server.max_in_flight == 2
        one_by_one, _ = stream_many(client, model, conversations[:3], 8, 1)
        assert server.max_in_flight == 2  # never more than asked, whatever came before
    assert [t.text for t in timings] == [f"answer {n}" for n in range(6)]
    assert [(t.prompt_tokens, t.completion_tokens) for t in timings] == [(n, n + 1) for n in range(6)]
    assert all(t.ok and t.ttft_s is not None and t.ttft_s < t.latency_s for t in timings)
    assert wall >= max(t.latency_s for t in timings)
    assert [t.text for t in one_by_one] == ["answer 0", "answer 1", "answer 2"]
    assert stream_many(client, model, [], 8, 4) == ([], 0.0)
    with pytest.raises(ValueError, match="concurrency"):
        stream_many(client, model, conversations, 8, 0)


def test_failures_are_timings_with_an_error_not_exceptions() -> None:
    def script(body: dict, index: int) -> Reply:
        what = body["messages"][-1]["content"]
        if what == "500":
            return Reply.server_error()
        if what == "429":
            return Reply.rate_limited(1)
        if what == "cut":
            return Reply(text="abcdef", cut_after=3)
        return Reply(text="fine")

    asked = ["500", "ok", "429", "cut"]
    with FakeOpenAIServer(script) as server:
        client, model = client_for(server)
        timings, _ = stream_many(client, model, [[{"role": "user", "content": a}] for a in asked], 8, 4)
        assert server.calls == 4  # nothing retried: a retry would be timed as one slow request
    error, fine, limited, cut = timings
    assert error.error is not None and error.error.startswith("HTTP 500")
    assert "The server had an error" in error.error
    assert (error.ttft_s, error.completion_tokens, error.text) == (None, None, "")
    assert fine.ok and fine.text == "fine"
    assert limited.error is not None and "HTTP 429" in limited.error
    assert cut.error is not None and "connection" in cut.error
    assert cut.text == "abc" and cut.ttft_s is not None and cut.completion_tokens is None


def test_a_refused_connection_is_a_timing_too() -> None:
    with FakeOpenAIServer() as server:
        url = server.base_url
    client, model = stream_client_for(f"openai:vlm@{url}", timeout=5.0)
    timing = stream_one(client, model, HELLO, 16)
    assert isinstance(timing, StreamTiming)
    assert timing.error is not None and timing.error.startswith("connection failed")


def test_the_key_goes_as_the_chat_client_sends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-not-for-this-server")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-not-for-this-server")
    monkeypatch.setenv("MY_KEY", "sk-secret-speed")

    def script(body: dict, index: int) -> Reply:
        return Reply(status=401, text="bad key sk-secret-speed") if index == 2 else Reply(text="ok")

    with FakeOpenAIServer(script) as server:
        keyless, model = client_for(server)
        stream_one(keyless, model, HELLO, 4)
        keyed = stream_client(Endpoint.parse(f"vlm@{server.base_url}", "MY_KEY"))
        stream_one(keyed, model, HELLO, 4)
        refused = stream_one(keyed, model, HELLO, 4)
        (no_key, _), (with_key, _) = server.requests[:2]
    assert "authorization" not in no_key
    assert with_key["Authorization"] == "Bearer sk-secret-speed"
    for headers in (no_key, with_key):
        assert "openai-organization" not in headers and "openai-project" not in headers
        assert headers["User-Agent"].startswith("kobench/")
    assert refused.error is not None and "HTTP 401" in refused.error
    assert "sk-secret" not in refused.error and "***" in refused.error


def test_specs_are_parsed_as_the_openai_adapter_parses_them() -> None:
    client, model = stream_client_for("openai:Qwen/Qwen2-VL-7B-Instruct@http://localhost:8000/v1/")
    assert model == "Qwen/Qwen2-VL-7B-Instruct"
    assert str(client.base_url).rstrip("/") == "http://localhost:8000/v1"
    assert client.max_retries == 0
    assert stream_client_for("openai:gpt-4o")[1] == "gpt-4o"
    for bad in ("vllm:Qwen/Qwen2-VL-2B-Instruct", "hf:./model", "openai:", "gpt-4o"):
        with pytest.raises(BadInputError, match="openai:MODEL"):
            stream_client_for(bad)
    with pytest.raises(BadInputError, match="http:// or https://"):
        stream_client_for("openai:gpt-4o@localhost:8000/v1")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_kobench_requests_go_as_the_adapter_sends_them() -> None:
    pictured = Request(
        id="r1",
        messages=(Message("user", (ImagePart(ImageRef(data=png())), TextPart("무슨 색?"))),),
        generation=GenerationSettings(max_new_tokens=7, temperature=0.5, stop=("\n\n",)),
    )
    broken = Request(
        id="r2",
        messages=(Message("user", (ImagePart(ImageRef(data=b"not an image")), TextPart("?"))),),
        generation=GenerationSettings(max_new_tokens=3),
    )
    with FakeOpenAIServer(lambda body, i: Reply(text="빨강")) as server:
        client, model = client_for(server)
        timings, _ = stream_requests(client, model, [pictured, broken], 2)
        [(_, body)] = server.requests
    sent, unsent = timings
    assert sent.ok and sent.text == "빨강"
    image, text = body["messages"][0]["content"]
    assert image["image_url"]["url"].startswith("data:image/png;base64,")
    assert text == {"type": "text", "text": "무슨 색?"}
    assert (body["max_tokens"], body["temperature"], body["stop"]) == (7, 0.5, ["\n\n"])
    assert unsent.error is not None and unsent.error.startswith("request not sent")
