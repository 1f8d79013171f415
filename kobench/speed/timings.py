"""What one measured batch gives, and what a batch size's batches add up to.

A batch here is what runs together: a padded batch of the hf adapter, or a wave of concurrent requests to
a server. Its decode phase runs from its first token to its end (hf: the full generation's time less the
prefill-only pass's; a server: the wave's last answer less its first first token), and the tokens decoded
in it are each request's generated tokens after its first: decode tokens/s is the one over the other,
summed over the batches. Latency is each request's own, from before its inputs were built to its answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RequestTiming:
    latency_s: float
    ttft_s: float | None  # None: not measurable here
    generated_tokens: int | None  # None: the server's usage block did not say
    prompt_tokens: int | None = None
    image_tokens: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class BatchTiming:
    requests: tuple[RequestTiming, ...]
    wall_s: float  # the batch from start to its last answer
    decode_s: float | None  # its decode phase; None where the first token's time is unknown


@dataclass(frozen=True)
class SpeedSummary:
    batch_size: int
    requests: int
    failed: int
    ttft_ms: float | None  # the median over requests
    decode_tokens_per_second: float | None
    latency_ms: dict[str, float | None]  # p50, p90, p99
    requests_per_second: float | None
    generated_tokens: int | None
    prompt_tokens: int | None
    image_tokens: int | None


PERCENTILES = (50, 90, 99)


def measure_batches(
    run_batch: Callable[[Sequence[object]], BatchTiming],
    requests: Sequence[object],
    batch_size: int,
    warmup: int,
) -> list[BatchTiming]:
    """`warmup` batches first, their timings dropped (the first calls pay for compilation, caches and
    allocator growth), then every request in batches of `batch_size`, timed. Fewer requests than the batch
    size are repeated to fill one batch: a batch size is only measured at that size."""
    if not requests:
        return []
    if len(requests) < batch_size:
        requests = _cycled(requests, 0, batch_size)
    for n in range(warmup):
        start = (n * batch_size) % len(requests)
        run_batch(_cycled(requests, start, batch_size))
    return [run_batch(requests[at : at + batch_size]) for at in range(0, len(requests), batch_size)]


def _cycled(requests: Sequence[object], start: int, size: int) -> list[object]:
    return [requests[(start + i) % len(requests)] for i in range(size)]


def summarise(batch_size: int, batches: Sequence[BatchTiming]) -> SpeedSummary:
    timings = [t for b in batches for t in b.requests]
    ok = [t for t in timings if t.error is None]
    ttfts = [t.ttft_s for t in ok if t.ttft_s is not None]
    latencies = [t.latency_s for t in ok]
    decode_tokens = decode_seconds = 0.0
    decodable = True
    for batch in batches:
        answered = [t for t in batch.requests if t.error is None]
        if not answered:
            continue
        if batch.decode_s is None or any(t.generated_tokens is None for t in answered):
            decodable = False
            break
        decode_tokens += sum(max(t.generated_tokens - 1, 0) for t in answered)  # type: ignore[operator]
        decode_seconds += batch.decode_s
    wall = sum(b.wall_s for b in batches)
    return SpeedSummary(
        batch_size=batch_size,
        requests=len(timings),
        failed=len(timings) - len(ok),
        ttft_ms=1000 * float(np.median(ttfts)) if ttfts and len(ttfts) == len(ok) else None,
        decode_tokens_per_second=(
            decode_tokens / decode_seconds if decodable and decode_seconds > 0 and ok else None
        ),
        latency_ms={
            f"p{q}": 1000 * float(np.percentile(latencies, q)) if latencies else None for q in PERCENTILES
        },
        requests_per_second=len(ok) / wall if ok and wall > 0 else None,
        generated_tokens=_total(t.generated_tokens for t in ok),
        prompt_tokens=_total(t.prompt_tokens for t in ok),
        image_tokens=_total(t.image_tokens for t in ok),
    )


def _total(values: object) -> int | None:
    """The sum, or None where any one is unknown."""
    found = list(values)  # type: ignore[call-overload]
    if not found or any(v is None for v in found):
        return None
    return int(sum(found))
