"""An OpenAI-compatible chat client: `/chat/completions` through the `openai` package's AsyncOpenAI, with
kobench's own concurrency limit, retries, failure accounting and key redaction around it.

The SDK sends the requests (body encoding, headers, timeouts, connection pooling, status errors); its own
retries are off (`max_retries=0`), because retries live here: every 429 and timeout reaches the adaptive
concurrency limit, a server's `Retry-After` is capped, and every wait can be cancelled.

Retried, with exponential backoff and full jitter (`min(backoff_max, backoff_base * 2**retry) * U(0,1)`):
429, 408 and every 5xx, timeouts, connection errors (refused, reset, dropped mid-response) and a 200
whose body is not a chat completion. On 429 and 503 a `Retry-After` (seconds or an HTTP date) is honoured,
never shortened by the jitter, but at most `max_retry_after` seconds (default 60; `--max-retry-after`): a
server asking for ten minutes would otherwise stall the run, and a longer wait is logged as capped. Other 4xx
(400, 401, 403, 404, 422) are answered at once: the request itself is wrong and asking again cannot help.
A request's failure never raises: it comes back as a ChatResult with `error` set.

The facade is synchronous and thread-safe: each client runs one asyncio event loop on a daemon thread of
its own (started on first use, stopped by close()), and every request is a task on it. close() makes
requests waiting for a slot or a backoff give up at once and cancels those in flight; each comes back
failed. A `chat_stream` consumer that stops early (an exception, Ctrl-C, closing the generator) drops
the requests not yet started and cancels those in flight.

The API key is read from an environment variable (`Endpoint.api_key_env`) and sent as a Bearer header
only; it is kept out of every repr, error text and log line (server messages are redacted too, as some
echo the key they refused). Local servers such as vLLM need no key: with the variable unset no
Authorization header is sent. The SDK's own environment variables (OPENAI_API_KEY, OPENAI_ORG_ID,
OPENAI_PROJECT_ID, OPENAI_CUSTOM_HEADERS...) decide nothing here: kobench sets the headers that matter on
every request, so a key meant for one server never reaches another.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import io
import json
import logging
import math
import queue
import random
import ssl
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx2
import openai
from openai import AsyncOpenAI, Omit, omit

from kobench.images import ImageError, check_decodes, decode_reason, open_checked
from kobench.llm.concurrency import Concurrency, ConcurrencyLimit
from kobench.llm.endpoint import Endpoint
from kobench.provenance import VERSION
from kobench.types import ImageRef, Message, TextPart

log = logging.getLogger(__name__)

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_RETRY_STATUSES = {408, 429}
_RETRY_AFTER_STATUSES = {429, 503}
_CLIP = 300  # characters of a server's message or body kept in an error text
_STOP_WAIT = 10.0  # seconds close() or a stopped stream waits for the cancelled requests to wind down
_POLL = 0.5  # seconds between checks that the loop thread still runs, while a caller waits on it
# The causes of an APIConnectionError worth asking again: the server refused, reset or dropped the
# connection (TLS failures included, which the SDK also counts as connection errors). A bad URL or a
# protocol error on our side (UnsupportedProtocol, LocalProtocolError) would fail the same way again.
_RETRY_CONNECTION = (
    httpx2.NetworkError,
    httpx2.RemoteProtocolError,
    httpx2.ProxyError,
    ssl.SSLError,
    anyio.EndOfStream,
)
_USER_AGENT = f"kobench/{VERSION} (openai-python/{openai.__version__})"
# AsyncOpenAI insists on a key; with none, every request omits the Authorization header instead, so this
# placeholder is never sent.
_NO_KEY = "kobench-no-key"

T = TypeVar("T")


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


# A request built only when it is about to be sent (ChatClient.chat_stream); a ChatResult where it cannot be.
Builder = Callable[[], "ChatRequest | ChatResult"]


@dataclass(frozen=True)
class _Outcome:
    """One attempt: a completion, or what went wrong and whether asking again may help."""

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
    sent: bool = True  # False: the request failed before anything went out (its body cannot be encoded)


class ChatClient:
    """A thread-safe client for one endpoint: one event loop and one AsyncOpenAI (one connection pool)
    serve every thread.

    `max_retries` counts retries: a request is tried at most `max_retries + 1` times. `timeout` bounds
    each attempt's connect, send and every wait for response bytes (httpx's per-phase timeout), not the
    total; waiting for a free connection is not timed. `backoff_max` caps the exponential backoff,
    `max_retry_after` the wait a server's Retry-After asks for (0: the backoff alone decides). `sleep` (an
    async callable) and `rng` are injectable so tests can record the backoff waits without waiting.
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
        max_retry_after: float = 60.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        spec = Concurrency.fixed(concurrency) if isinstance(concurrency, int) else concurrency
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {max_retries}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        if not 0 <= max_retry_after < math.inf:
            raise ValueError(f"max_retry_after must be a number of seconds, 0 or more, not {max_retry_after}")
        self.endpoint = endpoint
        self.concurrency = spec
        self.limit = ConcurrencyLimit(spec)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._warned_cap = False  # the first Retry-After capped is logged as a warning (loop thread only)
        self._sleep = sleep
        self._rng = rng or random.Random()  # used on the loop thread only
        self._key = endpoint.api_key()
        # Sent with every request, over whatever the SDK took from the environment: the key (or no
        # Authorization header at all), and no OpenAI organization or project for a server they are not for.
        self._headers: dict[str, str | Omit] = {
            "Authorization": f"Bearer {self._key}" if self._key else omit,
            "OpenAI-Organization": omit,
            "OpenAI-Project": omit,
        }
        self._lock = threading.Lock()  # guards starting, submitting to and closing the loop
        self._closed = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._api: AsyncOpenAI | None = None
        self._busy: set[asyncio.Task[Any]] = set()  # tasks inside _chat, which close() cancels (loop only)
        self._finalizer: weakref.finalize | None = None

    def __repr__(self) -> str:
        return f"ChatClient({self.endpoint.identity()!r}, concurrency={self.concurrency.start})"

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the client: requests waiting for a slot or a backoff give up at once, those in flight are
        cancelled (each comes back failed), and the connections close. Later requests fail at once.
        Safe from any thread, and more than once."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            shutdown = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            if self._finalizer is not None:
                self._finalizer.detach()
        if threading.current_thread() is thread:
            return  # from a task on the loop itself, which cannot wait for its own shutdown
        try:
            shutdown.result(timeout=_STOP_WAIT)
        except Exception as exc:  # closing never fails the caller; the loop stops all the same
            log.debug("%s: closing: %s", self.endpoint.identity(), self._redact(repr(exc)))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_STOP_WAIT)

    def report(self) -> dict[str, Any]:
        """What the results record of how requests were sent: the concurrency limit's report and the
        longest wait a server's Retry-After was granted."""
        return {**self.limit.report(), "max_retry_after": self.max_retry_after}

    def chat(self, request: ChatRequest) -> ChatResult:
        """One chat completion, retried as the module docstring says. Never raises for its failure; an
        interrupt (Ctrl-C) cancels the request and propagates."""
        future = self._submit(self._chat, request)
        if future is None:
            return _closed_result()
        try:
            while True:
                try:
                    return future.result(timeout=_POLL)
                except TimeoutError:
                    if not self._loop_alive():
                        return _closed_result()
        except BaseException:
            future.cancel()
            raise

    def chat_many(
        self,
        requests: Sequence[ChatRequest],
        *,
        on_done: Callable[[int, ChatResult], None] | None = None,
    ) -> list[ChatResult]:
        """Every request, at most `concurrency` in flight; results in input order.

        `on_done(index, result)` is called as each request finishes, in completion order. If it raises,
        or the caller is interrupted (Ctrl-C), the requests not yet started are dropped, those in flight
        are cancelled, and the exception propagates.
        """
        results: list[ChatResult | None] = [None] * len(requests)
        stream = self.chat_stream(requests)
        try:
            for i, result in stream:
                results[i] = result
                if on_done is not None:
                    on_done(i, result)
        finally:
            stream.close()  # now, not when a traceback that holds the generator is freed
        return [r for r in results if r is not None]

    def chat_stream(self, requests: Sequence[ChatRequest | Builder]) -> Iterator[tuple[int, ChatResult]]:
        """(index, result) for every request as each finishes, at most `concurrency` in flight. When the
        consumer stops early (an exception, Ctrl-C, closing the generator), requests not yet started are
        dropped and those in flight are cancelled before the generator returns.

        A request may be given as a `Builder`, called (off the event loop) only when a worker is about to
        send it: a task's images are then read and base64-encoded a few at a time, not all of them before
        the first request goes out and held until the last answer. A builder returning a ChatResult (why
        the request cannot be sent) gives that result, and nothing is sent."""
        requests = list(requests)
        if not requests:
            return
        results: queue.SimpleQueue[tuple[int, ChatResult]] = queue.SimpleQueue()
        ended = threading.Event()
        batch = self._submit(self._batch, requests, results.put, ended)
        if batch is None:
            for i in range(len(requests)):
                yield i, _closed_result()
            return
        seen: set[int] = set()
        try:
            while len(seen) < len(requests):
                try:
                    i, result = results.get(timeout=_POLL)
                except queue.Empty:
                    if ended.is_set() and results.empty():
                        batch.result(timeout=0)  # raises what broke the batch, if anything did
                        break
                    if not self._loop_alive():
                        break
                    continue
                seen.add(i)
                yield i, result
            # Only when the loop went away under a close() that could not wait: the rest failed too.
            for i in range(len(requests)):
                if i not in seen:
                    seen.add(i)
                    yield i, _closed_result()
        finally:
            if len(seen) < len(requests):
                batch.cancel()
                ended.wait(timeout=_STOP_WAIT)

    # --- the event loop ---

    def _submit(self, coroutine: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> Future[T] | None:
        """Run `coroutine(*args)` on the client's loop, starting it on first use; None once closed. Under
        the lock, so that nothing is submitted after close() scheduled the shutdown."""
        with self._lock:
            if self._closed.is_set():
                return None
            if self._loop is None:
                self._start()
            assert self._loop is not None
            return asyncio.run_coroutine_threadsafe(coroutine(*args), self._loop)

    def _start(self) -> None:
        most = self.concurrency.most
        http = httpx2.AsyncClient(
            limits=httpx2.Limits(max_connections=most, max_keepalive_connections=most),
            # A local server (vLLM on this machine) is never reached through an HTTP(S)_PROXY.
            trust_env=(urlsplit(self.endpoint.base_url).hostname or "") not in _LOOPBACK,
        )
        self._api = AsyncOpenAI(
            base_url=self.endpoint.base_url,
            api_key=self._key or _NO_KEY,
            max_retries=0,  # retries are kobench's: see the module docstring
            # Waiting for a free connection is not a failure: only the request itself is timed.
            timeout=httpx2.Timeout(self.timeout, pool=None),
            http_client=http,
            default_headers={"User-Agent": _USER_AGENT},
        )
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=_run_loop, args=(loop,), name="kobench-llm", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        # A client dropped without close() still closes its connections and stops its thread (neither
        # the loop nor the SDK client holds a reference to it).
        self._finalizer = weakref.finalize(self, _abandon, loop, self._api)
        self._finalizer.atexit = False  # at exit the daemon thread simply ends

    def _loop_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def _shutdown(self) -> None:
        for task in list(self._busy):
            task.cancel()
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:  # the cancelled requests come back failed; batches hand out the rest as failed too
            await asyncio.wait(others, timeout=_STOP_WAIT)
        if self._api is not None:
            await self._api.close()

    async def _batch(
        self,
        requests: list[ChatRequest | Builder],
        put: Callable[[tuple[int, ChatResult]], None],
        ended: threading.Event,
    ) -> None:
        """Every request, by as many workers as can ever be in flight; the limit decides how many send."""
        try:
            pending = iter(enumerate(requests))

            async def work() -> None:
                for i, request in pending:
                    if not isinstance(request, ChatRequest):
                        # encoding images on the loop would hold up the answers (and timings) in flight
                        request = await asyncio.to_thread(request)
                    put((i, request if isinstance(request, ChatResult) else await self._chat(request)))

            workers = [asyncio.create_task(work()) for _ in range(min(self.concurrency.most, len(requests)))]
            try:
                await asyncio.gather(*workers)
            finally:  # cancelled (the consumer stopped) or broken: no worker outlives the batch
                for worker in workers:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
        finally:
            ended.set()

    # --- one request ---

    async def _chat(self, request: ChatRequest) -> ChatResult:
        start = time.perf_counter()
        if self._closed.is_set():
            return _closed_result()
        task = asyncio.current_task()
        assert task is not None
        self._busy.add(task)
        tries = self.max_retries + 1
        attempt = 0
        outcome = _Outcome(error="no answer")
        gave_up = ""
        try:
            while attempt < tries:
                if self._closed.is_set():  # closed between two attempts (the backoff did not wait)
                    gave_up = " (gave up: the client was closed)"
                    break
                slot = await self.limit.acquire_async()
                attempt += 1
                outcome = _Outcome(error="cancelled")  # what the limit hears if the attempt is cancelled
                try:
                    outcome = await self._once(request)
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
                if not outcome.sent:
                    attempt -= 1
                if not outcome.retry:
                    return ChatResult(None, self._redact(outcome.error), attempts=attempt, seconds=seconds)
                if attempt == tries:
                    break
                await self._sleep(self._backoff(attempt, outcome))
        except asyncio.CancelledError:
            if not self._closed.is_set():
                raise  # the consumer stopped: nobody waits for this result
            task.uncancel()  # cancelled by close(), whose callers still get a result for every request
            gave_up = " (gave up: the client was closed)"
        finally:
            self._busy.discard(task)
        what = self._redact(outcome.error or "no answer") + gave_up
        return ChatResult(
            None, f"{what} after {attempt} attempts", attempts=attempt, seconds=time.perf_counter() - start
        )

    def _backoff(self, attempt: int, outcome: _Outcome) -> float:
        """The wait before the next attempt (`attempt` tries so far), logged."""
        base = self.backoff_base
        if outcome.overload and self.concurrency.adaptive:
            # The adaptive limit has come down already: back off in units of the server's own answer
            # time, not in seconds (a slot at the new limit frees up about then).
            base = min(base, self.limit.pause())
        retry = attempt - 1
        wait = min(self.backoff_max, base * 2.0 ** min(retry, 64)) * self._rng.random()
        asked = outcome.retry_after
        capped = ""
        if asked is not None:
            if asked > self.max_retry_after:
                # A server asking for minutes (or a bad date) would stall the run: wait max_retry_after.
                cap = self.max_retry_after
                capped = f" (the server asked for {asked:.1f} s; capped at max_retry_after {cap:g} s)"
                asked = cap
            wait = max(wait, asked)  # the jitter never shortens the server's wait
        # The first capped wait is shown (a warning reaches stderr without any logging set up); the rest,
        # and every ordinary retry, are logged at INFO.
        warn = bool(capped) and not self._warned_cap
        self._warned_cap = self._warned_cap or warn
        log.log(
            logging.WARNING if warn else logging.INFO,
            "%s: %s; retry %d of %d in %.2f s%s",
            self.endpoint.identity(),
            self._redact(outcome.error or ""),
            attempt,
            self.max_retries,
            wait,
            capped,
        )
        return wait

    async def _once(self, request: ChatRequest) -> _Outcome:
        assert self._api is not None
        try:
            raw = await self._api.chat.completions.with_raw_response.create(
                model=self.endpoint.model,
                messages=request.messages,  # type: ignore[arg-type]  # already in the API's format
                temperature=request.temperature,
                max_tokens=omit if request.max_tokens is None else request.max_tokens,
                stop=list(request.stop) if request.stop else omit,
                extra_body=request.extra or None,
                extra_headers=self._headers,
            )
        except openai.APIStatusError as exc:  # 4xx and 5xx; the SDK has read the body
            return self._refused(exc.response, exc.body)
        except openai.APITimeoutError as exc:
            what = f"no answer within {self.timeout:g} s ({type(exc.__cause__).__name__})"
            return _Outcome(error=what, retry=True, overload="timeout")
        except openai.APIConnectionError as exc:
            cause = exc.__cause__
            what = f"connection failed ({type(cause).__name__}: {cause})" if cause else "connection failed"
            return _Outcome(error=what, retry=cause is None or isinstance(cause, _RETRY_CONNECTION))
        except (TypeError, ValueError) as exc:  # raised while the SDK encodes the body: nothing went out
            return _Outcome(error=f"request not sent: it cannot be encoded as JSON ({exc})", sent=False)
        except Exception as exc:  # anything else the SDK refuses: asking again cannot help; never raise
            return _Outcome(error=f"request failed ({type(exc).__name__}: {exc})")
        response = raw.http_response
        if not 200 <= response.status_code < 300:  # a 1xx or 3xx (redirects are not followed)
            return self._refused(response, None)
        return _completion(response)

    def _refused(self, response: httpx2.Response, body: object) -> _Outcome:
        """A status other than 2xx: retried or not, as the module docstring says."""
        status = response.status_code
        what = f"HTTP {status}"
        if response.reason_phrase:
            what += f" {response.reason_phrase}"
        what += f": {_server_message(body, response)}"
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


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()


def _abandon(loop: asyncio.AbstractEventLoop, api: AsyncOpenAI) -> None:
    async def stop() -> None:
        try:
            await api.close()
        finally:
            loop.stop()

    coroutine = stop()
    try:
        asyncio.run_coroutine_threadsafe(coroutine, loop)
    except RuntimeError:  # the loop is closed already (close() ran)
        coroutine.close()


def _closed_result() -> ChatResult:
    return ChatResult(None, "not sent: the client was closed", attempts=0)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a server asks for: `retry-after-ms` (OpenAI's), else `Retry-After` as seconds or an HTTP
    date; None when absent or unreadable. `headers` looks names up in any case (httpx's Headers)."""
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


def _completion(response: httpx2.Response) -> _Outcome:
    """A 2xx body as a completion, read tolerantly (the SDK's models check nothing, and servers that speak
    the API differ); a body that is not one is retried (proxies and overloaded servers sometimes answer
    200 with an HTML page or an error object)."""
    try:
        data = response.json()
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


def _server_message(body: object, response: httpx2.Response) -> str:
    """The message in an error body the SDK decoded (JSON, else its text), else the body itself."""
    if isinstance(body, dict):
        message = _error_message(body)
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
    sent unchanged once they decode within the pixel limit; others (BMP, TIFF) are re-encoded as PNG.
    Raises ImageError (a ValueError) for unreadable or refused data, with a stable reason: the same one
    the local adapters give, so a truncated image fails its row alike everywhere and costs no paid call."""
    try:
        data = ref.read_bytes()
        mime = image_mime(data)
        if mime is None:
            data, mime = _as_png(data), "image/png"
        else:
            check_decodes(data)  # no image after all, too many pixels, or a body cut short: never sent
    except ImageError as exc:
        raise ImageError(f"not a readable image: {exc}") from None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _as_png(data: bytes) -> bytes:
    with open_checked(data) as img:
        try:
            img.load()
            out = img if img.mode in _PNG_MODES else img.convert("RGB")
            buffer = io.BytesIO()
            out.save(buffer, format="PNG")
        except Exception as exc:  # whatever a hostile file makes a decoder raise
            raise ImageError(decode_reason(exc)) from None
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
