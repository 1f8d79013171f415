"""Temporary files named after the process that writes them, so a later process can tell the leftovers of
a killed one (its pid gone) from the files of one still writing, and clear only those."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def alive(pid: str | int) -> bool:
    """Whether a process with this pid runs on this machine (a pid that is no number: no)."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # another user's process
        return True
    return True


def make_temporary(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """mkstemp beside `path`, named `.<name>.<pid>.<random><suffix>`: (fd, its path)."""
    return tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=suffix, dir=path.parent)


def clear_stale_temporaries(path: Path, suffix: str = ".tmp") -> int:
    """Remove the temporaries of `path` (as make_temporary names them) whose process is gone; how many."""
    cleared = 0
    for leftover in path.parent.glob(f".{path.name}.*.*{suffix}"):
        pid = leftover.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not alive(pid):
            leftover.unlink(missing_ok=True)
            cleared += 1
    return cleared
