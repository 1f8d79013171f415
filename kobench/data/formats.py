"""Readers for the on-disk layouts a benchmark copy comes in: parquet, VLMEvalKit TSV, JSON(L), save_to_disk.

Every reader returns (rows, columns): plain Python values (no numpy, NaN as None), with the image columns
turned into ImageRef (or list[ImageRef]). Errors name the file, the row (1-based) and the field.
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
import math
import os
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import numpy as np

from kobench.errors import BadInputError, where
from kobench.files.text import read_utf8, utf8_error
from kobench.types import ImageRef

if TYPE_CHECKING:
    import pyarrow as pa
    from datasets import Dataset

Rows = list[dict[str, Any]]

# VLMEvalKit writes a repeated image once; other rows hold that row's `index` (short) instead of base64.
BACKREF_MAX_CHARS = 64


@dataclass(frozen=True)
class Source:
    """Where rows come from, for error messages and for resolving relative image paths."""

    file: str
    base: Path | None = None  # relative image paths start here; None leaves paths as given (Hub cache)
    root: Path | None = None  # image paths may not leave this folder


def plain(value: Any) -> Any:
    """numpy/pandas values to plain Python; NaN and NA to None (datasets mix both for 'missing')."""
    if value is None or isinstance(value, str | bytes | bool | int | ImageRef):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas.NA / NaT, without importing pandas
        return None
    return value


def _image_from_path(p: str, src: Source, row: int, field: str) -> ImageRef:
    if src.base is None:
        return ImageRef(path=p)
    # Here the path as written (normpath, not resolve): one written to leave the dataset root is bad input,
    # refused before any work. Where its symlinks lead is checked when the file is read
    # (kobench.images): a link out of the folder fails its row, one into the Hub cache's blobs is fine.
    full = os.path.normpath(p if os.path.isabs(p) else os.path.join(src.base, p))
    root = None
    if src.root is not None:
        root = os.path.normpath(os.path.abspath(src.root))
        if os.path.commonpath([os.path.abspath(full), root]) != root:
            raise BadInputError(
                f"{where(src.file, row, field)}: image path {p!r} leaves the dataset folder {root}"
            )
    return ImageRef(path=os.path.abspath(full), root=root)


def _b64_bytes(text: str, src: Source, row: int, field: str) -> bytes:
    s = text.strip()
    if s.startswith("data:") and "," in s:  # tolerate data URIs
        s = s.split(",", 1)[1]
    try:
        data = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as exc:
        shown = s if len(s) <= 40 else s[:40] + "..."
        raise BadInputError(
            f"{where(src.file, row, field)}: not valid base64 image data "
            f"(nor the index of another row): {shown!r} ({exc})"
        ) from exc
    if not data:
        raise BadInputError(f"{where(src.file, row, field)}: empty image data")
    return data


# How the base64 text of an encoded JPEG, PNG, GIF or WEBP file begins. A string cell that begins so, is long
# and holds no dot is the image itself, not a path (KRETA's parquet keeps its images as base64 strings).
_B64_IMAGE_STARTS = ("/9j/", "iVBORw0KGgo", "R0lGOD", "UklGR")
_B64_MIN_CHARS = 64


def is_base64_image(text: str) -> bool:
    """Whether a string cell holds an image as base64 text (or a data: URI) rather than a path."""
    s = text.lstrip()
    if s.startswith("data:image/"):
        return True
    return len(s) >= _B64_MIN_CHARS and s.startswith(_B64_IMAGE_STARTS) and "." not in s


def to_image(value: Any, src: Source, row: int, field: str, *, b64: bool = False) -> Any:
    """One image cell to ImageRef (or a list of them). Strings are paths, or base64 when `b64` or when
    they read as base64 image data (`is_base64_image`)."""
    if value is None or isinstance(value, ImageRef):
        return value
    if isinstance(value, dict):  # datasets' Image storage: {"bytes": ..., "path": ...}
        if value.get("bytes") is not None:
            return ImageRef(data=bytes(value["bytes"]))
        if value.get("path"):
            return _image_from_path(str(value["path"]), src, row, field)
        if value.get("image_base64"):  # KorMedMCQA-V: {"pic_num", "modality", "image_base64"} (may wrap)
            return ImageRef(data=_b64_bytes(re.sub(r"\s", "", str(value["image_base64"])), src, row, field))
        return None
    if isinstance(value, bytes | bytearray):
        return ImageRef(data=bytes(value))
    if isinstance(value, str):
        if not value:
            return None
        if b64 or is_base64_image(value):
            return ImageRef(data=_b64_bytes(value, src, row, field))
        if value.lstrip().startswith("[") and value.rstrip().endswith("]"):  # a list as text (KMMMU's CSV)
            return to_image(_literal_list(value, src, row, field), src, row, field, b64=b64)
        if value.startswith(("http://", "https://")):
            return _image_from_url(value, src, row, field)
        return _image_from_path(value, src, row, field)
    if isinstance(value, list | tuple):
        return [to_image(v, src, row, field, b64=b64) for v in value]
    raise BadInputError(f"{where(src.file, row, field)}: cannot read an image from a {type(value).__name__}")


def convert_images(
    rows: Rows,
    columns: Sequence[str],
    image_columns: Sequence[str],
    src: Source,
    *,
    row_numbers: Sequence[int] | None = None,
    b64: bool = False,
) -> None:
    """In place: image columns that exist become ImageRef. `row_numbers` are the 1-based numbers to report."""
    present = [c for c in image_columns if c in columns]
    for i, row in enumerate(rows):
        n = row_numbers[i] if row_numbers is not None else i + 1
        for col in present:
            row[col] = to_image(row.get(col), src, n, col, b64=b64)


def merge_columns(parts: Sequence[tuple[Rows, list[str]]]) -> tuple[Rows, list[str]]:
    """Concatenate row lists; columns are the union in first-seen order, missing cells None."""
    columns: list[str] = []
    for _, cols in parts:
        columns.extend(c for c in cols if c not in columns)
    rows = [{c: r.get(c) for c in columns} for part, _ in parts for r in part]
    return rows, columns


# --- Arrow-backed: parquet, save_to_disk, Hub ---------------------------------------------------


def rows_from_arrow(table: pa.Table, src: Source, image_columns: Sequence[str]) -> tuple[Rows, list[str]]:
    columns = list(table.column_names)
    rows = [{k: plain(v) for k, v in r.items()} for r in table.to_pylist()]
    convert_images(rows, columns, image_columns, src)
    return rows, columns


def rows_from_dataset(ds: Dataset, src: Source, image_columns: Sequence[str]) -> tuple[Rows, list[str]]:
    # Reading the Arrow table never decodes images: the rows get the stored {bytes, path}, which is what
    # casting to Image(decode=False) gives, and it also covers lists of images and any nesting.
    table = ds.with_format("arrow")[:]
    return rows_from_arrow(table, src, image_columns)


def read_parquet(path: Path, root: Path, image_columns: Sequence[str]) -> tuple[Rows, list[str]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a damaged file
        raise BadInputError(f"{where(path)}: unreadable parquet file: {exc}") from exc
    return rows_from_arrow(table, Source(str(path), path.parent, root), image_columns)


def read_disk(path: Path, split: str | None, image_columns: Sequence[str]) -> tuple[Rows, list[str]]:
    """A datasets.save_to_disk folder (a Dataset, or a DatasetDict from which `split` is taken)."""
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise BadInputError(f"{where(path)}: unreadable save_to_disk folder: {exc}") from exc
    if isinstance(ds, datasets.DatasetDict):
        if split not in ds:
            raise BadInputError(f"{where(path)}: split {split!r} not found; splits found: {sorted(ds)}")
        ds = ds[split]
    return rows_from_dataset(ds, Source(str(path), path, path), image_columns)


# --- JSON lines / JSON array --------------------------------------------------------------------


def _json_rows(
    items: list[tuple[int, Any]], path: Path, root: Path, image_columns: Sequence[str]
) -> tuple[Rows, list[str]]:
    rows: Rows = []
    for n, obj in items:
        if not isinstance(obj, dict):
            raise BadInputError(f"{where(path, n)}: expected a JSON object, got {type(obj).__name__}")
        rows.append(obj)
    rows, columns = merge_columns([(rows, list(dict.fromkeys(k for r in rows for k in r)))])
    rows = [{k: plain(v) for k, v in r.items()} for r in rows]
    convert_images(
        rows, columns, image_columns, Source(str(path), path.parent, root), row_numbers=[n for n, _ in items]
    )
    return rows, columns


def json_lines(path: Path) -> list[tuple[int, Any]]:
    """(line number, value) of each non-blank line of a JSON Lines file; a bad line stops with the file
    and the line to fix (1-based)."""
    items: list[tuple[int, Any]] = []
    try:
        with Path(path).open(encoding="utf-8-sig") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    items.append((n, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise BadInputError(
                        f"{where(path, n)}: invalid JSON: {exc.msg} (column {exc.colno})"
                    ) from exc
    except OSError as exc:
        raise BadInputError(f"{where(path)}: unreadable: {exc}") from exc
    except UnicodeDecodeError:  # the decoder's position is its chunk's: find the line
        raise utf8_error(path) from None
    return items


def read_jsonl(path: Path, root: Path, image_columns: Sequence[str]) -> tuple[Rows, list[str]]:
    """Rows are numbered by line (1-based) so a message points at the line to fix; blank lines skipped."""
    return _json_rows(json_lines(path), path, root, image_columns)


def read_json(path: Path, root: Path, image_columns: Sequence[str]) -> tuple[Rows, list[str]]:
    try:
        data = json.loads(read_utf8(path))
    except json.JSONDecodeError as exc:
        msg = f"{where(path, exc.lineno)}: invalid JSON: {exc.msg} (column {exc.colno})"
        raise BadInputError(msg) from exc
    if not isinstance(data, list):
        raise BadInputError(f"{where(path)}: expected a JSON array of row objects, got {type(data).__name__}")
    return _json_rows(list(enumerate(data, start=1)), path, root, image_columns)


# --- VLMEvalKit TSV -----------------------------------------------------------------------------

_INT = re.compile(r"-?(0|[1-9][0-9]*)")


def _numeric_column(values: list[Any]) -> list[Any]:
    """Ints (or floats) only when every cell round-trips exactly, so no text ever changes:
    '3' -> 3 (matches a parquet int column), but '007', '3.50', '1e3', 'nan' stay strings."""
    present = [v for v in values if v is not None]
    if not present or not all(isinstance(v, str) for v in present):
        return values
    if all(_INT.fullmatch(v) for v in present):
        return [None if v is None else int(v) for v in values]
    try:
        floats = [float(v) for v in present]
    except ValueError:
        return values
    if all(math.isfinite(f) and repr(f) == v for f, v in zip(floats, present, strict=True)):
        return [None if v is None else float(v) for v in values]
    return values


def _resolve_backref(value: Any, by_index: dict[str, dict[str, Any]], col: str) -> Any:
    seen: set[str] = set()
    while (
        isinstance(value, str) and len(value) <= BACKREF_MAX_CHARS and value in by_index and value not in seen
    ):
        seen.add(value)
        value = by_index[value].get(col)
    return value


def _read_delimited(path: Path, sep: str, kind: str) -> tuple[Rows, list[str]]:
    """A delimited file with a header, every cell as text; only an EMPTY cell is missing (None)."""
    import pandas as pd

    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except UnicodeDecodeError:
        raise utf8_error(path) from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise BadInputError(f"{where(path)}: unreadable {kind}: {exc}") from exc
    columns = [str(c) for c in df.columns]
    rows: Rows = [
        {k: plain(v) for k, v in zip(columns, rec, strict=True)}
        for rec in df.itertuples(index=False, name=None)
    ]
    return rows, columns


def read_tsv(path: Path, root: Path, image_columns: Sequence[str]) -> tuple[Rows, list[str]]:
    """VLMEvalKit layout. Only an EMPTY cell is missing (None); 'nan', 'NA', 'None' are kept as text,
    because an option may literally read 'None'. Rows are numbered 1-based, not counting the header."""
    rows, columns = _read_delimited(path, "\t", "TSV")
    src = Source(str(path), path.parent, root)
    images = [c for c in image_columns if c in columns]
    by_index = {r["index"]: r for r in rows if r.get("index") is not None} if "index" in columns else {}
    resolved: dict[str, list[Any]] = {}
    for col in images:
        out = []
        for n, row in enumerate(rows, start=1):
            value = _resolve_backref(row.get(col), by_index, col)
            if isinstance(value, str) and value.lstrip().startswith("["):
                value = _literal_list(value, src, n, col)  # VLMEvalKit multi-image cell: "['b64', ...]"
                value = [_resolve_backref(v, by_index, col) for v in value]
            out.append(to_image(value, src, n, col, b64=True))
        resolved[col] = out  # written back after the loop: later rows may refer to earlier raw cells
    for col in columns:
        values = resolved[col] if col in resolved else _numeric_column([r[col] for r in rows])
        for row, v in zip(rows, values, strict=True):
            row[col] = v
    return rows, columns


def _literal_list(text: str, src: Source, row: int, field: str) -> list[Any]:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise BadInputError(f"{where(src.file, row, field)}: unreadable list of images: {exc}") from exc
    if not isinstance(value, list):
        raise BadInputError(f"{where(src.file, row, field)}: expected a list of images")
    return value


# --- CSV, and images named by URL (KMMMU's kmmmu.csv: `image_link` lists image URLs as text) ------------


def url_path(url: str) -> str:
    """Where a local copy keeps the image at `url`: <host>/<path>, percent-escapes decoded (the layout
    `wget --force-directories` saves)."""
    parts = urlsplit(url)
    return posixpath.join(parts.netloc, unquote(parts.path).lstrip("/"))


def _image_from_url(url: str, src: Source, row: int, field: str) -> ImageRef:
    folder = src.root or src.base
    if folder is None:
        raise BadInputError(
            f"{where(src.file, row, field)}: the image {url!r} is a URL, and kobench downloads no images: "
            "keep a local copy of the dataset, DIR/<owner>/<name>/ with its data file and each image at "
            "<host>/<path> below it (as `wget --force-directories` saves it), and pass --data-dir DIR"
        )
    return _image_from_path(url_path(url), Source(src.file, folder, src.root), row, field)


def read_csv(path: Path, root: Path, image_columns: Sequence[str]) -> tuple[Rows, list[str]]:
    """A comma-separated file with a header, read as the TSV reader reads its cells (only an empty cell is
    missing; a column of numbers that round-trip exactly becomes numbers); an image cell is a path, a URL
    (the local copy at <host>/<path>) or a list of them written as text."""
    rows, columns = _read_delimited(path, ",", "CSV")
    for col in columns:
        if col not in image_columns:
            for row, v in zip(rows, _numeric_column([r[col] for r in rows]), strict=True):
                row[col] = v
    convert_images(rows, columns, image_columns, Source(str(path), path.parent, root))
    return rows, columns
