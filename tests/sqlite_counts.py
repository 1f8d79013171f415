"""Rows in a kobench SQLite cache, read as another process would while a run writes it."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def count_rows(path: Path, table: str) -> int:
    """Rows in `table` of the SQLite file at `path`, opened read-only; 0 before the file or table exists."""
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not made yet
        return 0
    finally:
        db.close()
