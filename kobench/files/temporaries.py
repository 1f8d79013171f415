"""Temporary files named after the process that writes them, so a later process can tell the leftovers of
a killed one (its pid gone) from the files of one still writing, and clear only those."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def alive(pid: str | int) -> bool:
    """Whether a process with this pid runs on this machine (a pid that is no number: no)."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # another user's process
        return True
    return True


def temporary_name(path: Path, suffix: str = ".tmp") -> Path:
    """A new name beside `path`, `.<name>.<pid>.<random><suffix>`, the file not made: whoever writes it
    creates it (exclusively) with the umask's permissions, where mkstemp's are the owner's alone."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")


@contextmanager
def atomic_file(path: Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """A UTF-8 text file to write in the block, renamed onto `path` when the block ends (removed if it
    raises), so a reader never sees half a file. Made with the umask's permissions: results, samples,
    reports and READMEs are written to be shared (mkstemp made a user's README owner-only)."""
    tmp = temporary_name(path)
    try:
        with open(tmp, "x", encoding="utf-8", newline=newline) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def clear_stale_temporaries(path: Path, suffix: str = ".tmp") -> int:
    """Remove the temporaries of `path` (as make_temporary names them) whose process is gone; how many."""
    cleared = 0
    for leftover in path.parent.glob(f".{path.name}.*.*{suffix}"):
        pid = leftover.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not alive(pid):
            leftover.unlink(missing_ok=True)
            cleared += 1
    return cleared
