"""Answers for a task's requests: from the response cache first, then the model, which gets every pending
request of the task at once and answers them in its own order, batching or concurrency.

A request whose messages carry an earlier request's answer (a second conversation turn) waits for that
answer: the runner writes it into the conversation, then asks. Each answer is put into the cache as it
arrives (a commit costs some 30 microseconds), so a process killed while later requests hang keeps every
answer it was given; the samples file is appended every CHECKPOINT_EVERY responses (it is rebuilt from the
cache on resume).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from kobench.models.base import Closable, Model
from kobench.run.cache import ResponseCache, request_key
from kobench.types import Message, Request, Response, TextPart

# Responses between two samples checkpoints, whatever the adapter's batching; and the longest wait for
# one, so a slow model's samples file is at most a few seconds behind its answers (those are cached at once).
CHECKPOINT_EVERY = 16
CHECKPOINT_SECONDS = 2.0


@dataclass
class RunStats:
    model_calls: int = 0  # requests the model answered (cache hits excluded)
    cache_hits: int = 0
    generated_tokens: int = 0
    prompt_tokens: int = 0  # where the adapter reports them (APIs)
    generation_seconds: float = 0.0  # time spent waiting on the adapter
    judge_calls: int = 0
    judge_cache_hits: int = 0
    # An API adapter's requests in flight (its concurrency_report(): fixed, or where the adaptive limit went)
    concurrency: dict | None = None
    # The hf adapter's batch size (its batch_report(): fixed, or where --batch-size auto went)
    batch: dict | None = None
    # How the hf adapter drove the model (its loading_report(): interface family, compatibility layers)
    loading: dict | None = None
    # A torchrun data parallel run: its number of ranks, how rows were shared out, each rank's counts
    data_parallel: dict | None = None


@dataclass
class Responder:
    """Answers requests from the cache first and loads the model only when something is missing."""

    load: Callable[[], Model]
    adapter: str
    fingerprint: str
    settings: dict
    cache: ResponseCache
    model: Model | None = None
    stats: RunStats = field(default_factory=RunStats)

    def answers(self, requests: Sequence[Request]) -> Iterator[Response]:
        """One response per request, each tagged with its request's id, as they come: cached ones first;
        requests that carry earlier answers once those answers are in."""
        answered: dict[str, Response] = {}
        asked = {r.id for r in requests}
        waiting = list(requests)
        while waiting:
            ready = [r for r in waiting if all(d in answered for d in r.depends_on)]
            blocked = [r for r in waiting if r not in ready]
            if not ready:  # what they wait for is not among the requests
                for request in blocked:
                    missing = [d for d in request.depends_on if d not in asked]
                    yield _failed(request, f"carries the answer of {', '.join(missing)}, which was not asked")
                return
            sendable = []
            for request in ready:
                failed = [d for d in request.depends_on if not answered[d].ok]
                if failed:
                    response = _failed(request, f"the earlier turn {', '.join(failed)} failed")
                    answered[request.id] = response
                    yield response
                else:
                    sendable.append(with_answers(request, answered))
            for response in self._cached_then_model(sendable):
                answered[response.request_id] = response
                yield response
            waiting = blocked

    def _cached_then_model(self, requests: Sequence[Request]) -> Iterator[Response]:
        keys = {r.id: request_key(self.adapter, self.fingerprint, self.settings, r) for r in requests}
        hits = self.cache.get_many(list(keys.values()))
        self.stats.cache_hits += sum(1 for k in keys.values() if k in hits)
        for request in requests:
            if keys[request.id] in hits:
                yield hits[keys[request.id]].answering(request.id)
        missing = [r for r in requests if keys[r.id] not in hits]
        if not missing:
            return
        if self.model is None:
            self.model = self.load()
        unanswered = {r.id for r in missing}
        stream = iter(self.model.generate(missing))
        try:
            while unanswered:
                began = time.perf_counter()
                response = next(stream, None)
                self.stats.generation_seconds += time.perf_counter() - began
                if response is None:
                    break
                if response.request_id not in unanswered:
                    raise RuntimeError(
                        f"the {self.adapter} adapter answered request {response.request_id!r}, which it was "
                        "not asked or had answered already (each Response carries its request's id, once)"
                    )
                unanswered.discard(response.request_id)
                self.stats.model_calls += 1
                self.stats.generated_tokens += response.n_tokens
                self.stats.prompt_tokens += response.prompt_tokens
                self.cache.put_many([(keys[response.request_id], response)])  # paid for: kept at once
                yield response
        finally:
            report = getattr(self.model, "concurrency_report", None)
            if callable(report):
                self.stats.concurrency = report()
            batches = getattr(self.model, "batch_report", None)
            if callable(batches):
                self.stats.batch = batches()
            loading = getattr(self.model, "loading_report", None)
            if callable(loading):
                self.stats.loading = loading()
        for request in missing:
            if request.id in unanswered:
                yield _failed(request, f"the {self.adapter} adapter gave no response")

    def close(self) -> None:
        if isinstance(self.model, Closable):
            self.model.close()


def with_answers(request: Request, answered: dict[str, Response]) -> Request:
    """The request with each `answer_of` turn holding that earlier answer's text."""
    if not request.depends_on:
        return request
    messages = tuple(
        Message("assistant", (TextPart(answered[m.answer_of].text or ""),)) if m.answer_of is not None else m
        for m in request.messages
    )
    return replace(request, messages=messages)


def _failed(request: Request, why: str) -> Response:
    return Response(text=None, error=why, request_id=request.id)
