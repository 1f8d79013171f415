"""How many threads torch gets for generating on the CPU, batch by batch.

Every core this process may use, as torch's own default and a bare `model.generate` loop have: a model whose
matrix products dominate (most real ones) runs about cores/(cores - 1) slower with one core left idle, 1.58x
on two cores for a 44M-parameter LLaVA (bench/hf_overhead.py --model). One core is given up only while a
background thread decodes the next batch's images beside generate, since OpenMP's workers spin-wait for one
another at the end of every op and one of them losing its core to the decoder stalls them all. Where
OMP_NUM_THREADS is set, the user has chosen and torch's threads are left alone.

On a machine another busy process shares, all cores is the wrong count (the same is true of the bare loop):
set OMP_NUM_THREADS to the cores that are free. Measured on two cores beside one busy process: the 44M
LLaVA took 55.9 s with two threads, 32.4 s with one.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

# The decoding thread's turns at the GIL slow a small model's generate (Python dispatching one op after
# another) by about a tenth: measured on two cores with the demo's small images.
GIL_SHARE = 0.1


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, as taskset and cgroup cpusets set it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


@dataclass
class CpuThreads:
    """torch's CPU thread count for each batch: `cores`, or one fewer while images decode beside it."""

    cores: int
    managed: bool  # False where OMP_NUM_THREADS is set: the user's count stays
    _current: int | None = field(default=None, repr=False)

    @classmethod
    def detect(cls) -> CpuThreads:
        """This process's share of the cores: all of them, or under a data parallel launcher its part of
        them (LOCAL_WORLD_SIZE processes on this machine; torchrun itself sets OMP_NUM_THREADS=1)."""
        try:
            local_processes = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
        except ValueError:
            local_processes = 1  # Ranks.from_env reports torchrun's variables that are not numbers
        cores = max(1, usable_cores() // local_processes)
        return cls(cores=cores, managed="OMP_NUM_THREADS" not in os.environ)

    def count(self, decoding_beside: bool) -> int:
        return max(1, self.cores - 1) if decoding_beside else self.cores

    def set_for_batch(self, decoding_beside: bool) -> None:
        """Set torch's thread count for the next generate call (only when it changes: cheap either way)."""
        if not self.managed:
            return
        wanted = self.count(decoding_beside)
        if wanted != self._current:
            import torch

            torch.set_num_threads(wanted)
            self._current = wanted

    def overlap_cost(self) -> float:
        """What decoding the next batch beside this one's generate costs, as a share of generate's time:
        its turns at the GIL, and (where kobench sets the threads) the core torch gives up, worth up to
        cores/(cores - 1) - 1 of generate for a compute-bound model. On one core nothing can overlap."""
        if self.cores == 1:
            return math.inf
        lost_core = self.cores / (self.cores - 1) - 1 if self.managed else 0.0
        return GIL_SHARE + lost_core
