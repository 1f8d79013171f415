"""`--split-file TASK=FILE`: keep only the rows whose image is listed in FILE (e.g. the Karpathy 5k
test images of COCO), and say in the result which list was used.

FILE is Karpathy's `dataset_coco.json` (its images with "split": "test"), a JSON array of names, or a
text file with one name per line. Rows match by the file name of their id (for coco-ko the id is
`file_path`, "val2014/COCO_val2014_000000391895.jpg"), so a list of bare names or of paths both work.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kobench.errors import BadInputError, where
from kobench.files.text import read_utf8


@dataclass(frozen=True)
class SplitList:
    label: str  # "karpathy-test" or "listed"
    names: frozenset[str]  # file names (no folders)
    source: Path

    def describe(self, found: int) -> str:
        """What the result records as the split: which list (by content, not by where it was saved)."""
        digest = hashlib.sha256("\n".join(sorted(self.names)).encode("utf-8")).hexdigest()[:12]
        return f"{self.label}[{len(self.names)} listed, {found} found, sha256:{digest}]"


def _name(value: str) -> str:
    return PurePosixPath(value.replace("\\", "/").strip()).name


def read_split_file(path: Path) -> SplitList:
    try:
        text = read_utf8(path)  # BadInputError naming the line that is not UTF-8
    except OSError as exc:
        raise BadInputError(f"--split-file {path}: cannot read: {exc}") from exc
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{where(path, exc.lineno)}: invalid JSON: {exc.msg}") from exc
        if isinstance(data, dict) and isinstance(data.get("images"), list):  # Karpathy's dataset_coco.json
            names = set()
            for n, image in enumerate(data["images"], start=1):
                if not isinstance(image, dict) or not isinstance(image.get("filename"), str):
                    raise BadInputError(
                        f"{where(path, n, 'filename')}: expected an image entry with a filename"
                    )
                if image.get("split") == "test":
                    names.add(_name(image["filename"]))
            label = "karpathy-test"
        elif isinstance(data, list) and all(isinstance(v, str) for v in data):
            names, label = {_name(v) for v in data if v.strip()}, "listed"
        else:
            raise BadInputError(
                f'{where(path)}: expected Karpathy\'s dataset_coco.json ({{"images": [...]}}), '
                "a JSON array of image names, or one name per line"
            )
    else:
        lines = (line.strip() for line in text.splitlines())
        names, label = {_name(line) for line in lines if line and not line.startswith("#")}, "listed"
    if not names:
        raise BadInputError(f"--split-file {path}: lists no images")
    return SplitList(label, frozenset(names), path)


def split_file_for(task_name: str, entries: tuple[str, ...]) -> Path | None:
    for entry in entries:
        name, sep, file = entry.partition("=")
        if not sep or not file:
            raise BadInputError(f"--split-file {entry!r}: expected TASK=FILE")
        if name == task_name:
            return Path(file)
    return None


def keep_listed(rows: list[dict[str, Any]], id_column: str | None, split: SplitList, origin: str):
    """The listed rows, in file order, and the recorded split; no match at all is an error."""
    if id_column is None:
        raise BadInputError(f"--split-file {split.source}: the data ({origin}) has no id column to match")
    kept = [row for row in rows if _name(str(row.get(id_column) or "")) in split.names]
    if not kept:
        sample = ", ".join(sorted(split.names)[:2])
        ids = ", ".join(str(r.get(id_column)) for r in rows[:2])
        raise BadInputError(
            f"--split-file {split.source}: none of its {len(split.names)} images ({sample}, ...) is a row of "
            f"{origin} (row ids look like {ids})"
        )
    return kept, split.describe(len(kept))
