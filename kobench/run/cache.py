"""Response cache (SQLite, WAL): a finished request is never generated twice.

The key covers everything that changes the output: adapter, model fingerprint (a new checkpoint at
the same path is a new model), output-relevant adapter settings, every message with each image's
content hash, the generation settings, and every hint an adapter may read (kind, options, region,
question: an OCR baseline answers the same image differently for another region or option list).
Batch size, timeouts and concurrency are not in it.
A log-likelihood request's key also has its continuations, and its answer is stored as its scores (JSON).
Failed responses are never stored. A cache that cannot be opened, or that SQLite finds damaged
(checked when it is opened, and on every read and write), stops the command with one line naming the
file and how to recover: its answers are never trusted on a guess. Responses stored before kobench
recorded why an answer ended (and its prompt and image tokens) come back with `finish_reason` and
`image_tokens` None and 0 prompt tokens: counted as unknown, never guessed. A cached answer keeps the
token counts its call had.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kobench.files.sqlite_store import Store, check_sound
from kobench.types import ImagePart, Request, Response

# 2: the request's hints (kind, options, region, question) are part of the key.
CACHE_KEY_VERSION = "2"
# The columns of the table's first version; a table without them is not kobench's.
_FIRST_COLUMNS = {"key", "text", "n_tokens", "seconds"}
# (name, SQL type) of the columns added to the table since its first version.
_ADDED_COLUMNS = (
    ("finish_reason", "TEXT"),
    ("prompt_tokens", "INTEGER"),
    ("scores", "TEXT"),
    ("image_tokens", "INTEGER"),
)


def request_key(adapter: str, fingerprint: str, settings: dict[str, Any], request: Request) -> str:
    messages = [
        {
            "role": m.role,
            "content": [
                {"image": p.image.sha256()} if isinstance(p, ImagePart) else {"text": p.text}
                for p in m.content
            ],
        }
        for m in request.messages
    ]
    payload = {
        "v": CACHE_KEY_VERSION,
        "adapter": adapter,
        "model": fingerprint,
        "settings": settings,
        "messages": messages,
        "generation": request.generation.as_dict(),
        "kind": request.kind,
        "options": [list(option) for option in request.options],
        "region": list(request.region) if request.region is not None else None,
        "question": request.question,
    }
    if request.continuations:  # only log-likelihood requests have them: every other key is as it was
        payload["continuations"] = list(request.continuations)
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, path: Path | None):
        """path None: a cache that remembers nothing (--no-cache)."""
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._store = Store(path or Path("."), "response cache", "answers")
        if path is not None:
            self._store.make_folder()
            with self._store.guarded("open"):
                self._db = sqlite3.connect(path, timeout=30)
                self._open(self._db)

    def _open(self, db: sqlite3.Connection) -> None:
        """Check the file before changing anything in it: SQLite finds it sound, and a `responses` table
        there is kobench's; then WAL, and the table (or the columns added since its first version)."""
        columns = check_sound(db, "responses", _FIRST_COLUMNS)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT NOT NULL,"
            " n_tokens INTEGER NOT NULL, seconds REAL NOT NULL)"
        )
        columns = columns or _FIRST_COLUMNS
        # Columns added later: an older cache gains them, its rows NULL there.
        for column, kind in _ADDED_COLUMNS:
            if column not in columns:
                db.execute(f"ALTER TABLE responses ADD COLUMN {column} {kind}")
        db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, Response]:
        if self._db is None or not keys:
            return {}
        found: dict[str, Response] = {}
        with self._store.guarded("read"):
            self._get_into(self._db, found, keys)
        return found

    @staticmethod
    def _get_into(db: sqlite3.Connection, found: dict[str, Response], keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for key, text, n_tokens, seconds, finish, prompt_tokens, scores, image_tokens in db.execute(
                "SELECT key, text, n_tokens, seconds, finish_reason, prompt_tokens, scores, image_tokens"
                f" FROM responses WHERE key IN ({marks})",
                chunk,
            ):
                found[key] = Response(
                    text=None if scores is not None else text,
                    scores=tuple(json.loads(scores)) if scores is not None else None,
                    n_tokens=n_tokens,
                    seconds=seconds,
                    cached=True,
                    finish_reason=finish,
                    prompt_tokens=prompt_tokens or 0,
                    image_tokens=image_tokens,
                )

    def put_many(self, entries: Iterable[tuple[str, Response]]) -> None:
        if self._db is None:
            return
        rows = [
            (
                k,
                r.text or "",  # a log-likelihood answer has no text (the column predates it: NOT NULL)
                r.n_tokens,
                r.seconds,
                r.finish_reason,
                r.prompt_tokens,
                json.dumps(list(r.scores)) if r.scores is not None else None,
                r.image_tokens,
            )
            for k, r in entries
            if r.ok
        ]
        if rows:
            with self._store.guarded("write"):
                self._db.executemany(
                    "INSERT OR REPLACE INTO responses"
                    " (key, text, n_tokens, seconds, finish_reason, prompt_tokens, scores, image_tokens)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.commit()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
