"""Generated Korean OCR benchmarks: ko-ocr-synth (reading) and ko-ocr-grounding-synth (finding a text).

Each dataset is generated once per module; the OCR checks read the images with Tesseract
(kor+eng) to show the ground truth really is in the image, and that the hard level is harder.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
Image = pytest.importorskip("PIL.Image")

from kobench.errors import BadInputError  # noqa: E402
from kobench.synth.common import korean_fonts  # noqa: E402

try:
    FONTS = korean_fonts()
except BadInputError:
    FONTS = []
pytestmark = pytest.mark.skipif(not FONTS, reason="no Korean font installed (apt-get install fonts-nanum)")

TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")
PARQUET = "data/test-00000-of-00001.parquet"
OCR_COLUMNS = ["id", "image", "text", "level", "layout", "font", "box", "words"]
GROUNDING_COLUMNS = ["id", "image", "text", "box", "width", "height", "level", "page"]


def _read(folder: Path) -> tuple[Any, list[dict[str, Any]]]:
    table = pq.read_table(folder / PARQUET)
    return table.schema, table.to_pylist()


@pytest.fixture(scope="module")
def ocr_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]]]:
    from kobench.synth.ocr import generate_ko_ocr

    folder = generate_ko_ocr(tmp_path_factory.mktemp("ocr"), seed=0)
    assert folder.name == "ko-ocr-synth"
    return _read(folder)


@pytest.fixture(scope="module")
def grounding_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]]]:
    from kobench.synth.grounding import generate_ko_ocr_grounding

    folder = generate_ko_ocr_grounding(tmp_path_factory.mktemp("grounding"), seed=0)
    assert folder.name == "ko-ocr-grounding-synth"
    return _read(folder)


@pytest.fixture(scope="module")
def tesseract() -> Any:
    tesserocr = pytest.importorskip("tesserocr", reason="the OCR checks need tesserocr (pip tesserocr)")
    if not (TESSDATA / "kor.traineddata").is_file() or not (TESSDATA / "eng.traineddata").is_file():
        pytest.skip(f"Tesseract kor/eng traineddata not in {TESSDATA} (apt-get install tesseract-ocr-kor)")
    old = os.environ.get("OMP_THREAD_LIMIT")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    api = tesserocr.PyTessBaseAPI(path=str(TESSDATA), lang="kor+eng")
    try:
        yield api, tesserocr.PSM
    finally:
        api.End()
        if old is None:
            os.environ.pop("OMP_THREAD_LIMIT", None)
        else:
            os.environ["OMP_THREAD_LIMIT"] = old


def _image(row: dict[str, Any]) -> Any:
    return Image.open(io.BytesIO(row["image"]["bytes"]))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def _edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _cer(pairs: list[tuple[str, str]]) -> float:
    """Corpus CER: edits over reference characters, NFC, whitespace collapsed."""
    edits = sum(_edits(_norm(ref), _norm(hyp)) for ref, hyp in pairs)
    return edits / sum(len(_norm(ref)) for ref, _ in pairs)


def _crop(image: Any, box: list[float], margin: float = 0.0) -> Any:
    width, height = image.size
    x1, y1, x2, y2 = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    pad = max(4.0, margin * (y2 - y1)) if margin else 0.0
    return image.crop(
        (
            round(max(0, x1 - pad)),
            round(max(0, y1 - pad)),
            round(min(width, x2 + pad)),
            round(min(height, y2 + pad)),
        )
    )


def _read_row(tesseract: Any, row: dict[str, Any]) -> str:
    api, psm = tesseract
    image = _image(row).convert("RGB")
    if row["box"] is not None:  # a region row: read only the line in the box
        image = _crop(image, row["box"])
    api.SetPageSegMode(psm.SINGLE_BLOCK if row["layout"] == "paragraph" else psm.SINGLE_LINE)
    api.SetImage(image)
    return api.GetUTF8Text()


def _inside(box: list[float]) -> bool:
    x1, y1, x2, y2 = box
    return 0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0


# ---------------------------------------------------------------- ko-ocr-synth


def test_ocr_schema_and_counts(ocr_data: tuple[Any, list[dict[str, Any]]]) -> None:
    schema, rows = ocr_data
    assert schema.names == OCR_COLUMNS
    assert schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    for name in ("id", "text", "level", "layout", "font", "words"):
        assert schema.field(name).type == pa.string(), name
    assert schema.field("box").type == pa.list_(pa.float64())
    assert len(rows) == 180
    assert len({row["id"] for row in rows}) == len(rows)
    assert Counter(row["level"] for row in rows) == {"clean": 60, "noisy": 60, "hard": 60}
    regions = Counter(row["level"] for row in rows if row["box"] is not None)
    assert regions == {"clean": 15, "noisy": 15, "hard": 15}  # a quarter of every level
    layouts = Counter(row["layout"] for row in rows)
    assert set(layouts) == {"line", "paragraph"} and layouts["paragraph"] >= 40
    assert {row["font"] for row in rows} == {label for _, label in FONTS}  # every installed font is used
    assert all(re.fullmatch(r"ocr-(clean|noisy|hard)-\d{3}", row["id"]) for row in rows)


def test_ocr_text_is_realistic_korean(ocr_data: tuple[Any, list[dict[str, Any]]]) -> None:
    _, rows = ocr_data
    for row in rows:
        text = row["text"]
        assert text == unicodedata.normalize("NFC", text)
        lines = text.split("\n")
        assert (len(lines) == 1) == (row["layout"] == "line"), row["id"]
        assert row["layout"] == "line" or 2 <= len(lines) <= 4
        assert all(6 <= len(line) <= 40 and line == line.strip() for line in lines), row["id"]
        assert re.search("[가-힣]", text)
    joined = "".join(row["text"] for row in rows)
    assert re.search(r"\d", joined) and re.search("[A-Za-z]", joined)  # digits and a little Latin
    assert len({row["text"] for row in rows}) >= 170  # hardly any repeats


def test_ocr_images_and_levels(ocr_data: tuple[Any, list[dict[str, Any]]]) -> None:
    _, rows = ocr_data
    heights: dict[str, list[float]] = {"clean": [], "noisy": [], "hard": []}
    for row in rows:
        image = _image(row)
        assert image.format == ("PNG" if row["level"] == "clean" else "JPEG"), row["id"]
        assert row["image"]["path"] == f"{row['id']}.{'png' if row['level'] == 'clean' else 'jpg'}"
        height = image.size[1]
        words = json.loads(row["words"])
        heights[row["level"]] += [(w["box"][3] - w["box"][1]) * height for w in words]
    # text size (word box height in px) falls from clean to hard
    median = {level: sorted(v)[len(v) // 2] for level, v in heights.items()}
    assert median["clean"] > median["noisy"] > median["hard"]
    assert min(heights["clean"]) >= 14  # clean text is large (>= 28 px font size)


def test_ocr_word_and_region_boxes(ocr_data: tuple[Any, list[dict[str, Any]]]) -> None:
    _, rows = ocr_data
    for row in rows:
        words = json.loads(row["words"])
        assert [w["text"] for w in words] == row["text"].split(), row["id"]
        assert all(_inside(w["box"]) for w in words), row["id"]
        if row["box"] is not None:
            assert row["layout"] == "line" and _inside(row["box"])
            x1, y1, x2, y2 = row["box"]
            assert all(
                x1 <= w["box"][0] and y1 <= w["box"][1] and w["box"][2] <= x2 and w["box"][3] <= y2
                for w in words
            ), row["id"]
        # words of a line run left to right on an unrotated (clean) image
        if row["level"] == "clean" and row["layout"] == "line":
            assert all(a["box"][2] <= b["box"][0] for a, b in itertools.pairwise(words)), row["id"]


def test_ocr_deterministic_and_seeded(tmp_path: Path, ocr_data: tuple[Any, list[dict[str, Any]]]) -> None:
    from kobench.synth.ocr import OCR_GENERATOR_VERSION, generate_ko_ocr

    assert OCR_GENERATOR_VERSION == "1"
    one = (generate_ko_ocr(tmp_path / "a", seed=0, per_level=2) / PARQUET).read_bytes()
    two = (generate_ko_ocr(tmp_path / "b", seed=0, per_level=2) / PARQUET).read_bytes()
    other = (generate_ko_ocr(tmp_path / "c", seed=1, per_level=2) / PARQUET).read_bytes()
    assert one == two
    assert one != other
    # a shorter set is a prefix of each level of the full one
    _, full = ocr_data
    short = pq.read_table(tmp_path / "a" / "kobench/ko-ocr-synth" / PARQUET).to_pylist()
    assert short == [row for row in full if int(row["id"][-3:]) < 2]
    assert [r["text"] for r in short] != [
        r["text"] for r in pq.read_table(tmp_path / "c" / "kobench/ko-ocr-synth" / PARQUET).to_pylist()
    ]


def test_glyph_coverage_check() -> None:
    from kobench.synth.ocr import covers, fonts_for, has_glyph

    path = str(FONTS[0][0])
    assert has_glyph(path, "한") and has_glyph(path, "A") and has_glyph(path, " ")
    assert not has_glyph(path, "\U0001f600") and not has_glyph(path, "\u0fff")
    assert covers(path, "서울특별시 USB 1,000원")
    assert fonts_for("가\u0fff") == []


def test_warp_moves_word_boxes_with_the_ink() -> None:
    import random

    import numpy as np

    from kobench.synth.ocr import Canvas, corner_box, label_boxes, load_font, warp

    font = load_font(str(FONTS[0][0]), 24)
    canvas = Canvas(np.full((80, 400, 3), 250, dtype=np.float32))
    canvas.draw_text(20, 50, "서울특별시 강남구 A4", font, (0, 0, 0), [1, 2, 3])
    before = label_boxes(canvas.labels, 3)
    image, labels, forward = warp(canvas.image(), canvas.labels, 7.0, 0.05, random.Random(0), (90, 90, 90))
    after = label_boxes(labels, 3)
    for old, new in zip(before, after, strict=True):
        bound = corner_box(forward, old)  # the transformed corners bound the tight box of the moved ink
        assert (
            bound[0] - 1 <= new[0] < new[2] <= bound[2] + 1
            and bound[1] - 1 <= new[1] < new[3] <= bound[3] + 1
        )
    x1, y1, x2, y2 = after[0]
    grey = np.asarray(image.convert("L"))[y1:y2, x1:x2].astype(float)
    inside = labels[y1:y2, x1:x2] == 1
    assert grey[inside].mean() < grey[~inside].mean() - 60  # the label sits on the dark ink


def test_ocr_text_is_in_the_image(ocr_data: tuple[Any, list[dict[str, Any]]], tesseract: Any) -> None:
    _, rows = ocr_data
    clean = [row for row in rows if row["level"] == "clean"][:20]
    hard = [row for row in rows if row["level"] == "hard"][:20]
    assert sum(row["box"] is not None for row in clean) >= 4  # region rows are read from their crop
    clean_cer = _cer([(row["text"], _read_row(tesseract, row)) for row in clean])
    hard_cer = _cer([(row["text"], _read_row(tesseract, row)) for row in hard])
    assert clean_cer < 0.05, clean_cer
    assert hard_cer > 2 * clean_cer and hard_cer > 0.2, (clean_cer, hard_cer)


# ---------------------------------------------------------------- ko-ocr-grounding-synth


def test_grounding_schema_and_pages(grounding_data: tuple[Any, list[dict[str, Any]]]) -> None:
    schema, rows = grounding_data
    assert schema.names == GROUNDING_COLUMNS
    assert schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    for name in ("id", "text", "level", "page"):
        assert schema.field(name).type == pa.string(), name
    assert schema.field("box").type == pa.list_(pa.float64())
    assert schema.field("width").type == pa.int64() and schema.field("height").type == pa.int64()
    assert len({row["id"] for row in rows}) == len(rows)
    pages: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        pages.setdefault(row["page"], []).append(row)
    assert len(pages) == 40 and len(rows) == 200
    assert Counter(group[0]["level"] for group in pages.values()) == {"clean": 20, "noisy": 20}
    for page, group in pages.items():
        assert 4 <= len(group) <= 6, page
        assert len({row["level"] for row in group}) == 1
        assert len({row["image"]["bytes"] for row in group}) == 1  # one image per page
        image = _image(group[0])
        assert image.size == (group[0]["width"], group[0]["height"])
        assert image.format == ("PNG" if group[0]["level"] == "clean" else "JPEG")


def test_grounding_queries_unique_and_boxes(grounding_data: tuple[Any, list[dict[str, Any]]]) -> None:
    _, rows = grounding_data
    pages: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        pages.setdefault(row["page"], []).append(row)
    for page, group in pages.items():
        texts = [row["text"] for row in group]
        for text in texts:  # the query appears exactly once on its page
            assert sum(other.count(text) for other in texts) == 1, (page, text)
        for row in group:
            assert _inside(row["box"]), row["id"]
            assert row["text"] == unicodedata.normalize("NFC", row["text"])
            assert re.search("[가-힣]", row["text"])
        if group[0]["level"] == "clean":  # blocks do not overlap
            boxes = [row["box"] for row in group]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], page


def test_grounding_deterministic_and_seeded(
    tmp_path: Path, grounding_data: tuple[Any, list[dict[str, Any]]]
) -> None:
    from kobench.synth.grounding import GROUNDING_GENERATOR_VERSION, generate_ko_ocr_grounding

    assert GROUNDING_GENERATOR_VERSION == "1"
    one = (generate_ko_ocr_grounding(tmp_path / "a", seed=0, pages=2) / PARQUET).read_bytes()
    two = (generate_ko_ocr_grounding(tmp_path / "b", seed=0, pages=2) / PARQUET).read_bytes()
    other = (generate_ko_ocr_grounding(tmp_path / "c", seed=1, pages=2) / PARQUET).read_bytes()
    assert one == two
    assert one != other
    _, full = grounding_data
    short = pq.read_table(tmp_path / "a" / "kobench/ko-ocr-grounding-synth" / PARQUET).to_pylist()
    assert short == [row for row in full if row["page"] in ("page-000", "page-001")]


def test_grounding_boxes_hold_their_text(
    grounding_data: tuple[Any, list[dict[str, Any]]], tesseract: Any
) -> None:
    api, psm = tesseract
    _, rows = grounding_data
    clean_pages = sorted({row["page"] for row in rows if row["level"] == "clean"})[:8]
    pairs = []
    images: dict[str, Any] = {}
    for row in rows:
        if row["page"] in clean_pages:
            image = images.setdefault(row["page"], _image(row).convert("RGB"))
            api.SetPageSegMode(psm.SINGLE_LINE)
            api.SetImage(_crop(image, row["box"], margin=0.25))
            pairs.append((row["text"], api.GetUTF8Text()))
    assert len(pairs) >= 32
    assert _cer(pairs) < 0.05, _cer(pairs)
