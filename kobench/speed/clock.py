"""A clock that is read only after the device has finished what was queued on it.

CUDA runs kernels asynchronously: `generate` can return to Python before the GPU has produced its last
token, so a plain `perf_counter()` after it measures how fast work was queued, not done. Every read here
synchronises the device first, then reads the host clock. (CUDA events time the kernels alone; end-to-end
latency also holds the host's work, the processor and the decoding of the answer, so the host clock it is.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class Clock:
    """`now()`: synchronise, then read the timer. Both are injectable, so the order is testable on a CPU."""

    def __init__(
        self,
        synchronize: Callable[[], None] | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._synchronize = synchronize
        self._timer = timer

    def now(self) -> float:
        if self._synchronize is not None:
            self._synchronize()
        return self._timer()


def device_clock(device: Any) -> Clock:
    """The clock for a torch device: CUDA synchronised before each read; the CPU has nothing in flight."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return Clock(lambda: torch.cuda.synchronize(device))
    if device.type == "mps":
        return Clock(torch.mps.synchronize)
    return Clock()
