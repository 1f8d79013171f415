"""Opening kobench's SQLite stores (the response and judgement caches) so that a damaged file is never
trusted on a guess: SQLite checks it before anything is changed, a table of that name that is not
kobench's is refused, and every failure is one line naming the file and the way out, never a traceback."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kobench.errors import BadInputError


@dataclass(frozen=True)
class Store:
    """What a store is called in messages ("response cache") and what it keeps ("answers")."""

    path: Path
    name: str
    keeps: str

    def make_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where the folder should be, no permission, a full disk
            raise BadInputError(
                f"--cache-dir {self.path.parent}: cannot make the folder ({exc.strerror or exc});"
                " choose another --cache-dir (or KOBENCH_CACHE_DIR), or pass --no-cache"
            ) from None

    @contextmanager
    def guarded(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:  # cannot open or write it (permissions, locked, disk)
            raise BadInputError(
                f"--cache-dir {self.path.parent}: cannot {doing} the {self.name} {self.path} ({exc});"
                " choose another --cache-dir (or KOBENCH_CACHE_DIR), or pass --no-cache"
            ) from None
        except sqlite3.DatabaseError as exc:
            raise BadInputError(
                f"{self.path}: the {self.name} is damaged ({exc}; found on {doing}), so none of its"
                f" {self.keeps} is used. Move it aside (mv {self.path} {self.path}.damaged;"
                f" `sqlite3 {self.path}.damaged .recover | sqlite3 {self.path}` salvages what it can) and run"
                " again, or pass --no-cache or another --cache-dir"
            ) from None


def check_sound(db: sqlite3.Connection, table: str, required: set[str]) -> set[str]:
    """Raise sqlite3.DatabaseError unless SQLite finds the file sound and `table`, where it exists, has
    the columns kobench's first version of it had. Returns the table's columns (empty: no table yet)."""
    if (found := db.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
        raise sqlite3.DatabaseError(f"database check: {found}")
    columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    if columns and not columns >= required:
        raise sqlite3.DatabaseError(f"its table {table!r} is not kobench's (columns {sorted(columns)})")
    return columns
