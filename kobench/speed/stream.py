"""Streamed chat completions timed: the time to the first token and to the answer's end, from an
OpenAI-compatible server (a `vllm serve` endpoint, OpenAI's own), through the `openai` SDK's stream.

Every request asks for `stream_options={"include_usage": True}`; the token counts are the usage chunk's,
None where the server sends none (never estimated). The first token is the first chunk carrying content or
reasoning content (vLLM's `reasoning_content`, or `reasoning`), not the role chunk that opens the stream.
The timer is read when the request goes out, at the first token and when the stream ends, and nowhere
else (a fake timer gives exact values).

The client (`stream_client`) is built from the endpoint the `openai:` adapter parses, with its key from
the same environment variable, sent as kobench's chat client sends it (no Authorization header without a
key, never the SDK's organization or project from the environment), and no retries: a retried request
would be timed as a slow one. A failed request is a StreamTiming with `error` set, never an exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai
from openai import OpenAI

from kobench.errors import BadInputError
from kobench.llm.client import _LOOPBACK, _NO_KEY, _USER_AGENT, _server_message, to_openai_messages
from kobench.llm.endpoint import Endpoint
from kobench.types import Request

Timer = Callable[[], float]


@dataclass(frozen=True)
class StreamTiming:
    """One streamed request: seconds from sending it to its first token (None: no token came) and to the
    stream's end (or its failure), the usage chunk's counts (None: the server sent none), the content.
    `started_s` is the timer's reading when it went out, so requests run together share one clock."""

    ttft_s: float | None
    latency_s: float
    completion_tokens: int | None
    prompt_tokens: int | None
    text: str
    error: str | None = None
    started_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def stream_client(endpoint: Endpoint, *, timeout: float = 120.0, max_connections: int = 64) -> OpenAI:
    """A synchronous SDK client for `endpoint` (thread-safe: one connection pool for all threads; give it
    at least as many connections as requests will be in flight, or the pool's wait is timed too).
    `timeout` bounds the connect and every wait for bytes, not the whole stream."""
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    if max_connections < 1:
        raise ValueError(f"max_connections must be at least 1, not {max_connections}")
    key = endpoint.api_key()

    def kobench_headers(request: httpx2.Request) -> None:
        # As kobench.llm.client sends them: the key or no Authorization header at all (the SDK insists on
        # a key, so a placeholder stands in until here), and no organization or project from the SDK's
        # environment variables for a server they are not for.
        for name in ("OpenAI-Organization", "OpenAI-Project"):
            request.headers.pop(name, None)
        if key is None:
            request.headers.pop("Authorization", None)

    http = httpx2.Client(
        limits=httpx2.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        timeout=httpx2.Timeout(timeout, pool=None),
        # A local server (vLLM on this machine) is never reached through an HTTP(S)_PROXY.
        trust_env=(urlsplit(endpoint.base_url).hostname or "") not in _LOOPBACK,
        event_hooks={"request": [kobench_headers]},
    )
    return OpenAI(
        base_url=endpoint.base_url,
        api_key=key or _NO_KEY,
        max_retries=0,  # a retry would be timed as one slow request
        timeout=httpx2.Timeout(timeout, pool=None),  # waiting for a free connection is not a failure
        http_client=http,
        default_headers={"User-Agent": _USER_AGENT},
    )


def stream_client_for(
    spec: str, *, api_key_env: str = "OPENAI_API_KEY", timeout: float = 120.0, max_connections: int = 64
) -> tuple[OpenAI, str]:
    """(client, model id) for `--model openai:MODEL[@BASE_URL]`, parsed as the `openai` adapter parses it.
    A `vllm:` model's server is kobench's to start: build its client with
    `stream_client(VLLMModel(...).api.endpoint)` instead."""
    adapter, _, target = spec.partition(":")
    if adapter != "openai" or not target.strip():
        raise BadInputError(
            f"--model {spec!r}: streamed timings need an OpenAI-compatible server, openai:MODEL or "
            "openai:MODEL@BASE_URL (e.g. openai:Qwen/Qwen2-VL-7B-Instruct@http://localhost:8000/v1)"
        )
    endpoint = Endpoint.parse(target, api_key_env)
    return stream_client(endpoint, timeout=timeout, max_connections=max_connections), endpoint.model


def stream_one(
    client: OpenAI,
    model: str,
    messages: list[dict],
    max_tokens: int | None,
    *,
    timer: Timer = time.perf_counter,
    **extra: Any,
) -> StreamTiming:
    """One streamed chat completion, timed. `extra` goes to `chat.completions.create` as it is
    (temperature, stop, extra_body...; a `stream_options` of its own replaces the usage request).
    `max_tokens` None: the server's default. Never raises for the request's failure."""
    options: dict[str, Any] = {"stream_options": {"include_usage": True}, **extra}
    if max_tokens is not None:
        options["max_tokens"] = max_tokens
    pieces: list[str] = []
    ttft: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    start = timer()
    try:
        stream = client.chat.completions.create(
            model=model,
            messages=messages,  # type: ignore[arg-type]  # already in the API's format
            stream=True,
            **options,
        )
        with stream:
            for chunk in stream:
                usage = chunk.usage
                if usage is not None:  # the last chunk (some servers send one with every chunk)
                    prompt_tokens, completion_tokens = (
                        _count(usage.prompt_tokens),
                        _count(usage.completion_tokens),
                    )
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    content = choice.delta.content or ""
                    if ttft is None and (content or _reasoning(choice.delta)):
                        ttft = timer() - start
                    pieces.append(content)
    except Exception as exc:  # every failure is the request's own: timed and reported, never raised
        return StreamTiming(
            ttft, timer() - start, None, None, "".join(pieces), error=_error(exc, client), started_s=start
        )
    return StreamTiming(ttft, timer() - start, completion_tokens, prompt_tokens, "".join(pieces), None, start)


def stream_many(
    client: OpenAI,
    model: str,
    conversations: Sequence[list[dict]],
    max_tokens: int | None,
    concurrency: int,
    *,
    timer: Timer = time.perf_counter,
    **extra: Any,
) -> tuple[list[StreamTiming], float]:
    """Every conversation streamed, at most `concurrency` in flight (threads sharing `client`): their
    timings in input order, and the wall seconds from the first sent to the last ended."""
    jobs = [
        lambda messages=messages: stream_one(client, model, messages, max_tokens, timer=timer, **extra)
        for messages in conversations
    ]
    return _run(jobs, concurrency, timer)


def stream_requests(
    client: OpenAI,
    model: str,
    requests: Sequence[Request],
    concurrency: int,
    *,
    timer: Timer = time.perf_counter,
) -> tuple[list[StreamTiming], float]:
    """kobench Requests streamed as the `openai` adapter would send them (images as data URLs, each
    request's max_new_tokens, temperature and stop). One whose images cannot be encoded is a StreamTiming
    with `error` set and nothing sent."""
    jobs: list[Callable[[], StreamTiming]] = []
    for request in requests:
        generation = request.generation
        try:
            messages = to_openai_messages(request.messages)
        except Exception as exc:  # an unreadable image fails its own row, never the others
            failed = StreamTiming(None, 0.0, None, None, "", f"request not sent: {type(exc).__name__}: {exc}")
            jobs.append(lambda failed=failed: failed)
            continue
        settings: dict[str, Any] = {"temperature": generation.temperature}
        if generation.stop:
            settings["stop"] = list(generation.stop)
        jobs.append(
            lambda messages=messages, settings=settings, max_tokens=generation.max_new_tokens: stream_one(
                client, model, messages, max_tokens, timer=timer, **settings
            )
        )
    return _run(jobs, concurrency, timer)


def _run(
    jobs: Sequence[Callable[[], StreamTiming]], concurrency: int, timer: Timer
) -> tuple[list[StreamTiming], float]:
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    if not jobs:
        return [], 0.0
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(jobs)), thread_name_prefix="kobench-speed")
    start = timer()
    try:
        futures = [pool.submit(job) for job in jobs]
        timings = [future.result() for future in futures]
    except BaseException:  # Ctrl-C: those not started never are (those in flight end on their own)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    wall = timer() - start
    pool.shutdown()
    return timings, wall


def _reasoning(delta: object) -> bool:
    """Whether a delta carries reasoning text (fields the SDK does not declare: vLLM's and others')."""
    return any(isinstance(getattr(delta, name, None), str) and getattr(delta, name) for name in _REASONING)


_REASONING = ("reasoning_content", "reasoning")


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _error(exc: Exception, client: OpenAI) -> str:
    if isinstance(exc, openai.APIStatusError):
        response = exc.response
        what = f"HTTP {response.status_code}"
        if response.reason_phrase:
            what += f" {response.reason_phrase}"
        what = f"{what}: {_server_message(exc.body, response)}"
    elif isinstance(exc, openai.APITimeoutError):
        what = f"no answer within the timeout ({type(exc.__cause__).__name__})"
    elif isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        what = f"connection failed ({type(cause).__name__}: {cause})" if cause else "connection failed"
    else:
        what = f"request failed ({type(exc).__name__}: {exc})"
    key = client.api_key
    return what.replace(key, "***") if key and key != _NO_KEY else what
