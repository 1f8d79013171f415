"""What a checkpoint folder holds, and its identity from its bytes.

No torch here: kobench fingerprints a model before it loads it, and a re-run answered from the response
cache never loads it at all, so the fingerprint must be cheap to import and must not build the model.

The identity is a sha256 over the bytes of every file the model loads (the config, the vision weights and
the whole LM folder: weights, config, tokenizer, chat template), so new weights at the same path are a new
model and kobench's response cache never answers for the old one. Hashing a 1 GB checkpoint takes a few
seconds, so each file's digest is remembered by (size, mtime, inode) in a small JSON file; a file modified
less than RACY_SECONDS before it was hashed is not remembered (a rewrite within the file system's mtime
granularity would otherwise keep its old digest: git's "racy" case).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

CONFIG_FILE = "myvlm_config.json"
VISION_FILE = "vision.safetensors"
RACY_SECONDS = 2.0
_CHUNK = 1 << 20


def model_files(folder: Path) -> list[Path]:
    """The files whose bytes decide the model's answers, in a fixed order. FileNotFoundError where the
    folder is no myvlm checkpoint."""
    config = folder / CONFIG_FILE
    if not config.is_file():
        raise FileNotFoundError(f"{folder} has no {CONFIG_FILE} (not a myvlm checkpoint folder)")
    lm_folder = folder / json.loads(config.read_text(encoding="utf-8")).get("lm_folder", "lm")
    for needed in (folder / VISION_FILE, lm_folder):
        if not needed.exists():
            raise FileNotFoundError(f"{needed} not found (a myvlm checkpoint holds it)")
    lm_files = []
    for root, dirs, names in os.walk(lm_folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # .cache/, .git/ are not the model
        lm_files.extend(Path(root) / name for name in names if not name.startswith("."))
    return [config, folder / VISION_FILE, *sorted(lm_files)]


def checkpoint_digest(folder: Path, cache: Path | None = None) -> str:
    """sha256 (hex) over each model file's path in the folder and the sha256 of its bytes."""
    remembered = _read_cache(cache)
    digest = hashlib.sha256()
    changed = False
    for path in model_files(folder):
        key = str(path.resolve())
        stat = path.stat()
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        entry = remembered.get(key)
        if entry is not None and entry.get("stamp") == stamp:
            file_digest = entry["sha256"]
        else:
            file_digest = _sha256(path)
            if time.time_ns() - stat.st_mtime_ns > RACY_SECONDS * 1e9:
                remembered[key] = {"stamp": stamp, "sha256": file_digest}
                changed = True
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_digest}\n".encode())
    if cache is not None and changed:
        _write_cache(cache, remembered)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_cache(cache: Path | None) -> dict[str, dict]:
    if cache is None:
        return {}
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or damaged: it is only a cache
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(cache: Path, remembered: dict[str, dict]) -> None:
    """Atomically (two runs at once: the last one's file wins, and either is right)."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{cache.name}.", dir=cache.parent)
    except OSError:  # a read-only cache folder costs a re-hash next time, nothing more
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(remembered, f)
        os.replace(tmp, cache)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
