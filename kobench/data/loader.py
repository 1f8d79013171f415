"""Benchmark rows from a local copy (DATA_DIR/<owner>/<name>/) or from the Hugging Face Hub.

A local copy is tried first so that machines without Hub access (and CI) run the same tasks; the
format inside the folder is detected (save_to_disk, parquet, VLMEvalKit TSV, JSONL/JSON + images).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from kobench.data import formats
from kobench.errors import BadInputError, where
from kobench.files.text import read_utf8
from kobench.types import ImageRef

KNOWN_SPLITS = frozenset(
    {"train", "test", "validation", "valid", "val", "dev", "eval", "testmini", "minival"}
)
_SHARD = re.compile(r"(.+?)-\d{5}-of-\d{5}")  # Hub parquet shards: test-00000-of-00001[-hash]
_SEP = "-_. "
_DISK_META = ("dataset_dict.json", "dataset_info.json", "state.json", "dataset_infos.json")
_EXTENSIONS = {".parquet": "parquet", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "json", ".csv": "csv"}
_READERS: dict[str, Callable[[Path, Path, Sequence[str]], tuple[list[dict[str, Any]], list[str]]]] = {
    "parquet": formats.read_parquet,
    "tsv": formats.read_tsv,
    "jsonl": formats.read_jsonl,
    "json": formats.read_json,
    "csv": formats.read_csv,
}


@dataclass(frozen=True)
class Table:
    """Rows in file order; image columns hold ImageRef (or list[ImageRef]); missing values are None."""

    rows: list[dict[str, Any]]
    columns: list[str]
    origin: str  # "local parquet /data/NCSOFT/K-SEED (2 files)", "hub NCSOFT/K-SEED@<sha> split test"
    files: list[str]  # files read, for error messages; [] for the Hub
    revision: str | None  # resolved Hub commit when loaded from the Hub


def load_table(
    hub_id: str,
    split: str,
    *,
    data_dir: Path | None,
    revision: str | None = None,
    image_columns: Sequence[str] = ("image",),
    subset: str | None = None,
) -> Table:
    """Load one split: from DATA_DIR/<owner>/<name>/ when that folder exists, else from the Hub."""
    image_columns = tuple(image_columns)
    if data_dir is None:
        return _load_hub(hub_id, split, revision, image_columns, subset)
    folder = local_folder(Path(data_dir), hub_id)
    if folder.is_dir():
        return load_local(folder, split, image_columns=image_columns, subset=subset)
    try:
        return _load_hub(hub_id, split, revision, image_columns, subset)
    except BadInputError as exc:
        # Say where we looked first: a typo in the data dir is likelier than a Hub problem.
        raise BadInputError(
            f"no local copy of {hub_id}: the folder {folder}/ does not exist (looked there because a data "
            f"dir was given, --data-dir / KOBENCH_DATA_DIR), and loading it from the Hub failed: {exc}"
        ) from exc


def local_folder(data_dir: Path, hub_id: str) -> Path:
    parts = hub_id.split("/")
    if PurePath(hub_id).is_absolute() or "\\" in hub_id or any(p in ("", ".", "..") for p in parts):
        raise BadInputError(f"dataset id {hub_id!r} is not of the form owner/name")
    return data_dir.joinpath(*parts)


# --- local copies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """One data file, or one save_to_disk folder (which may hold several splits)."""

    path: Path
    kind: str  # "disk" | "parquet" | "tsv" | "jsonl" | "json"
    split: str | None
    splits: tuple[str, ...] = ()

    def has(self, split: str) -> bool:
        return self.split == split or split in self.splits


def load_local(
    folder: Path, split: str, *, image_columns: Sequence[str] = ("image",), subset: str | None = None
) -> Table:
    # A multi-config Hub mirror keeps each config in its own folder; a single-config copy has none.
    search = folder / subset if subset and (folder / subset).is_dir() else folder
    units = _select(_discover(search, split), split, search)
    kind = units[0].kind
    if kind == "disk":
        rows, columns = formats.read_disk(units[0].path, split, image_columns)
        return Table(
            rows, columns, f"local save_to_disk {units[0].path} split {split}", [str(units[0].path)], None
        )
    parts = [_READERS[kind](u.path, folder, image_columns) for u in units]
    rows, columns = formats.merge_columns(parts)
    n = len(units)
    origin = f"local {kind} {search} ({n} file{'s' if n != 1 else ''})"
    return Table(rows, columns, origin, [str(u.path) for u in units], None)


def _discover(root: Path, split: str) -> list[_Unit]:
    units: list[_Unit] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))  # .cache/, .git/ hold no data
        rel_dirs = here.relative_to(root).parts
        if "dataset_dict.json" in filenames:
            meta = _read_json(here / "dataset_dict.json")
            units.append(_Unit(here, "disk", None, tuple(str(s) for s in meta.get("splits", []))))
            dirnames[:] = []
            continue
        if "state.json" in filenames and "dataset_info.json" in filenames:
            saved = _read_json(here / "state.json").get("_split")
            units.append(_Unit(here, "disk", saved or _split_of_dirs(rel_dirs, split)))
            dirnames[:] = []
            continue
        for name in sorted(filenames):
            kind = _EXTENSIONS.get(Path(name).suffix.lower())
            if kind is None or name.startswith(".") or name in _DISK_META:
                continue
            units.append(_Unit(here / name, kind, _split_of(rel_dirs, Path(name).stem, split)))
    return units


def _split_of(rel_dirs: Sequence[str], stem: str, wanted: str) -> str | None:
    """Which split a file names: its Hub shard prefix, its name, or a parent folder; None if none."""
    shard = _SHARD.match(stem)
    if shard and shard.group(1) != "data":  # "data-00000-of-00001" is a generic name, not a split
        return shard.group(1)
    if stem == wanted or any(stem.startswith(wanted + s) or stem.endswith(s + wanted) for s in _SEP):
        return wanted
    tokens = re.split(r"[-_. ]+", stem)
    for candidate in (stem, tokens[0], tokens[-1]):
        if candidate.lower() in KNOWN_SPLITS:
            return candidate
    return _split_of_dirs(rel_dirs, wanted)


def _split_of_dirs(rel_dirs: Sequence[str], wanted: str) -> str | None:
    for d in reversed(rel_dirs):
        if d == wanted or d.lower() in KNOWN_SPLITS:
            return d
    return None


def _select(units: list[_Unit], split: str, root: Path) -> list[_Unit]:
    if not units:
        raise BadInputError(
            f"no data files under {root} (looked for parquet, .tsv, .jsonl, .json and save_to_disk folders)"
        )
    chosen = [u for u in units if u.has(split)]
    if not chosen:
        if any(u.split or u.splits for u in units):
            found = sorted({s for u in units for s in ((u.split,) if u.split else u.splits)})
            raise BadInputError(f"split {split!r} not found under {root}; splits found: {', '.join(found)}")
        chosen = units  # no file names a split: the whole folder is the one split
    kinds = sorted({u.kind for u in chosen})
    if len(kinds) > 1 or (kinds == ["disk"] and len(chosen) > 1):
        listed = ", ".join(str(u.path) for u in chosen)
        raise BadInputError(
            f"cannot tell which files hold split {split!r} under {root}: found {listed}; "
            "keep one format (several shards of one format are fine)"
        )
    return chosen


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_utf8(path))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{where(path)}: unreadable: {exc}") from exc
    return data if isinstance(data, dict) else {}


# --- the Hub ------------------------------------------------------------------------------------


def _hub_revision(hub_id: str, revision: str | None) -> str | None:
    """The commit to load, pinned before loading so the recorded revision is the data read."""
    if revision and re.fullmatch(r"[0-9a-f]{40}", revision):
        return revision
    try:
        from huggingface_hub import HfApi, constants

        if constants.HF_HUB_OFFLINE:
            return None
        return HfApi().dataset_info(hub_id, revision=revision, timeout=10).sha
    except Exception:  # no network, private repo, ...: load_dataset reports the real problem below
        return None


def _load_hub(
    hub_id: str, split: str, revision: str | None, image_columns: Sequence[str], subset: str | None
) -> Table:
    import datasets

    sha = _hub_revision(hub_id, revision)
    try:
        ds = datasets.load_dataset(hub_id, subset, split=split, revision=sha or revision)
    except Exception as exc:
        raise hub_error(hub_id, split, exc) from exc
    if not isinstance(ds, datasets.Dataset):
        raise BadInputError(f"{hub_id}: expected one split from the Hub, got {type(ds).__name__}")
    rows, columns = formats.rows_from_dataset(ds, formats.Source(f"hub {hub_id}"), image_columns)
    rev = sha or revision
    name = f"{hub_id}[{subset}]" if subset else hub_id
    return Table(rows, columns, f"hub {name}@{rev or 'unresolved'} split {split}", [], rev)


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in out and len(out) < 10:
        out.append(e)
        e = e.__cause__ or e.__context__
    return out


def hub_error(hub_id: str, split: str, exc: BaseException) -> BadInputError:
    """Turn what datasets/huggingface_hub raised into a message that says what to do."""
    chain = _chain(exc)
    text = " | ".join(f"{type(e).__name__}: {e}" for e in chain)
    names = {cls.__name__ for e in chain for cls in type(e).__mro__}
    statuses = {getattr(getattr(e, "response", None), "status_code", None) for e in chain}
    first = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if "GatedRepoError" in names or "gated" in text.lower() or statuses & {401, 403}:
        return BadInputError(
            f"{hub_id} is a gated dataset and the Hub refused access without a valid token. Accept the "
            f"dataset's terms at https://huggingface.co/datasets/{hub_id} and log in with `hf auth login` "
            f"(or set HF_TOKEN). Hub error: {first}"
        )
    offline_names = {
        "ConnectionError",
        "ConnectError",
        "TimeoutError",
        "TimeoutException",
        "OfflineModeIsEnabled",
        "LocalEntryNotFoundError",
    }
    lowered = text.lower()
    if names & offline_names or "couldn't reach" in lowered or "offline" in lowered:
        return BadInputError(
            f"cannot reach the Hugging Face Hub to load {hub_id} ({first}). To run without the Hub, pass "
            f"--data-dir DIR (or set KOBENCH_DATA_DIR) with a local copy laid out as DIR/<owner>/<name>/, "
            f"here DIR/{hub_id}/ holding parquet, VLMEvalKit TSV, JSONL + images or a save_to_disk folder."
        )
    return BadInputError(f"could not load {hub_id} (split {split!r}) from the Hugging Face Hub: {first}")


# --- identity -----------------------------------------------------------------------------------


def _canon(value: Any) -> Any:
    """A JSON value that is equal for equal data whatever the file format held it."""
    value = formats.plain(value)
    if isinstance(value, ImageRef):
        try:
            return {"image_sha256": value.sha256()}
        except OSError:  # a missing file is a row failure later, not a reason to refuse an identity
            return {"image_unreadable": os.path.basename(value.path or "")}
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)  # TSV/pandas may give 3.0 where parquet has 3
    if isinstance(value, bytes):
        return {"bytes_sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return {"type": type(value).__name__, "value": str(value)}


def canonical_identity(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """'sha256:' + 16 hex of the given columns of every row, in order: the same rows stored as parquet,
    TSV, JSONL + images or save_to_disk give the same identity. Ints and integral floats hash alike;
    strings stay strings ('3' != 3); images hash by their encoded bytes."""
    h = hashlib.sha256()
    h.update(json.dumps(list(columns), ensure_ascii=False).encode("utf-8") + b"\n")
    for row in rows:
        canon = [_canon(row.get(c)) for c in columns]
        h.update(json.dumps(canon, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        h.update(b"\n")
    return "sha256:" + h.hexdigest()[:16]
