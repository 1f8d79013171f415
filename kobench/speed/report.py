"""The terminal table of `kobench speed`: one row per batch size."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from kobench.efficiency import EfficiencyResult
from kobench.speed.timings import SpeedSummary


def speed_table(
    result: EfficiencyResult,
    measured: Sequence[tuple[SpeedSummary, tuple[float, str] | None, str | None]],
    fmt: str = "github",
) -> str:
    rows = []
    notes = []
    for summary, memory, why in measured:
        if why:
            notes.append(f"batch {summary.batch_size}: not measured: {why}")
            continue
        rows.append(
            [
                summary.batch_size,
                summary.requests,
                summary.failed,
                _f(summary.ttft_ms),
                _f(summary.decode_tokens_per_second),
                *(_f(summary.latency_ms[q]) for q in ("p50", "p90", "p99")),
                _f(summary.requests_per_second, 2),
                _f(memory[0] if memory else None, 0),
            ]
        )
    header = [
        "batch",
        "requests",
        "failed",
        "TTFT ms",
        "decode tok/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "req/s",
        "peak MB",
    ]
    env = result.environment
    memory_kind = next((m[1] for _, m, _ in measured if m), None)
    lines = [
        f"{result.model} on {env.get('device')} ({env.get('dtype') or 'server'}),"
        f" warm-up {result.values[0].conditions.get('warmup') if result.values else '?'} batch(es)"
        + (f"; peak memory: {memory_kind}" if memory_kind else ""),
        "",
        tabulate(rows, headers=header, tablefmt=fmt, disable_numparse=True),
    ]
    return "\n".join(lines + notes)


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"
