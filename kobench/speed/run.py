"""The whole of `kobench speed`: the tasks' requests, the model loaded once, then for each batch size
warm-up batches, timed batches and peak memory, written as the efficiency results' speed.json.

hf models are timed from inside the adapter (hf_timing.py: a prefill-only pass for the first token);
servers (`openai:`, and `vllm:`, whose server kobench starts) by streaming, each batch a wave of that many
concurrent requests (stream.py). A server's usage block does not split image tokens from text tokens, so
there they are unknown, never estimated.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kobench.config import RunConfig
from kobench.efficiency import EfficiencyResult, EfficiencyValue
from kobench.errors import BadInputError
from kobench.speed.timings import BatchTiming, SpeedSummary, measure_batches, summarise
from kobench.types import Request

SPEED_ADAPTERS = ("hf", "openai", "vllm")


@dataclass
class Timed:
    """A loaded model ready to time: its batch runner, what its numbers are comparable under, how to read
    its peak memory, and how to let it go."""

    run_batch: Callable[[Sequence[Request]], BatchTiming]
    environment: dict[str, Any]
    max_batch: int | None = None  # the interface's limit on requests per call (InternVL's chat: 1)
    max_batch_why: str | None = None
    reset_memory: Callable[[], None] = lambda: None
    peak_memory: Callable[[], tuple[float, str] | None] = lambda: None
    close: Callable[[], None] = lambda: None


def speed_requests(prepared: Sequence[Any]) -> list[Request]:
    """The generation requests of the prepared tasks, in order: log-likelihood requests (no generation) and
    follow-up turns that carry an earlier answer are left out."""
    found = []
    for task in prepared:
        for item in task.items:
            request = item.request
            if request is None or request.continuations or request.depends_on:
                continue
            found.append(request)
    return found


def measure(
    timed: Timed, requests: Sequence[Request], batch_sizes: Sequence[int], warmup: int
) -> list[tuple[SpeedSummary, tuple[float, str] | None, str | None]]:
    """Per batch size: its summary, its peak memory and, where it could not be measured, why."""
    groups: dict[Any, list[Request]] = {}
    for request in requests:  # a batch shares its generation settings, as in a run
        groups.setdefault(request.generation, []).append(request)
    out = []
    for size in batch_sizes:
        if timed.max_batch is not None and size > timed.max_batch:
            why = f"the model's interface takes at most {timed.max_batch} per call ({timed.max_batch_why})"
            out.append((summarise(size, []), None, why))
            continue
        timed.reset_memory()
        batches: list[BatchTiming] = []
        for n, group in enumerate(groups.values()):
            batches += measure_batches(timed.run_batch, group, size, warmup if n == 0 else 0)
        out.append((summarise(size, batches), timed.peak_memory(), None))
    return out


def efficiency_values(
    measured: Sequence[tuple[SpeedSummary, tuple[float, str] | None, str | None]],
    conditions: dict[str, Any],
) -> list[EfficiencyValue]:
    """Each batch size's numbers as efficiency values, "TTFT ms (batch 8)" and so on."""
    return [v for summary, memory, why in measured for v in _batch_values(summary, memory, why, conditions)]


# (metric, label, unit, better, why a value can be missing)
_METRICS = (
    ("ttft_ms", "TTFT ms", "ms", "lower", "first-token time not measurable"),
    (
        "decode_tokens_per_second",
        "Decode tokens/s",
        "tokens/s",
        "higher",
        "no decoded tokens, or their count unknown",
    ),
    ("latency_p50_ms", "Latency p50 ms", "ms", "lower", "no answers"),
    ("latency_p90_ms", "Latency p90 ms", "ms", "lower", "no answers"),
    ("latency_p99_ms", "Latency p99 ms", "ms", "lower", "no answers"),
    ("requests_per_second", "Requests/s", "req/s", "higher", "no answers"),
    ("peak_memory_mb", "Peak memory MB", "MB", "lower", "not measured"),
)


def _batch_values(
    summary: SpeedSummary, memory: tuple[float, str] | None, why: str | None, conditions: dict[str, Any]
) -> list[EfficiencyValue]:
    numbers = {
        "ttft_ms": summary.ttft_ms,
        "decode_tokens_per_second": summary.decode_tokens_per_second,
        **{f"latency_{q}_ms": ms for q, ms in summary.latency_ms.items()},
        "requests_per_second": summary.requests_per_second,
        "peak_memory_mb": memory[0] if memory else None,
    }
    where = {**conditions, "batch_size": summary.batch_size}
    failed = f"{summary.failed} of {summary.requests} requests failed" if summary.failed else None
    values = []
    for metric, label, unit, direction, unknown in _METRICS:
        number = numbers[metric]
        notes = [n for n in (why or (unknown if number is None else None), failed) if n]
        extra = {"memory": memory[1]} if metric == "peak_memory_mb" and memory else {}
        values.append(
            EfficiencyValue(
                metric=metric,
                benchmark=f"{label} (batch {summary.batch_size})",
                value=number,
                unit=unit,
                direction=direction,  # type: ignore[arg-type]
                n=summary.requests - summary.failed,
                conditions={**where, **extra},
                note="; ".join(notes) or None,
            )
        )
    return values


def run_speed(
    config: RunConfig,
    batch_sizes: Sequence[int],
    warmup: int,
    prepare: Callable[[RunConfig], list[Any]],
    load: Callable[[RunConfig, int], Timed],
) -> tuple[EfficiencyResult, list[tuple[SpeedSummary, tuple[float, str] | None, str | None]]]:
    """Measured and as a speed result. `prepare` gives the prepared tasks, `load` the timed model."""
    from kobench.models.registry import model_name, parse_model_spec
    from kobench.provenance import VERSION, package_versions

    if not batch_sizes or any(b < 1 for b in batch_sizes):
        raise BadInputError(f"--batch-sizes: each at least 1, got {list(batch_sizes)}")
    if warmup < 0:
        raise BadInputError(f"--warmup: at least 0, got {warmup}")
    adapter, target, entry = parse_model_spec(config.model)
    if adapter not in SPEED_ADAPTERS:
        raise BadInputError(
            f"--model {config.model}: kobench speed times {', '.join(a + ':' for a in SPEED_ADAPTERS)} models"
            f" (the {adapter} adapter is a baseline with no generation to time)"
        )
    prepared = prepare(config)
    requests = speed_requests(prepared)
    if not requests:
        raise BadInputError(f"--tasks {','.join(config.tasks)}: no generation requests in them to time")
    timed = load(config, max(batch_sizes))
    try:
        measured = measure(timed, requests, batch_sizes, warmup)
    finally:
        timed.close()
    tasks = [p.spec.name for p in prepared]
    environment = {
        **timed.environment,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
    }
    conditions = {
        "device": environment.get("device"),
        "dtype": environment.get("dtype"),
        "tasks": tasks,
        "limit": config.data.limit,
        "max_new_tokens": sorted({r.generation.max_new_tokens for r in requests}),
        "warmup": warmup,
    }
    result = EfficiencyResult(
        kind="speed",
        model=model_name(adapter, target, entry),
        spec=config.model,
        kobench_version=VERSION,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        environment=environment,
        values=efficiency_values(measured, conditions),
    )
    return result, measured
