"""The hf adapter's batch size, shared by its generate and log-likelihood paths: fixed, or `auto`, which
halves on out-of-memory (the batch that ran out then runs again in parts, at the size reached)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def out_of_memory(exc: BaseException) -> bool:
    """torch's OutOfMemoryError (CUDA, or another accelerator's), by name: no torch import needed here."""
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()


def free_accelerator_memory() -> None:
    """What an out-of-memory batch left behind, given back before its parts run."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


@dataclass
class BatchSize:
    value: int
    auto: bool = False

    def __post_init__(self) -> None:
        self.start = self.value
        self.halvings = 0

    def shrink(self, failed: int) -> None:
        """A batch of `failed` rows ran out of memory: at most half of it from now on."""
        smaller = max(1, min(self.value, failed // 2))
        self.halvings += smaller < self.value
        self.value = smaller

    def report(self) -> dict[str, Any]:
        if not self.auto:
            return {"mode": "fixed", "batch_size": self.value}
        return {"mode": "auto", "start": self.start, "final": self.value, "halvings": self.halvings}
