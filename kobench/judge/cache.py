"""Judgements already made (SQLite): keyed by the judge endpoint, the exact messages and the sampling
settings. Only judgements that parsed are stored: a failed or unreadable one is always asked again. A
damaged file, or one whose `judgements` table is not kobench's, stops the command with one line naming it
and how to recover (as the response cache does): no verdict is trusted on a guess."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

from kobench.files.sqlite_store import Store, check_sound


def judgement_key(endpoint: str, messages: list[dict], temperature: float, max_tokens: int | None) -> str:
    blob = json.dumps(
        {"endpoint": endpoint, "messages": messages, "temperature": temperature, "max_tokens": max_tokens},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class JudgementCache:
    """`path=None`: nothing is read or written (--no-cache)."""

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._store = Store(path or Path("."), "judgement cache", "verdicts")
        if path is not None:
            self._store.make_folder()
            with self._store.guarded("open"):
                self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
                check_sound(self._db, "judgements", {"key", "text"})
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS judgements"
                    " (key TEXT PRIMARY KEY, text TEXT NOT NULL, model TEXT)"
                )
                self._db.commit()

    def get(self, key: str) -> tuple[str, str | None] | None:
        if self._db is None:
            return None
        with self._lock, self._store.guarded("read"):
            row = self._db.execute("SELECT text, model FROM judgements WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, key: str, text: str, model: str | None) -> None:
        if self._db is None:
            return
        with self._lock, self._store.guarded("write"):
            self._db.execute("INSERT OR REPLACE INTO judgements VALUES (?, ?, ?)", (key, text, model))
            self._db.commit()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
