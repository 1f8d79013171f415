"""The OpenAI-compatible chat client against a real HTTP server on 127.0.0.1 (kobench.testing.fake_openai):
answers, every kind of retry, what is not retried, concurrency, stopping (close, a consumer that stops),
and the API key kept out of every text."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import io
import logging
import random
import socket
import threading
import time

import httpx2
import pytest
from PIL import Image

from kobench.errors import BadInputError
from kobench.llm.client import (
    ChatClient,
    ChatRequest,
    ChatResult,
    image_data_url,
    to_openai_messages,
)
from kobench.llm.client import (
    retry_after_seconds as parse_retry_after,
)
from kobench.llm.endpoint import DEFAULT_BASE_URL, Endpoint
from kobench.testing.fake_openai import FakeOpenAIServer, Reply
from kobench.types import ImagePart, ImageRef, Message, TextPart

SECRET = "sk-kobench-SECRET-7f3a9c"
HELLO = ChatRequest([{"role": "user", "content": "안녕하세요"}])


class Waits:
    """An injected (async) `sleep` that records the backoff waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client_for(server: FakeOpenAIServer, **kwargs: object) -> ChatClient:
    options: dict = {"backoff_base": 0.01, "backoff_max": 0.05, "timeout": 5.0, **kwargs}
    env = options.pop("api_key_env", "KOBENCH_TEST_NO_KEY")
    return ChatClient(Endpoint("test-model", server.base_url, env), **options)


def sequence(*replies: Reply):
    """A script answering the i-th call with replies[i], then "ok"."""
    return lambda body, index: replies[index] if index < len(replies) else Reply()


def echo(body: dict, index: int) -> Reply:
    return Reply(text="echo:" + body["messages"][-1]["content"], delay=0.2)


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOBENCH_TEST_NO_KEY", raising=False)


# --- answers ---


def test_answer_usage_and_body() -> None:
    with FakeOpenAIServer(sequence(Reply(text="정답은 B", usage=(42, 7))), model="served-snapshot") as server:
        with client_for(server) as client:
            result = client.chat(ChatRequest(HELLO.messages, temperature=0.2, max_tokens=16, stop=("\n",)))
        headers, body = server.requests[0]
    assert result == ChatResult(
        "정답은 B",
        None,
        42,
        7,
        attempts=1,
        seconds=result.seconds,
        model="served-snapshot",
        finish_reason="stop",
    )
    assert result.ok
    assert body == {
        "model": "test-model",
        "messages": HELLO.messages,
        "temperature": 0.2,
        "max_tokens": 16,
        "stop": ["\n"],
    }
    assert "Authorization" not in headers  # no key in the environment: none sent (vLLM needs none)


def test_extra_fields_are_sent() -> None:
    with FakeOpenAIServer() as server, client_for(server) as client:
        client.chat(ChatRequest(HELLO.messages, extra={"seed": 3, "top_p": 0.5}))
        body = server.requests[0][1]
    assert body["seed"] == 3 and body["top_p"] == 0.5 and "max_tokens" not in body and "stop" not in body


# --- retried ---


def test_429_retry_after_seconds_is_honoured() -> None:
    waits = Waits()
    with (
        FakeOpenAIServer(sequence(Reply.rate_limited(2.0))) as server,
        client_for(server, sleep=waits, backoff_max=60.0) as c,
    ):
        result = c.chat(HELLO)
    assert result.ok and result.attempts == 2 and server.calls == 2
    assert waits.waits == [2.0]  # the jitter (at most 0.01 s here) never shortens the server's wait


def test_429_retry_after_http_date_is_honoured() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    waits = Waits()
    replies = (Reply(status=429, text="slow down", headers={"Retry-After": when}),)
    with FakeOpenAIServer(sequence(*replies)) as server, client_for(server, sleep=waits, backoff_max=60) as c:
        assert c.chat(HELLO).ok
    assert len(waits.waits) == 1 and 28 <= waits.waits[0] <= 31


def test_retry_after_never_below_the_jittered_backoff() -> None:
    waits = Waits()
    with FakeOpenAIServer(sequence(Reply.rate_limited(0))) as server:
        client = client_for(server, sleep=waits, backoff_base=4.0, backoff_max=60.0, rng=random.Random(7))
        assert client.chat(HELLO).ok
    assert waits.waits == [pytest.approx(4.0 * random.Random(7).random())]


def test_retry_after_is_capped_at_max_retry_after(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kobench.llm.client")
    waits = Waits()
    later = email.utils.formatdate(time.time() + 7200, usegmt=True)
    replies = (Reply.rate_limited(3600), Reply(status=503, text="busy", headers={"Retry-After": later}))
    with FakeOpenAIServer(sequence(*replies)) as s, client_for(s, sleep=waits, max_retry_after=2.5) as c:
        result = c.chat(HELLO)
        report = c.report()
    assert result.ok and result.attempts == 3
    assert waits.waits == [2.5, 2.5]  # neither the hour asked in seconds nor the two asked by date
    assert "the server asked for 3600.0 s; capped at max_retry_after 2.5 s" in caplog.text
    # The first capped wait is a warning (shown without any logging set up), the second only logged.
    assert [r.levelno for r in caplog.records if "capped" in r.getMessage()] == [
        logging.WARNING,
        logging.INFO,
    ]
    assert report["max_retry_after"] == 2.5


def test_429_real_short_wait() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # really waits, and records what it was asked to wait
        waits.append(seconds)
        await asyncio.sleep(seconds)

    with (
        FakeOpenAIServer(sequence(Reply.rate_limited(0.3))) as server,
        client_for(server, sleep=sleep, backoff_max=5.0) as c,
    ):
        result = c.chat(HELLO)
    assert result.ok and result.attempts == 2
    assert len(waits) == 1 and waits[0] >= 0.3  # the server's Retry-After, not the 0.01 s backoff


def test_server_error_then_success() -> None:
    waits = Waits()
    with FakeOpenAIServer(sequence(Reply.server_error(), Reply(status=503, text="busy"))) as server:
        result = client_for(server, sleep=waits).chat(HELLO)
    assert result.ok and result.text == "ok" and result.attempts == 3 and server.calls == 3
    assert len(waits.waits) == 2 and waits.waits[0] <= 0.01 and waits.waits[1] <= 0.02  # base * 2**retry


def test_408_is_retried() -> None:
    with FakeOpenAIServer(sequence(Reply(status=408, text="request timeout"))) as server:
        result = client_for(server, sleep=Waits()).chat(HELLO)
    assert result.ok and result.attempts == 2


def test_dropped_connection_then_success() -> None:
    with FakeOpenAIServer(sequence(Reply(drop=True))) as server:
        result = client_for(server, sleep=Waits()).chat(HELLO)
    assert result.ok and result.attempts == 2 and server.calls == 2


def test_body_cut_short_then_success() -> None:
    cut = Reply(raw_body='{"choices": [', headers={"Content-Length": "500"})
    with FakeOpenAIServer(sequence(cut)) as server:
        result = client_for(server, sleep=Waits()).chat(HELLO)
    assert result.ok and result.attempts == 2


def test_timeout_then_success() -> None:
    with FakeOpenAIServer(sequence(Reply(hang=1.5))) as server:
        result = client_for(server, timeout=0.3).chat(HELLO)
        in_flight = server.max_in_flight
    assert result.ok and result.attempts == 2
    # The retry reached the server while the first attempt was still hanging: the client gave up on it
    # at its timeout instead of waiting for the hang to end.
    assert in_flight == 2


@pytest.mark.parametrize(
    "bad",
    [
        Reply(raw_body="<html>502 Bad Gateway</html>"),
        Reply(raw_body='{"choices": []}'),
        Reply(raw_body='{"choices": [{"message": {"content": 3}}]}'),
        Reply(raw_body='{"error": {"message": "upstream overloaded"}}'),
        Reply(raw_body="[1, 2]"),
    ],
    ids=["html", "no-choices", "content-not-text", "error-in-200", "not-object"],
)
def test_malformed_200_body_is_retried(bad: Reply) -> None:
    waits = Waits()
    with FakeOpenAIServer(sequence(bad)) as server:
        result = client_for(server, sleep=waits).chat(HELLO)
    assert result.ok and result.text == "ok" and result.attempts == 2 and len(waits.waits) == 1


def test_refusal_and_missing_content_are_answers() -> None:
    refusal = '{"choices": [{"message": {"content": null, "refusal": "I cannot help"}}]}'
    empty = '{"choices": [{"message": {"content": null}}]}'
    with FakeOpenAIServer(sequence(Reply(raw_body=refusal), Reply(raw_body=empty))) as server:
        client = client_for(server)
        first, second = client.chat(HELLO), client.chat(HELLO)
    assert (first.text, first.attempts, first.prompt_tokens) == ("I cannot help", 1, 0)
    assert (second.text, second.attempts) == ("", 1)


def test_connection_refused_gives_up_with_count() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ChatClient(Endpoint("m", f"http://127.0.0.1:{port}/v1"), max_retries=2, sleep=Waits())
    result = client.chat(HELLO)
    assert not result.ok and result.attempts == 3
    assert result.error is not None and "connection failed" in result.error
    assert result.error.endswith("after 3 attempts")


def test_gives_up_after_max_retries() -> None:
    waits = Waits()
    with FakeOpenAIServer(lambda body, i: Reply.server_error()) as server:
        result = client_for(server, max_retries=3, sleep=waits, backoff_base=1.0, backoff_max=3.0).chat(HELLO)
    assert result.text is None and result.attempts == 4 and server.calls == 4
    server_said = "The server had an error while processing your request"
    assert result.error == f"HTTP 500 Internal Server Error: {server_said} after 4 attempts"
    caps = [1.0, 2.0, 3.0]  # min(backoff_max, backoff_base * 2**retry)
    assert len(waits.waits) == 3 and all(0 <= w <= cap for w, cap in zip(waits.waits, caps, strict=True))


def test_max_retries_zero_means_one_attempt() -> None:
    with FakeOpenAIServer(lambda body, i: Reply.rate_limited(5)) as server:
        result = client_for(server, max_retries=0, sleep=Waits()).chat(HELLO)
    assert result.attempts == 1 and server.calls == 1 and result.error is not None
    assert result.error.startswith("HTTP 429") and result.error.endswith("after 1 attempts")


# --- not retried ---


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    waits = Waits()
    with FakeOpenAIServer(lambda body, i: Reply(status=status, text="max_tokens is too large")) as server:
        result = client_for(server, sleep=waits).chat(HELLO)
    assert result.text is None and result.attempts == 1 and server.calls == 1 and waits.waits == []
    assert result.error is not None
    assert result.error.startswith(f"HTTP {status}") and "max_tokens is too large" in result.error


def test_error_message_from_a_plain_text_body() -> None:
    with FakeOpenAIServer(lambda body, i: Reply(status=404, raw_body="model not found here")) as server:
        result = client_for(server).chat(HELLO)
    assert result.error == "HTTP 404 Not Found: model not found here"


def test_401_names_the_variable_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOBENCH_JUDGE_KEY", SECRET)
    # OpenAI's own 401 echoes (part of) the key it refused: the client must not pass it on.
    refused = Reply(status=401, text=f"Incorrect API key provided: {SECRET}.")
    with FakeOpenAIServer(lambda body, i: refused) as server:
        result = client_for(server, api_key_env="KOBENCH_JUDGE_KEY").chat(HELLO)
        unset = client_for(server).chat(HELLO)
    assert result.attempts == 1 and result.error is not None
    assert "$KOBENCH_JUDGE_KEY was refused" in result.error and SECRET not in result.error
    assert "Incorrect API key provided: ***" in result.error
    assert unset.error is not None and "$KOBENCH_TEST_NO_KEY is not set" in unset.error


def test_unencodable_request_fails_without_raising() -> None:
    with FakeOpenAIServer() as server:
        result = client_for(server).chat(ChatRequest([{"role": "user", "content": object()}]))
        assert server.calls == 0
    assert not result.ok and result.attempts == 0 and "JSON" in (result.error or "")


# --- the key ---


def test_key_is_sent_but_never_shown(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("KOBENCH_JUDGE_KEY", SECRET)
    caplog.set_level(logging.DEBUG)  # httpx's and httpcore's own debug logs included
    leaky = Reply(status=500, text=f"upstream rejected key {SECRET}")
    with FakeOpenAIServer(sequence(leaky, leaky, Reply(drop=True))) as server:
        endpoint = Endpoint.parse(f"test-model@{server.base_url}", api_key_env="KOBENCH_JUDGE_KEY")
        client = ChatClient(endpoint, backoff_base=0.01, max_retries=1)
        print(client, endpoint, client.chat(HELLO), client.chat(HELLO))
        failed = client.chat(ChatRequest([{"role": "user", "content": "x"}], extra={"n": object()}))
        results = client.chat_many([HELLO, HELLO])
        headers = [h for h, _ in server.requests]
        texts = [repr(client), repr(endpoint), endpoint.identity(), repr(failed), repr(results)]
        client.close()
    assert headers and all(h["authorization"] == f"Bearer {SECRET}" for h in headers)
    assert "retry 1 of 1" in caplog.text  # the retries were logged...
    out, err = capsys.readouterr()
    assert "upstream rejected key ***" in out  # ...and the server's echo of the key was redacted
    for text in [*texts, caplog.text, out, err]:
        assert SECRET not in text


def test_no_authorization_header_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK's own variables must not stand in for the endpoint's: OpenAI's key is not the local server's.
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-kobench-test")
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", f"Authorization: Bearer {SECRET}")
    with FakeOpenAIServer() as server, client_for(server) as client:  # $KOBENCH_TEST_NO_KEY is unset
        assert client.chat(HELLO).ok
        headers = server.requests[0][0]
    assert "Authorization" not in headers and "OpenAI-Organization" not in headers
    assert SECRET not in repr(dict(headers))
    assert headers["user-agent"].startswith("kobench/")


# --- concurrency ---


def test_chat_many_overlaps_and_keeps_order() -> None:
    requests = [ChatRequest([{"role": "user", "content": str(i)}]) for i in range(16)]
    with FakeOpenAIServer(echo) as server, client_for(server, concurrency=8) as client:
        results = client.chat_many(requests)
        in_flight = server.max_in_flight
    assert [r.text for r in results] == [f"echo:{i}" for i in range(16)]
    assert in_flight >= 6  # requests really overlapped (timings belong to bench/judge_speed.py)


def test_concurrency_one_is_serial() -> None:
    requests = [ChatRequest([{"role": "user", "content": str(i)}]) for i in range(6)]
    with FakeOpenAIServer(echo) as server, client_for(server, concurrency=1) as client:
        results = client.chat_many(requests)
        assert server.max_in_flight == 1
    assert [r.text for r in results] == [f"echo:{i}" for i in range(6)]


def test_on_done_sees_every_result_once() -> None:
    seen: dict[int, ChatResult] = {}
    lock = threading.Lock()

    def on_done(i: int, result: ChatResult) -> None:
        with lock:
            assert i not in seen
            seen[i] = result

    def script(body: dict, index: int) -> Reply:
        text = body["messages"][-1]["content"]
        return Reply(status=400, text="bad") if text == "3" else Reply(text=text, delay=random.random() / 20)

    requests = [ChatRequest([{"role": "user", "content": str(i)}]) for i in range(10)]
    with FakeOpenAIServer(script) as server, client_for(server, concurrency=4) as client:
        results = client.chat_many(requests, on_done=on_done)
    assert seen == dict(enumerate(results))
    assert [r.ok for r in results] == [i != 3 for i in range(10)]
    assert client.chat_many([]) == []


def test_on_done_exception_propagates() -> None:
    def on_done(i: int, result: ChatResult) -> None:
        raise RuntimeError("progress bar broke")

    with FakeOpenAIServer() as server, client_for(server, concurrency=2) as client:
        with pytest.raises(RuntimeError, match="progress bar broke"):
            client.chat_many([HELLO] * 20, on_done=on_done)
        assert server.calls < 20  # the requests not yet started were dropped


def test_chat_from_many_threads_at_once() -> None:
    results: dict[int, ChatResult] = {}

    def ask(i: int) -> None:
        results[i] = client.chat(ChatRequest([{"role": "user", "content": str(i)}]))

    with FakeOpenAIServer(echo) as server, client_for(server, concurrency=4) as client:
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        in_flight = server.max_in_flight
    assert {i: r.text for i, r in results.items()} == {i: f"echo:{i}" for i in range(12)}
    assert 2 <= in_flight <= 4  # they overlapped, within the one limit all threads share


# --- stopping ---


def test_close_during_a_long_backoff_returns_promptly_with_the_request_failed() -> None:
    done: list[ChatResult] = []
    with FakeOpenAIServer(lambda body, i: Reply.rate_limited(3600)) as server:
        client = client_for(server, max_retry_after=600.0, sleep=asyncio.sleep)  # it would wait 10 minutes
        asker = threading.Thread(target=lambda: done.append(client.chat(HELLO)))
        asker.start()
        deadline = time.monotonic() + 10
        while server.calls < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # into the backoff
        client.close()
        asker.join(timeout=5)
        assert not asker.is_alive(), "close() left the request waiting out its backoff"
        assert server.calls == 1  # no attempt after the close
        later = client.chat(HELLO)
    (result,) = done
    assert not result.ok and result.attempts == 1 and result.error is not None
    assert result.error.startswith("HTTP 429") and "gave up: the client was closed" in result.error
    assert later.error == "not sent: the client was closed" and later.attempts == 0


def test_close_cancels_requests_in_flight_and_a_stream_hands_out_every_failure() -> None:
    with FakeOpenAIServer(lambda body, i: Reply(hang=60)) as server:
        client = client_for(server, concurrency=3, timeout=120.0)
        requests = [ChatRequest([{"role": "user", "content": str(i)}]) for i in range(8)]
        stream = client.chat_stream(requests)
        closer = threading.Timer(0.5, client.close)
        closer.start()
        results = dict(stream)  # would take minutes if the hanging requests were waited for
        closer.join()
        assert server.calls == 3  # the three in flight; the rest were never sent
    assert sorted(results) == list(range(8)) and not any(r.ok for r in results.values())
    sent = [r for r in results.values() if r.attempts == 1]
    assert len(sent) == 3 and all("gave up: the client was closed" in (r.error or "") for r in sent)


@pytest.mark.parametrize("interrupt", [RuntimeError, KeyboardInterrupt])
def test_a_consumer_that_stops_cancels_what_is_in_flight(interrupt: type[BaseException]) -> None:
    def script(body: dict, index: int) -> Reply:
        return Reply(text="fast") if body["messages"][-1]["content"] == "0" else Reply(hang=60)

    def on_done(i: int, result: ChatResult) -> None:
        raise interrupt("stop")

    requests = [ChatRequest([{"role": "user", "content": str(i)}]) for i in range(10)]
    with FakeOpenAIServer(script) as server, client_for(server, concurrency=4, timeout=120.0) as client:
        with pytest.raises(interrupt):
            client.chat_many(requests, on_done=on_done)
        time.sleep(0.3)  # a request sent just before the stop may reach the server just after it
        calls = server.calls
        time.sleep(0.3)
        assert server.calls == calls <= 5  # the four first, perhaps a fifth sent before the stop; no more
        # The client still works: the hanging requests gave their slots back when cancelled.
        assert client.limit._in_flight == 0
        assert client.chat(ChatRequest([{"role": "user", "content": "0"}])).text == "fast"


# --- parsing helpers ---


@pytest.mark.parametrize(
    ("spec", "model", "base_url"),
    [
        ("gpt-4o", "gpt-4o", DEFAULT_BASE_URL),
        (
            "Qwen/Qwen2-VL-7B-Instruct@http://localhost:8000/v1",
            "Qwen/Qwen2-VL-7B-Instruct",
            "http://localhost:8000/v1",
        ),
        ("m@https://example.com/v1/", "m", "https://example.com/v1"),
        ("org/m@v2@http://10.0.0.1:8000/v1", "org/m@v2", "http://10.0.0.1:8000/v1"),
        ("org/m@v2", "org/m@v2", DEFAULT_BASE_URL),
        ("  gpt-4o-mini  ", "gpt-4o-mini", DEFAULT_BASE_URL),
    ],
)
def test_endpoint_parse(spec: str, model: str, base_url: str) -> None:
    endpoint = Endpoint.parse(spec, api_key_env="MY_KEY")
    assert (endpoint.model, endpoint.base_url, endpoint.api_key_env) == (model, base_url, "MY_KEY")
    assert endpoint.identity() == f"{model}@{base_url}"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "no model id"),
        ("@http://localhost:8000/v1", "no model id"),
        ("gpt-4o@localhost:8000/v1", "must start with http://"),
        ("my model@http://localhost:8000/v1", "whitespace"),
        ("m@http://user:pw@host/v1", "credentials"),
        ("m@http://localhost:8000/v1/chat/completions", "not the /chat/completions"),
        ("m@http:///v1", "not an http"),
    ],
)
def test_endpoint_parse_rejects(spec: str, says: str) -> None:
    with pytest.raises(BadInputError, match=says) as caught:
        Endpoint.parse(spec)
    assert "localhost:8000/v1" in str(caught.value)  # the message shows an example


def test_endpoint_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = Endpoint("m", DEFAULT_BASE_URL, "KOBENCH_JUDGE_KEY")
    monkeypatch.delenv("KOBENCH_JUDGE_KEY", raising=False)
    assert endpoint.api_key() is None
    monkeypatch.setenv("KOBENCH_JUDGE_KEY", "")
    assert endpoint.api_key() is None
    monkeypatch.setenv("KOBENCH_JUDGE_KEY", SECRET)
    assert endpoint.api_key() == SECRET and SECRET not in repr(endpoint)
    with pytest.raises(BadInputError):
        Endpoint.parse("m", api_key_env="NOT A NAME")


def test_retry_after_parsing() -> None:
    soon = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert parse_retry_after(httpx2.Headers({"Retry-After": "7"})) == 7.0
    assert parse_retry_after(httpx2.Headers({"Retry-After": "1.5"})) == 1.5
    assert 8 <= (parse_retry_after(httpx2.Headers({"Retry-After": soon})) or 0) <= 11
    assert parse_retry_after(httpx2.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert parse_retry_after(httpx2.Headers({"retry-after-ms": "250", "Retry-After": "9"})) == 0.25
    assert parse_retry_after(httpx2.Headers({"Retry-After": "soon"})) is None
    assert parse_retry_after(httpx2.Headers({})) is None


def _encoded(fmt: str, mode: str = "RGB") -> bytes:
    img = Image.new(mode, (9, 7), "red" if mode == "RGB" else 128)
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_image_data_url_round_trips(fmt: str, mime: str) -> None:
    data = _encoded(fmt)
    url = image_data_url(ImageRef(data=data))
    prefix = f"data:{mime};base64,"
    assert url.startswith(prefix) and base64.b64decode(url[len(prefix) :]) == data


def test_image_data_url_reencodes_other_formats(tmp_path) -> None:
    path = tmp_path / "page.bmp"
    path.write_bytes(_encoded("BMP"))
    url = image_data_url(ImageRef(path=str(path)))
    assert url.startswith("data:image/png;base64,")
    png = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert png.format == "PNG" and png.size == (9, 7) and png.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    with pytest.raises(ValueError, match="not a readable image"):
        image_data_url(ImageRef(data=b"not an image at all"))


def test_to_openai_messages() -> None:
    first, second = ImageRef(data=_encoded("PNG")), ImageRef(data=_encoded("JPEG"))
    messages = (
        Message("system", (TextPart("한국어로 답하세요."),)),
        Message("user", (ImagePart(first), TextPart("두 그림의 차이는?"), ImagePart(second), TextPart(""))),
        Message("assistant", (TextPart("A"), TextPart("B"))),
    )
    out = to_openai_messages(messages)
    assert out[0] == {"role": "system", "content": "한국어로 답하세요."}
    assert [p["type"] for p in out[1]["content"]] == ["image_url", "text", "image_url"]
    assert out[1]["content"][0]["image_url"]["url"] == image_data_url(first)
    assert out[1]["content"][1] == {"type": "text", "text": "두 그림의 차이는?"}
    assert out[1]["content"][2]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert out[2] == {"role": "assistant", "content": "AB"}
