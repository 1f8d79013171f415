"""Model identities: a string that changes whenever a model's outputs may change (and a transformers
model's display name, which the hf adapter and the registry share).

A local folder hashes its small config/tokenizer/processor/code files and each weight file's name, size
and modification time (a new checkpoint at the same path is a new model). A Hub model is its resolved
commit, taken from the Hub or, offline, from the local Hugging Face cache. A model kobench generated
(the demo's tiny one) is named by its generator, version and seed, plus a digest of its files' contents
(recorded when it was built), so the same build on another machine, at another time, is the same model;
once any of its files changes it is a user checkpoint like any other.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kobench.errors import BadInputError

SMALL_FILE_SUFFIXES = (".json", ".jinja", ".txt", ".model", ".py", ".tiktoken")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
SMALL_FILE_LIMIT = 5 * 1024 * 1024
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
# Written last by kobench's model generators: the generator's spec and each file's sha256.
GENERATED_MARKER = "kobench-tiny-model.json"
# Content digests are only worth their read for small generated models.
GENERATED_SIZE_LIMIT = 64 * 1024 * 1024


def model_fingerprint(path_or_id: str, revision: str | None = None) -> str:
    """'local:<16 hex>' for a folder, 'hub:<id>@<commit>' for a Hub model; BadInputError if neither."""
    folder = Path(path_or_id).expanduser()
    if folder.is_dir():
        return generated_fingerprint(folder) or "local:" + local_digest(folder)[:16]
    if looks_like_path(path_or_id):
        raise BadInputError(f"model folder not found: {path_or_id}")
    return f"hub:{path_or_id}@{hub_commit(path_or_id, revision)}"


def pinned_commit(fingerprint: str) -> str | None:
    """The commit a 'hub:<id>@<commit>' fingerprint names; None for a local folder's."""
    if not fingerprint.startswith("hub:"):
        return None
    commit = fingerprint.split("+", 1)[0].rpartition("@")[2]
    return commit if _COMMIT.match(commit) else None


def hf_name(target: str) -> str:
    """A local folder by its folder name (`hf:./ckpt/step-900` is `step-900`), a Hub model by its id."""
    local = Path(target).expanduser().is_dir() or looks_like_path(target)
    return Path(target.rstrip("/\\")).name if local else target


def looks_like_path(path_or_id: str) -> bool:
    """True for strings that can only mean a local folder (a Hub id is 'name' or 'owner/name')."""
    return (
        path_or_id.startswith(("/", ".", "~"))
        or "\\" in path_or_id
        or path_or_id.count("/") > 1
        or (os.sep != "/" and os.sep in path_or_id)
    )


def local_digest(folder: Path) -> str:
    """sha256 over small files' contents and weight files' (name, size, mtime_ns), in path order."""
    digest = hashlib.sha256()
    for path in sorted(_files(folder)):
        rel = path.relative_to(folder).as_posix()
        name = path.name
        stat = path.stat()
        if name.endswith(WEIGHT_SUFFIXES):
            digest.update(f"weight\0{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        elif name.endswith(SMALL_FILE_SUFFIXES) and stat.st_size <= SMALL_FILE_LIMIT:
            digest.update(f"file\0{rel}\0{stat.st_size}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def write_generated_marker(folder: Path, spec: dict[str, Any], written: Iterable[str]) -> None:
    """Mark `folder` as complete: the generator's `spec`, the top-level names it `written`, and the
    sha256 of every file in it. Written last (atomically), so its presence means the folder is whole."""
    digests = {rel: _sha256(path) for rel, path in _model_files(folder)}
    marker = folder / GENERATED_MARKER
    tmp = folder / (GENERATED_MARKER + ".tmp")
    tmp.write_text(json.dumps({**spec, "files": sorted(written), "digests": digests}, indent=2), "utf-8")
    tmp.replace(marker)


def generated_fingerprint(folder: Path) -> str | None:
    """'generated:<family>@<version>:seed=<seed>:<12 hex>' while every file is as the generator wrote it,
    else None (a missing, added or edited file makes the folder a user checkpoint)."""
    try:
        marker = json.loads((folder / GENERATED_MARKER).read_text(encoding="utf-8"))
        family, version, seed, digests = (marker[k] for k in ("family", "version", "seed", "digests"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    present = dict(_model_files(folder))
    if not isinstance(digests, dict) or set(present) != set(digests):
        return None
    if sum(path.stat().st_size for path in present.values()) > GENERATED_SIZE_LIMIT:
        return None
    if any(_sha256(path) != digests[rel] for rel, path in present.items()):
        return None
    content = hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()
    return f"generated:{family}@{version}:seed={seed}:{content[:12]}"


def _model_files(folder: Path) -> list[tuple[str, Path]]:
    files = ((path.relative_to(folder).as_posix(), path) for path in _files(folder))
    return sorted((rel, path) for rel, path in files if rel != GENERATED_MARKER)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> list[Path]:
    found = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # .cache/, .git/ are not the model
        found.extend(Path(root) / n for n in names if not n.startswith("."))
    return found


def hub_commit(repo_id: str, revision: str | None = None) -> str:
    """The commit `revision` (default: main) resolves to: asked of the Hub, else read from the local cache."""
    from huggingface_hub import HfApi, constants

    online_error = "offline mode (HF_HUB_OFFLINE) is on"
    if not constants.HF_HUB_OFFLINE:
        try:
            sha = HfApi().model_info(repo_id, revision=revision).sha
        except Exception as exc:  # network, auth, not found: the cache may still know the commit
            online_error = f"{type(exc).__name__}: {exc}"
        else:
            if sha:
                return sha
            online_error = "the Hub returned no commit"
    sha = cached_commit(repo_id, revision, Path(constants.HF_HUB_CACHE))
    if sha:
        return sha
    raise BadInputError(
        f"cannot resolve model {repo_id!r}"
        + (f" at revision {revision!r}" if revision else "")
        + f": not a local folder, the Hub could not be asked ({online_error}), and the Hugging Face"
        f" cache ({constants.HF_HUB_CACHE}) has no snapshot of it. Check the id, or download it first."
    )


def cached_commit(repo_id: str, revision: str | None, cache_dir: Path) -> str | None:
    """The cached snapshot's commit: refs/<revision or main>, or `revision` itself if it is cached."""
    repo_dir = cache_dir / ("models--" + repo_id.replace("/", "--"))
    revision = revision or "main"
    if _COMMIT.match(revision) and (repo_dir / "snapshots" / revision).is_dir():
        return revision
    ref = repo_dir / "refs" / revision
    try:
        sha = ref.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return sha if _COMMIT.match(sha) and (repo_dir / "snapshots" / sha).is_dir() else None
