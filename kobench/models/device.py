"""What `--device auto` means on this machine, told without importing torch where that can be told for sure:
a re-run answered from the cache must not pay torch's import, yet its cache key must name the device.
"""

from __future__ import annotations

import ast
import ctypes
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any


def auto_device() -> str:
    """What device "auto" means: cuda where torch.cuda.is_available() would say so, else cpu."""
    gpus = visible_nvidia_gpus()
    if gpus is None:  # cannot be told without torch
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return "cuda" if gpus else "cpu"


def visible_nvidia_gpus() -> int | None:
    """How many NVIDIA GPUs torch would see, without importing it; None where only torch can tell (a ROCm
    build, or another system than Linux). 0 for a torch built without CUDA, for CUDA_VISIBLE_DEVICES hiding
    every GPU (CUDA's rules: the list ends at its first entry that is no index or id), and where no NVIDIA
    driver is installed (its management library, libnvidia-ml, ships with every driver that runs CUDA)."""
    spec = importlib.util.find_spec("torch")
    if spec is None:  # nothing uses a GPU (and the model cannot load, though cached answers can serve)
        return 0
    build = torch_build(spec)
    if build is None or build.get("hip") or (build.get("cuda") and sys.platform != "linux"):
        return None
    if not build.get("cuda"):
        return 0
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    first = visible.split(",")[0].strip() if visible is not None else "0"
    if not (first.isdigit() or first.startswith(("GPU-", "MIG-"))):
        return 0
    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return 0
    if nvml.nvmlInit_v2() != 0:
        return None
    try:
        count = ctypes.c_uint(0)
        if nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) != 0:
            return None
    finally:
        nvml.nvmlShutdown()
    return 0 if first.isdigit() and int(first) >= count.value else count.value


def torch_build(spec: Any) -> dict[str, str | None] | None:
    """`torch.version.cuda` and `.hip` read from the installed torch's version.py without importing torch;
    None when torch is not installed or the file is not as expected."""
    folders = getattr(spec, "submodule_search_locations", None) or []
    try:
        tree = ast.parse(Path(folders[0], "version.py").read_text(encoding="utf-8"))
    except (IndexError, OSError, SyntaxError, ValueError):
        return None
    found: dict[str, str | None] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id in ("cuda", "hip") and node.value is not None:
            value = node.value
            if isinstance(value, ast.Constant) and (value.value is None or isinstance(value.value, str)):
                found[target.id] = value.value
    return found if set(found) == {"cuda", "hip"} else None
