"""An OpenAI-compatible chat client: POST {base_url}/chat/completions with bounded concurrency and
retries fully under kobench's control (httpx directly, no SDK with retries of its own).

Retried, with exponential backoff and full jitter (`min(backoff_max, backoff_base * 2**retry) * U(0,1)`):
429, 408 and every 5xx, timeouts, connection errors (refused, reset, dropped mid-response) and a 200
whose body is not a chat completion. On 429 and 503 a `Retry-After` (seconds or an HTTP date) is honoured
in full, never shortened by the jitter. Other 4xx (400, 401, 403, 404, 422) are answered at once: the
request itself is wrong and asking again cannot help. A request's failure never raises: it comes back as
a ChatResult with `error` set.

The API key is read from an environment variable (`Endpoint.api_key_env`) and sent as a Bearer header
only; it is kept out of every repr, error text and log line (server messages are redacted too, as some
echo the key they refused). Local servers such as vLLM need no key: with the variable unset no
Authorization header is sent.
"""

from __future__ import annotations

import base64
import email.utils
import io
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from kobench.llm.concurrency import Concurrency, ConcurrencyLimit
from kobench.llm.endpoint import Endpoint
from kobench.types import ImageRef, Message, TextPart

log = logging.getLogger(__name__)

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_RETRY_STATUSES = {408, 429}
_RETRY_AFTER_STATUSES = {429, 503}
_CLIP = 300  # characters of a server's message or body kept in an error text


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to ask for. `messages` are in OpenAI's chat format (see to_openai_messages);
    `extra` holds further body fields (seed, top_p, a server's own options), applied last."""

    messages: list[dict]
    temperature: float = 0.0
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChatResult:
    """What came back: `text` on success, else `error` (what happened, and after how many attempts).
    `seconds` is the wall time of the whole call, retries and waits included; `model` the model id the
    server reported (a dated snapshot for an alias such as gpt-4o)."""

    text: str | None
    error: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 1
    seconds: float = 0.0
    model: str | None = None
    # The server's `finish_reason` ("stop", "length", "content_filter", "tool_calls"...), None where
    # it sent none.
    finish_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None


@dataclass(frozen=True)
class _Outcome:
    """One HTTP attempt: a completion, or what went wrong and whether asking again may help."""

    text: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str | None = None
    finish_reason: str | None = None
    error: str | None = None
    retry: bool = False
    retry_after: float | None = None
    # "overload" (a 429 or 503) or "timeout": the adaptive concurrency comes down
    overload: Literal["overload", "timeout"] | None = None


class ChatClient:
    """A thread-safe client for one endpoint; one pooled httpx.Client serves every thread.

    `max_retries` counts retries: a request is tried at most `max_retries + 1` times. `timeout` bounds
    each attempt's connect, send and every wait for response bytes (httpx's per-phase timeout), not the
    total. `sleep` and `rng` are injectable so tests can record the backoff waits without waiting.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        concurrency: int | Concurrency = 8,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        spec = Concurrency.fixed(concurrency) if isinstance(concurrency, int) else concurrency
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {max_retries}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        self.endpoint = endpoint
        self.concurrency = spec
        self.limit = ConcurrencyLimit(spec)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._closed = threading.Event()
        self._url = endpoint.base_url.rstrip("/") + "/chat/completions"
        self._key = endpoint.api_key()
        headers = {"Content-Type": "application/json", "User-Agent": "kobench"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        self._http = httpx.Client(
            headers=headers,
            # Waiting for a free connection is not a failure: only the request itself is timed.
            timeout=httpx.Timeout(timeout, pool=None),
            limits=httpx.Limits(max_connections=spec.most, max_keepalive_connections=spec.most),
            # A local server (vLLM on this machine) is never reached through an HTTP(S)_PROXY.
            trust_env=(urlsplit(endpoint.base_url).hostname or "") not in _LOOPBACK,
        )

    def __repr__(self) -> str:
        return f"ChatClient({self.endpoint.identity()!r}, concurrency={self.concurrency.start})"

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections; requests still retrying give up at their next wait."""
        self._closed.set()
        self._http.close()

    def chat(self, request: ChatRequest) -> ChatResult:
        """One chat completion, retried as the module docstring says. Never raises for its failure."""
        return self._chat(request, None)

    def chat_many(
        self,
        requests: Sequence[ChatRequest],
        *,
        on_done: Callable[[int, ChatResult], None] | None = None,
    ) -> list[ChatResult]:
        """Every request, at most `concurrency` in flight; results in input order.

        `on_done(index, result)` is called as each request finishes, in completion order. If it raises,
        or the caller is interrupted (Ctrl-C), the requests not yet started are dropped, those in flight
        stop retrying, and the exception propagates.
        """
        results: list[ChatResult | None] = [None] * len(requests)
        for i, result in self.chat_stream(requests):
            results[i] = result
            if on_done is not None:
                on_done(i, result)
        return [r for r in results if r is not None]

    def chat_stream(self, requests: Sequence[ChatRequest]) -> Iterator[tuple[int, ChatResult]]:
        """(index, result) for every request as each finishes, at most `concurrency` in flight. When the
        consumer stops early (an exception, Ctrl-C, closing the generator), requests not yet started are
        dropped and those in flight stop retrying."""
        requests = list(requests)
        if not requests:
            return
        cancel = threading.Event()
        workers = min(self.concurrency.most, len(requests))  # the limit decides how many of them send
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm")
        futures = {pool.submit(self._chat, request, cancel): i for i, request in enumerate(requests)}
        finished = False
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
            finished = True
        finally:
            if not finished:
                cancel.set()
            pool.shutdown(wait=finished, cancel_futures=not finished)

    # --- one request ---

    def _chat(self, request: ChatRequest, cancel: threading.Event | None) -> ChatResult:
        start = time.perf_counter()
        try:
            body = json.dumps(_body(self.endpoint.model, request), ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            return ChatResult(None, self._redact(f"request cannot be encoded as JSON: {exc}"), attempts=0)
        tries = self.max_retries + 1
        attempt = 0
        outcome = _Outcome()
        while attempt < tries:
            slot = self.limit.acquire(lambda: self._stopping(cancel))
            if slot is None:
                break
            attempt += 1
            outcome = _Outcome(error="request failed")
            try:
                outcome = self._once(body)
            finally:
                verdict = "ok" if outcome.error is None else (outcome.overload or "error")
                self.limit.release(slot, verdict)
            seconds = time.perf_counter() - start
            if outcome.error is None:
                return ChatResult(
                    text=outcome.text,
                    error=None,
                    prompt_tokens=outcome.prompt_tokens,
                    completion_tokens=outcome.completion_tokens,
                    attempts=attempt,
                    seconds=seconds,
                    model=outcome.model,
                    finish_reason=outcome.finish_reason,
                )
            if not outcome.retry:
                return ChatResult(None, self._redact(outcome.error), attempts=attempt, seconds=seconds)
            if attempt == tries or self._stopping(cancel):
                break
            base = self.backoff_base
            if outcome.overload and self.concurrency.adaptive:
                # The adaptive limit has come down already: back off in units of the server's own answer
                # time, not in seconds (a slot at the new limit frees up about then).
                base = min(base, self.limit.pause())
            wait = self._backoff(attempt - 1, outcome.retry_after, base)
            log.info(
                "%s: %s; retry %d of %d in %.2f s",
                self.endpoint.identity(),
                self._redact(outcome.error or ""),
                attempt,
                self.max_retries,
                wait,
            )
            self._sleep(wait)
            if self._stopping(cancel):
                break
        what = self._redact(outcome.error or "no answer")
        if attempt < tries:
            what += " (gave up: interrupted)"
        return ChatResult(
            None, f"{what} after {attempt} attempts", attempts=attempt, seconds=time.perf_counter() - start
        )

    def _stopping(self, cancel: threading.Event | None) -> bool:
        return self._closed.is_set() or (cancel is not None and cancel.is_set())

    def _backoff(self, retry: int, retry_after: float | None, base: float | None = None) -> float:
        with self._rng_lock:  # random.Random is not documented as thread-safe
            u = self._rng.random()
        base = self.backoff_base if base is None else base
        wait = min(self.backoff_max, base * 2.0 ** min(retry, 64)) * u
        return wait if retry_after is None else max(wait, retry_after)

    def _once(self, body: bytes) -> _Outcome:
        try:
            response = self._http.post(self._url, content=body)
        except httpx.TimeoutException as exc:
            what = f"no answer within {self.timeout:g} s ({type(exc).__name__})"
            return _Outcome(error=what, retry=True, overload="timeout")
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
            # Refused, reset, or the server closed the connection before (or while) answering.
            return _Outcome(error=f"connection failed ({type(exc).__name__}: {exc})", retry=True)
        except Exception as exc:  # a bad URL or protocol: asking again cannot help; never raise
            return _Outcome(error=f"request failed ({type(exc).__name__}: {exc})")
        status = response.status_code
        if 200 <= status < 300:
            return _completion(response)
        what = f"HTTP {status}"
        if response.reason_phrase:
            what += f" {response.reason_phrase}"
        what += f": {_server_message(response)}"
        if status in _RETRY_STATUSES or 500 <= status <= 599:
            after = retry_after_seconds(response.headers) if status in _RETRY_AFTER_STATUSES else None
            return _Outcome(
                error=what,
                retry=True,
                retry_after=after,
                overload="overload" if status in _RETRY_AFTER_STATUSES else None,
            )
        if status == 401:
            env = self.endpoint.api_key_env
            what += (
                f" (the API key from ${env} was refused)"
                if self._key
                else f" (no API key sent: ${env} is not set)"
            )
        return _Outcome(error=what)

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


def _body(model: str, request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": request.messages, "temperature": request.temperature}
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.stop:
        body["stop"] = list(request.stop)
    body.update(request.extra)
    return body


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The wait a server asks for: `retry-after-ms` (OpenAI's), else `Retry-After` as seconds or an HTTP
    date; None when absent or unreadable."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        seconds = _float(ms)
        if seconds is not None:
            return max(0.0, seconds / 1000.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _float(value)
    if seconds is None:
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds)


def _float(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _completion(response: httpx.Response) -> _Outcome:
    """A 2xx body as a completion; a body that is not one is retried (proxies and overloaded servers
    sometimes answer 200 with an HTML page or a truncated body)."""
    try:
        data = json.loads(response.content)
    except ValueError:
        return _Outcome(error=f"malformed response: not JSON ({_clip(response.text)!r})", retry=True)
    if not isinstance(data, dict):
        return _Outcome(error=f"malformed response: not a JSON object ({_clip(response.text)!r})", retry=True)
    choices = data.get("choices")
    if not choices and data.get("error"):
        return _Outcome(error=f"server error in a {response.status_code}: {_error_message(data)}", retry=True)
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return _Outcome(error="malformed response: no choices", retry=True)
    message = choices[0].get("message")
    if not isinstance(message, dict):
        return _Outcome(error="malformed response: the choice has no message", retry=True)
    content = message.get("content")
    if isinstance(content, list):  # some servers answer in content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if content is None:
        # A refusal is the model's answer (scored as such); no content at all (a reasoning model that
        # spent its whole budget thinking) is an empty answer, not a transport failure.
        refusal = message.get("refusal")
        content = refusal if isinstance(refusal, str) else ""
    if not isinstance(content, str):
        return _Outcome(error="malformed response: the message content is not text", retry=True)
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    model = data.get("model")
    finish = choices[0].get("finish_reason")
    return _Outcome(
        text=content,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        model=model if isinstance(model, str) else None,
        finish_reason=finish if isinstance(finish, str) else None,
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _server_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        message = _error_message(data)
        if message:
            return message
    return _clip(response.text) or "(empty body)"


def _error_message(data: dict) -> str:
    """OpenAI's {"error": {"message"}}, vLLM's {"message"}, FastAPI's {"detail"}."""
    error = data.get("error")
    if isinstance(error, dict) and error.get("message"):
        return _clip(str(error["message"]))
    if isinstance(error, str) and error:
        return _clip(error)
    for key in ("message", "detail"):
        value = data.get(key)
        if value:
            return _clip(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return ""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


# --- kobench messages to OpenAI's chat format ---

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_PNG_MODES = {"1", "L", "LA", "I", "P", "RGB", "RGBA"}


def image_mime(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG, GIF or WEBP bytes from their magic numbers; None for anything else."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_data_url(ref: ImageRef) -> str:
    """A base64 data URL of the image's own bytes. The formats chat APIs take (PNG, JPEG, WEBP, GIF) are
    sent unchanged; others (BMP, TIFF) are re-encoded as PNG. Raises ValueError for unreadable data."""
    data = ref.read_bytes()
    mime = image_mime(data)
    if mime is None:
        data, mime = _as_png(data), "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _as_png(data: bytes) -> bytes:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            out = img if img.mode in _PNG_MODES else img.convert("RGB")
            buffer = io.BytesIO()
            out.save(buffer, format="PNG")
    except (OSError, UnidentifiedImageError) as exc:
        raise ValueError(f"not a readable image ({len(data)} bytes): {exc}") from None
    return buffer.getvalue()


def to_openai_messages(messages: Sequence[Message]) -> list[dict]:
    """kobench messages as OpenAI chat messages: text-only content as a plain string, otherwise content
    parts in the message's own order (images as data URLs)."""
    out: list[dict] = []
    for message in messages:
        if all(isinstance(part, TextPart) for part in message.content):
            out.append({"role": message.role, "content": message.text})
            continue
        parts: list[dict] = []
        for part in message.content:
            if isinstance(part, TextPart):
                if part.text:
                    parts.append({"type": "text", "text": part.text})
            else:
                parts.append({"type": "image_url", "image_url": {"url": image_data_url(part.image)}})
        out.append({"role": message.role, "content": parts})
    return out
