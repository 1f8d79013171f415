"""Peak memory while a batch size is measured: the device's allocated memory on CUDA (reset before each
batch size), the process's peak resident set on the CPU (which only grows: the peak so far)."""

from __future__ import annotations

import resource
import sys
from typing import Any


def reset_peak(device: Any) -> None:
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: Any) -> tuple[float, str]:
    """(megabytes, what they are)."""
    import torch

    if torch.device(device).type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda max_memory_allocated"
    return process_peak_rss_mb(), "process peak RSS"


def process_peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
