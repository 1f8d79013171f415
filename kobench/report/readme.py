"""Put a leaderboard into a README between markers, touching nothing else.

    <!-- kobench:NAME:start -->
    ...replaced...
    <!-- kobench:NAME:end -->

Running it twice with the same results changes nothing; a missing, doubled or misordered marker is an
error and the file is left as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

from kobench.errors import BadInputError
from kobench.files.output_file import writing
from kobench.files.text import read_utf8

NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def markers(name: str) -> tuple[str, str]:
    return f"<!-- kobench:{name}:start -->", f"<!-- kobench:{name}:end -->"


def replace_between(text: str, name: str, block: str, where: str = "README") -> str:
    if not NAME.match(name):
        raise BadInputError(f"--marker {name!r}: use letters, digits, '.', '_' or '-'")
    start, end = markers(name)
    n_start, n_end = text.count(start), text.count(end)
    if n_start != 1 or n_end != 1:
        problems = [f"{m} appears {n} times" for m, n in ((start, n_start), (end, n_end)) if n != 1]
        raise BadInputError(f"{where}: each marker must appear exactly once: {'; '.join(problems)}")
    head, rest = text.split(start)
    if end not in rest:
        raise BadInputError(f"{where}: {end} comes before {start}")
    _, tail = rest.split(end)
    return f"{head}{start}\n\n{block.strip()}\n\n{end}{tail}"


def update_readme(path: Path, name: str, block: str) -> bool:
    """Replace the block in place (atomically); True when the file changed."""
    try:
        text = read_utf8(path)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc}") from exc
    new = replace_between(text, name, block, str(path))
    if new == text:
        return False
    from kobench.results import write_text_atomic

    with writing(path, "README"):
        write_text_atomic(path, new)
    return True
