"""Readers for dataset layouts users already have on disk, in the shape they were distributed.

- `aihub-coco-ko`: AIHub's "MSCOCO Korean captions": `meta.json`, a JSON array of rows with `file_path`
  (e.g. "val2014/COCO_val2014_000000391895.jpg") and `caption_ko` (a list of Korean references);
  images under `val2014/` beside it. The row id is the `file_path` value.
- `xm3600`: Crossmodal-3600: `captions.jsonl`, one image per line with `image/key` and one object per
  language (`{"ko": {"caption": [...]}}`); images in a folder beside it (`images/<key>.jpg`).

Both give rows with `id`, `image` (ImageRef) and `references` as the file holds them; the captioning
family checks them (a row without Korean captions is a counted failure, not a stop).
Structural problems (not JSON, no id) stop with the file, row and field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from kobench.data.formats import json_lines
from kobench.data.komt_bench import QUESTIONS, read_komt_bench
from kobench.data.loader import Table
from kobench.errors import BadInputError, where
from kobench.files.text import read_utf8
from kobench.types import ImageRef

COLUMNS = ["id", "image", "references"]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def _inside(folder: Path, relative: str) -> Path | None:
    """folder/relative, unless the written path leaves the folder (refused: never read outside it)."""
    candidate = (folder / relative).resolve()
    root = folder.resolve()
    return candidate if candidate == root or root in candidate.parents else None


def read_aihub_coco_ko(folder: Path, language: str = "ko") -> Table:
    path = folder / "meta.json"
    try:
        data = json.loads(read_utf8(path))
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"{where(path, exc.lineno)}: invalid JSON: {exc.msg} (column {exc.colno})"
        ) from exc
    except OSError as exc:
        raise BadInputError(f"{where(path)}: unreadable: {exc}") from exc
    if not isinstance(data, list):
        raise BadInputError(f"{where(path)}: expected a JSON array of rows, got {type(data).__name__}")
    rows = []
    for n, obj in enumerate(data, start=1):
        if not isinstance(obj, dict):
            raise BadInputError(f"{where(path, n)}: expected a JSON object, got {type(obj).__name__}")
        file_path = obj.get("file_path")
        if not isinstance(file_path, str) or not file_path.strip():
            raise BadInputError(
                f"{where(path, n, 'file_path')}: missing (it names the image and is the row id)"
            )
        # The file_path is relative to the folder ("val2014/COCO_...jpg"); copies that keep only the
        # file name still find it under val2014/.
        name = PurePosixPath(file_path.replace("\\", "/"))
        image = _inside(folder, str(name))
        if image is None:
            raise BadInputError(f"{where(path, n, 'file_path')}: {file_path!r} leaves the folder {folder}")
        if not image.is_file() and (folder / "val2014" / name.name).is_file():
            image = folder / "val2014" / name.name
        rows.append(
            {
                "id": file_path,
                "image": ImageRef(path=str(image), root=str(folder)),
                "references": obj.get("caption_ko"),
            }
        )
    return Table(rows, list(COLUMNS), f"local aihub-coco-ko {path}", [str(path)], None)


def _xm3600_image(folder: Path, key: str) -> Path:
    for base in (folder / "images", folder):
        for suffix in IMAGE_SUFFIXES:
            if (base / f"{key}{suffix}").is_file():
                return base / f"{key}{suffix}"
    return folder / "images" / f"{key}.jpg"  # missing: the row fails as an unreadable image, counted


def read_xm3600(folder: Path, language: str = "ko") -> Table:
    path = folder / "captions.jsonl"
    rows = []
    for n, obj in json_lines(path):
        if not isinstance(obj, dict):
            raise BadInputError(f"{where(path, n)}: expected a JSON object, got {type(obj).__name__}")
        key = obj.get("image/key")
        if not isinstance(key, str) or not key.strip() or "/" in key or "\\" in key or key.startswith("."):
            raise BadInputError(f"{where(path, n, 'image/key')}: missing or not a plain image key: {key!r}")
        entry = obj.get(language)
        captions = entry.get("caption") if isinstance(entry, dict) else None
        rows.append(
            {
                "id": key,
                "image": ImageRef(path=str(_xm3600_image(folder, key)), root=str(folder)),
                "references": captions,
            }
        )
    return Table(rows, list(COLUMNS), f"local xm3600 {path} ({language})", [str(path)], None)


# layout -> (the file that marks it, its reader)
LAYOUTS: dict[str, tuple[str, Callable[[Path], Table]]] = {
    "aihub-coco-ko": ("meta.json", read_aihub_coco_ko),
    "xm3600": ("captions.jsonl", read_xm3600),
    "komt-bench": (QUESTIONS, read_komt_bench),  # LG's KoMT-Bench repository (kobench/data/komt_bench.py)
}


def read_layout(folder: Path, layout: str) -> Table | None:
    """The folder read in `layout` when its marker file is there; None to fall back to detection."""
    if layout not in LAYOUTS:
        return None
    marker, reader = LAYOUTS[layout]
    return reader(folder) if (folder / marker).is_file() else None
