"""Temporary files named after the process that writes them, so a later process can tell the leftovers of
a killed one (its pid gone) from the files of one still writing, and clear only those."""

from __future__ import annotations

import os
import secrets
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


def temporary_name(path: Path, suffix: str = ".tmp") -> Path:
    """A new name beside `path` as make_temporary gives, the file not made: whoever writes it creates it
    with the usual permissions (the umask's), where mkstemp's are the owner's alone."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")


def clear_stale_temporaries(path: Path, suffix: str = ".tmp") -> int:
    """Remove the temporaries of `path` (as make_temporary names them) whose process is gone; how many."""
    cleared = 0
    for leftover in path.parent.glob(f".{path.name}.*.*{suffix}"):
        pid = leftover.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not alive(pid):
            leftover.unlink(missing_ok=True)
            cleared += 1
    return cleared
