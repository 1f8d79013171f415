"""The `openai` adapter: any OpenAI-compatible chat server, a `vllm serve` endpoint or OpenAI's own.

`--model openai:MODEL` (OpenAI's server, key from $OPENAI_API_KEY) or `--model openai:MODEL@BASE_URL`
(e.g. `openai:Qwen/Qwen2-VL-7B-Instruct@http://localhost:8000/v1`). Images go as base64 data URLs in
the message's own order; generation settings map to max_tokens, temperature and stop. Requests of a
batch run concurrently (at most `concurrency` in flight), each retried on its own; one that still fails
becomes a Response with `error` set, never a failed batch.

The fingerprint is the endpoint's identity: a server cannot tell us which weights stand behind a model
id, so a re-deployed model under the same id and URL is answered from the cache (use another URL or
--no-cache after changing it).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

from kobench.images import ImageError
from kobench.llm.client import ChatClient, ChatRequest, ChatResult, Endpoint, to_openai_messages
from kobench.llm.concurrency import Concurrency
from kobench.types import FinishReason, Request, Response


def openai_fingerprint(target: str) -> str:
    return "openai:" + Endpoint.parse(target).identity()


def chat_request(request: Request) -> ChatRequest:
    generation = request.generation
    return ChatRequest(
        to_openai_messages(request.messages),
        temperature=generation.temperature,
        max_tokens=generation.max_new_tokens,
        stop=generation.stop,
    )


class OpenAIModel:
    adapter = "openai"

    def __init__(
        self,
        target: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int | Concurrency = 8,
        timeout: float = 120.0,
        max_retries: int = 5,
        max_retry_after: float = 60.0,
    ) -> None:
        self.endpoint = Endpoint.parse(target, api_key_env)
        self.name = self.endpoint.model
        self.fingerprint = openai_fingerprint(target)
        # Only what changes answers; concurrency, timeouts and the key's variable do not.
        self.settings: dict[str, Any] = {"model": self.endpoint.model, "base_url": self.endpoint.base_url}
        self.client = ChatClient(
            self.endpoint,
            concurrency=concurrency,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
        )

    def __repr__(self) -> str:
        return f"OpenAIModel({self.endpoint.identity()!r})"

    def close(self) -> None:
        self.client.close()

    def concurrency_report(self) -> dict[str, Any]:
        """Requests in flight: fixed, or the adaptive limit's bounds and where it went; and the longest wait a
        server's Retry-After was granted (results record it)."""
        return self.client.report()

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        """All requests at once, as many in flight as the concurrency allows; each answer as it arrives.
        Each request's images are encoded only when it is about to be sent (a document benchmark's base64
        would otherwise all be built before the first call, and held to the last)."""
        requests = list(requests)
        builders = [functools.partial(_chat_or_why_not, request) for request in requests]
        for i, result in self.client.chat_stream(builders):
            yield _response(result).answering(requests[i].id)


def _chat_or_why_not(request: Request) -> ChatRequest | ChatResult:
    """The request to send, or why it cannot be: an unreadable image fails its own row, never the others,
    and costs no call."""
    try:
        return chat_request(request)
    except ImageError as exc:
        error = f"request not sent: {exc}"  # its reason is stable text already
    except Exception as exc:
        error = f"request not sent: {type(exc).__name__}: {exc}"
    return ChatResult(text=None, error=error, attempts=0)


def _response(result: ChatResult) -> Response:
    return Response(
        text=result.text if result.ok else None,
        error=result.error,
        n_tokens=result.completion_tokens,
        prompt_tokens=result.prompt_tokens,
        seconds=result.seconds,
        finish_reason=finish_reason(result) if result.ok else "error",
    )


# OpenAI's values and those of servers that speak its API (vLLM, TGI, llama.cpp, Anthropic's "end_turn").
_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "eos": "stop",
    "eos_token": "stop",
    "stop_sequence": "stop",
    "end_turn": "stop",
    "tool_calls": "stop",
    "function_call": "stop",
    "length": "length",
    "max_tokens": "length",
    "model_length": "length",
    "content_filter": "filtered",
}


def finish_reason(result: ChatResult) -> FinishReason | None:
    """Why the server says the answer ended; None (counted as unknown) for a value it does not document."""
    return _FINISH_REASONS.get((result.finish_reason or "").lower())
