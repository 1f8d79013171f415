"""What every generator shares: Korean fonts, image encoding, and the Hub parquet layout."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kobench.errors import BadInputError

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/nanum"),
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
)
# Debian's fonts-nanum; each entry is (file name, style label). Regular and bold, sans and serif.
KOREAN_FONTS = (
    ("NanumGothic.ttf", "gothic"),
    ("NanumGothicBold.ttf", "gothic-bold"),
    ("NanumMyeongjo.ttf", "myeongjo"),
    ("NanumMyeongjoBold.ttf", "myeongjo-bold"),
    ("NanumBarunGothic.ttf", "barun-gothic"),
    ("NanumSquareR.ttf", "square"),
)


def korean_fonts() -> list[tuple[Path, str]]:
    """Installed Korean fonts as (path, label), in a fixed order; a clear error when there are none."""
    found = []
    for name, label in KOREAN_FONTS:
        for folder in FONT_DIRS:
            if (folder / name).is_file():
                found.append((folder / name, label))
                break
    if not found:
        raise BadInputError(
            "no Korean font found (looked for Debian's fonts-nanum in "
            f"{', '.join(map(str, FONT_DIRS))}); run scripts/setup.sh or "
            "`apt-get install fonts-nanum`"
        )
    return found


def encode(image: Any, fmt: str = "PNG", quality: int = 90) -> bytes:
    """PIL image -> bytes; JPEG quality is part of a generator's realism (compression artefacts)."""
    buf = io.BytesIO()
    if fmt.upper() == "JPEG":
        image.convert("RGB").save(buf, format="JPEG", quality=quality, optimize=False)
    else:
        image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def image_cell(data: bytes, name: str) -> dict[str, Any]:
    return {"bytes": data, "path": name}


def write_splits(root: Path, hub_id: str, splits: Mapping[str, Sequence[dict[str, Any]]]) -> Path:
    """Write ROOT/<owner>/<name>/data/<split>-00000-of-00001.parquet for each split (atomically)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / hub_id / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        target = folder / f"{split}-00000-of-00001.parquet"
        tmp = target.with_suffix(".tmp")
        pq.write_table(pa.Table.from_pylist(list(rows)), tmp)
        tmp.replace(target)
    return root / hub_id
