"""The model protocol: one class, one method (and an optional close)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from kobench.types import Request, Response


@runtime_checkable
class Model(Protocol):
    """A model adapter.

    `name` is its own display name (tables take theirs from the adapter entry, so a cached re-run that never
    loads the model is named alike), `adapter` the adapter's registry name, `fingerprint` a string that
    changes whenever the model's outputs may change (a new checkpoint at the same path included),
    `settings` the output-relevant constructor arguments (recorded in results and in cache keys).

    `generate` receives every pending request of a task at once and yields (or returns) one Response per
    request, each tagged with its request's id (`Response.answering(request.id)`), in any order, as each
    finishes: the adapter decides its own batching (hf: length-sorted padded batches) or concurrency (APIs:
    as many in flight as allowed); the runner checkpoints what has come back whatever the adapter does. It
    must not raise for a single bad request: it answers that request with `error` set instead.
    """

    name: str
    adapter: str
    fingerprint: str
    settings: dict[str, Any]

    def generate(self, requests: Sequence[Request]) -> Iterable[Response]: ...


@runtime_checkable
class Closable(Protocol):
    """An adapter holding resources (a server, a client, a GPU) may also have `close()`; the runner calls
    it when the run ends, however it ends."""

    def close(self) -> None: ...


def in_request_order(model: Model, requests: Sequence[Request]) -> list[Response]:
    """All of `requests` answered by `model`, in request order (for callers that want a list: scripts,
    tests). Requests should have distinct ids; where some share one, their answers are matched in the
    order they come. A request the adapter left unanswered comes back with `error` set."""
    requests = list(requests)
    by_id: dict[str, deque[Response]] = defaultdict(deque)
    for response in model.generate(requests):
        by_id[response.request_id].append(response)
    return [
        by_id[r.id].popleft()
        if by_id[r.id]
        else Response(text=None, error="the adapter gave no response", request_id=r.id)
        for r in requests
    ]
