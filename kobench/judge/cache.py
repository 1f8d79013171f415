"""Judgements already made (SQLite): keyed by the judge endpoint, the exact messages and the sampling
settings. Only judgements that parsed are stored: a failed or unreadable one is always asked again."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path


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
        self._db = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS judgements (key TEXT PRIMARY KEY, text TEXT NOT NULL, model TEXT)"
            )

    def get(self, key: str) -> tuple[str, str | None] | None:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute("SELECT text, model FROM judgements WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, key: str, text: str, model: str | None) -> None:
        if self._db is None:
            return
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO judgements VALUES (?, ?, ?)", (key, text, model))
            self._db.commit()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
