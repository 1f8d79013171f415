"""Files a command is told to write (`report --out`, `plot --out`, `gate --json`, a README to update):
refused before any work where they cannot be written, and a write that fails later (a full disk) ends
in one line naming the option and the file, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kobench.errors import BadInputError
from kobench.files.temporaries import temporary_name


def check_output_file(path: Path, option: str) -> Path:
    """`path` can be written: not a folder, its folder is one (made where missing) that takes a new file
    (tried, as the atomic write beside it will). BadInputError naming `option` and the path otherwise."""
    path = Path(path)
    if path.is_dir():
        raise BadInputError(f"{option} {path}: a folder, not a file; name the file to write")
    folder = next((p for p in [path.parent, *path.parent.parents] if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise BadInputError(f"{option} {path}: {folder} is a file, not a folder")
    with writing(path, option):
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = temporary_name(path, suffix=".probe")
        probe.open("x").close()
        probe.unlink()
    return path


@contextmanager
def writing(path: Path, option: str) -> Iterator[None]:
    """An OSError inside becomes BadInputError naming `option` and `path` (and the reason)."""
    try:
        yield
    except OSError as exc:
        raise BadInputError(f"{option} {path}: cannot write it ({exc.strerror or exc})") from None
