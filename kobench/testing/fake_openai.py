"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benches: scripted answers, errors,
delays, dropped connections and malformed bodies, so the client's retries run against real sockets.

    def script(body: dict, index: int) -> Reply:       # index: 0-based, in arrival order
        return Reply.server_error() if index == 0 else Reply(text="B")

    with FakeOpenAIServer(script) as server:
        client = ChatClient(Endpoint("m", server.base_url))
        ...
        server.requests       # [(headers, body), ...] in arrival order; header names in any case
        server.max_in_flight  # the most requests it was answering at once
        server.disconnected   # indices of the requests whose client closed the connection during a wait

POST /v1/chat/completions answers as the script says; GET /v1/models lists one model. A request with
`"stream": true` is answered as servers stream (server-sent events, chunked): a chunk with the role, the
content a piece a chunk, one with the finish reason, the usage chunk when `stream_options.include_usage`
asks for it, then `data: [DONE]`. Errors, drops and raw bodies answer a streaming request as any other.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar


@dataclass
class Reply:
    """How to answer one request. `text` is the completion, or the error message when `status` is not 2xx.
    `headers` are sent as given (a Content-Length here replaces the real one: a truncated body).
    `delay` and `hang` both wait before answering; `hang` is meant to outlast the client's timeout. A client
    that closes the connection during either wait is recorded (`server.disconnected`); the wait goes on.
    `drop` closes the connection without a response; `raw_body` replaces the JSON body (a malformed one).
    `usage` is (prompt_tokens, completion_tokens) (None: no usage block, in a stream no usage chunk either);
    `finish_reason` is sent as given (None: left out). `reasoning` is a reasoning model's thinking, sent as
    `reasoning_content` (a stream sends it a character a chunk before the content).

    Streaming only: `chunks` are the content's pieces, a chunk each (None: `text` a character a chunk);
    `first_token_delay` is waited after the role chunk went out and before the first piece (the prefill),
    `chunk_delay` before every later piece; `cut_after` ends the stream after that many pieces (reasoning
    ones included) with the connection closed, no finish, usage or [DONE] (a server dying mid-answer)."""

    text: str = "ok"
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    hang: float = 0.0
    raw_body: str | None = None
    usage: tuple[int, int] | None = (10, 5)
    finish_reason: str | None = "stop"
    reasoning: str = ""
    chunks: tuple[str, ...] | None = None
    first_token_delay: float = 0.0
    chunk_delay: float = 0.0
    cut_after: int | None = None

    @classmethod
    def rate_limited(cls, retry_after: float) -> Reply:
        return cls(text="Rate limit reached", status=429, headers={"Retry-After": f"{retry_after:g}"})

    @classmethod
    def server_error(cls) -> Reply:
        return cls(text="The server had an error while processing your request", status=500)


class Headers(dict):
    """A request's headers as a dict with lower-case names, looked up in any case (as HTTP names are)."""

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name.lower() if isinstance(name, str) else name)

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


def default_script(body: dict, index: int) -> Reply:
    return Reply()


@dataclass
class Capacity:
    """A server that answers at most `capacity` requests at once, each in `delay` seconds, and refuses
    the rest at once with a 429 (`retry_after`: its Retry-After, None: none): an API's rate limit, or a
    server with a fixed number of slots. Attach it after the server exists:
    `server.script = Capacity(server, 16, 0.05)`."""

    server: FakeOpenAIServer
    capacity: int
    delay: float
    retry_after: float | None = None
    refused: int = 0

    def __call__(self, body: dict, index: int) -> Reply:
        if self.server.in_flight > self.capacity:
            self.refused += 1
            headers = {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
            return Reply(text="Rate limit reached", status=429, headers=headers)
        return Reply(text="B", delay=self.delay)


class FakeOpenAIServer:
    """ThreadingHTTPServer on ("127.0.0.1", free port), serving from a background thread from construction
    until close() (or the end of a `with` block). `model`: the model id it reports (default: echo the
    request's)."""

    def __init__(
        self, script: Callable[[dict, int], Reply] | None = None, *, model: str | None = None, port: int = 0
    ) -> None:
        self.script = script or default_script
        self.model = model
        self.requests: list[tuple[Headers, dict]] = []
        self.max_in_flight = 0
        self.disconnected: list[int] = []
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.fake = self
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> FakeOpenAIServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def in_flight(self) -> int:
        """Requests being answered now (a script sees its own request counted)."""
        with self._lock:
            return self._in_flight

    def _begin(self, headers: Headers, body: dict) -> int:
        with self._lock:
            index = len(self.requests)
            self.requests.append((headers, body))
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            return index

    def _end(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _gone(self, index: int) -> None:
        with self._lock:
            self.disconnected.append(index)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hanging handler never blocks close()
    request_queue_size = 128  # the default backlog of 5 makes bursts of connects wait for SYN retries
    fake: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away is no error
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers: the client's connection pool is exercised
    # Headers and body go out in two writes; with Nagle's algorithm the body waits for the client's delayed
    # ACK (about 40 ms a call on Linux loopback), which no real server adds.
    disable_nagle_algorithm = True
    server: _Server
    error_types: ClassVar[dict[int, str]] = {
        400: "invalid_request_error",
        401: "invalid_api_key",
        404: "not_found_error",
        429: "rate_limit_exceeded",
    }
    _answering = False  # this connection's request is counted in the server's in_flight

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests instead
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            model = self.server.fake.model or "fake-model"
            self._send(
                200, {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "kobench"}]}
            )
        else:
            self._send(404, _error(f"no route GET {self.path}", "not_found_error", 404))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, _error(f"no route POST {self.path}", "not_found_error", 404))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        fake = self.server.fake
        headers = Headers((k.lower(), v) for k, v in self.headers.items())
        index = fake._begin(headers, body if isinstance(body, dict) else {})
        self._answering = True
        try:
            if not isinstance(body, dict):
                self._send(400, _error("the body is not a JSON object", "invalid_request_error", 400))
                return
            try:
                reply = fake.script(body, index)
            except Exception as exc:  # a broken script shows up in the client's error, not as a hang
                reply = Reply(status=500, text=f"fake server script failed: {type(exc).__name__}: {exc}")
            self._answer(reply, body, index)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timed out) while we hung
        finally:
            self._answered()

    def _answered(self) -> None:
        """Out of the server's in_flight just before a response's last bytes go out: with them the client may
        send its next request at once, before this thread has come back from writing them (the count once
        read one too many under load)."""
        if self._answering:
            self._answering = False
            self.server.fake._end()

    def _answer(self, reply: Reply, body: dict, index: int) -> None:
        if reply.delay or reply.hang:
            self._wait(reply.delay + reply.hang, index)
        if reply.drop:
            self.close_connection = True  # the socket closes with nothing written
            return
        if reply.raw_body is not None:
            self._send(reply.status, reply.raw_body, reply.headers)
        elif 200 <= reply.status < 300 and body.get("stream") is True:
            self._stream(reply, body, index)
        elif 200 <= reply.status < 300:
            self._send(reply.status, self._completion(reply, body, index), reply.headers)
        else:
            kind = self.error_types.get(reply.status, "server_error")
            self._send(reply.status, _error(reply.text, kind, reply.status), reply.headers)

    def _wait(self, seconds: float, index: int) -> None:
        """Sleep `seconds`, watching the connection meanwhile: a client that closes it (the socket reads as
        ended; no client pipelines a request behind an unanswered one) is recorded as soon as it does."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if not readable:
                continue
            try:
                ended = not self.connection.recv(1, socket.MSG_PEEK)
            except OSError:  # reset
                ended = True
            if ended:
                self.server.fake._gone(index)
            time.sleep(max(0.0, end - time.monotonic()))  # the rest of the wait, as before

    def _completion(self, reply: Reply, body: dict, index: int) -> dict:
        message = {"role": "assistant", "content": reply.text}
        if reply.reasoning:
            message["reasoning_content"] = reply.reasoning
        return {
            "id": f"chatcmpl-fake-{index}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.server.fake.model or body.get("model", "fake-model"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    **({"finish_reason": reply.finish_reason} if reply.finish_reason is not None else {}),
                }
            ],
            **({"usage": _usage(reply.usage)} if reply.usage is not None else {}),
        }

    def _stream(self, reply: Reply, body: dict, index: int) -> None:
        """Server-sent events in a chunked body, flushed event by event, as OpenAI's server and vLLM's do."""
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        head = {
            "id": f"chatcmpl-fake-{index}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.server.fake.model or body.get("model", "fake-model"),
        }

        def choice(delta: dict, finish_reason: str | None = None) -> list[dict]:
            return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]

        def event(choices: list[dict], usage: dict | None = None) -> None:
            chunk = {**head, "choices": choices, **({"usage": usage} if include_usage else {})}
            self._write_chunk(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())

        self.send_response(reply.status)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in reply.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "content-type"):
                self.send_header(name, str(value))
        self.end_headers()
        event(choice({"role": "assistant", "content": ""}))
        pieces = [{"reasoning_content": c} for c in reply.reasoning] + [
            {"content": c} for c in (reply.text if reply.chunks is None else reply.chunks)
        ]
        for n, delta in enumerate(pieces):
            if n == reply.cut_after:
                self.close_connection = True  # the body ends without its last chunk: a broken stream
                return
            delay = reply.first_token_delay if n == 0 else reply.chunk_delay
            if delay:
                time.sleep(delay)
            event(choice(delta))
        if reply.cut_after is not None and reply.cut_after >= len(pieces):
            self.close_connection = True
            return
        if reply.finish_reason is not None:
            event(choice({}, reply.finish_reason))
        if include_usage and reply.usage is not None:
            event([], _usage(reply.usage))
        self._answered()  # a client reads on to [DONE] at most
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _send(self, status: int, payload: dict | str, headers: dict | None = None) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)).encode()
        extra = {k.lower(): (k, str(v)) for k, v in (headers or {}).items()}
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        length = extra.pop("content-length", ("", str(len(data))))[1]
        if length != str(len(data)):
            self.close_connection = True  # a body cut short: the client sees the connection end mid-body
        self.send_header("Content-Length", length)
        for name, value in extra.values():
            self.send_header(name, value)
        self.end_headers()
        self._answered()
        self.wfile.write(data)
        self.wfile.flush()


def _usage(usage: tuple[int, int]) -> dict:
    prompt, completion = usage
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _error(message: str, kind: str, code: int) -> dict:
    return {"error": {"message": message, "type": kind, "code": code}}
