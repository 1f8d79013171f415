"""Generated benchmarks kobizdoc-synth (business documents) and ko-chart-synth (charts).

Each set is generated once per module into a temp folder. The OCR checks read the images with
Tesseract (tesserocr, kor+eng) to show that the answers are really printed in them; they skip with
the reason when tesserocr or its Korean data is missing.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import warnings
from collections import Counter
from pathlib import Path

import pytest

from kobench.errors import BadInputError
from kobench.synth.common import korean_fonts

try:
    korean_fonts()
except BadInputError as exc:  # pragma: no cover - depends on the machine
    pytest.skip(f"no Korean font installed ({exc})", allow_module_level=True)

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
Image = pytest.importorskip("PIL.Image")

from kobench.synth import charts as ch  # noqa: E402
from kobench.synth import documents as docs  # noqa: E402

TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")
CHART_N = 24  # a prefix of the 60 charts keeps the module fast; chart i does not depend on n
DOC_COLUMNS = ["id", "image", "question", "answers", "category", "question_type", "answer_type"]
MC_COLUMNS = [
    "index",
    "question",
    "choice_a",
    "choice_b",
    "choice_c",
    "choice_d",
    "answer",
    "category",
    "image",
]
QA_COLUMNS = ["id", "question", "answers", "answer_type", "category", "image"]


def _read(root: Path, split: str) -> pa.Table:
    return pq.read_table(root / "data" / f"{split}-00000-of-00001.parquet")


@pytest.fixture(scope="module")
def doc_set(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    root = docs.generate_kobizdoc(tmp_path_factory.mktemp("kobizdoc"))
    assert root.name == "kobizdoc-synth" and root.parent.name == "kobench"
    return _read(root, "test")


@pytest.fixture(scope="module")
def chart_set(tmp_path_factory: pytest.TempPathFactory) -> dict:
    pytest.importorskip("matplotlib")
    from kobench.synth.common import write_splits

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = ch.chart_items(0, CHART_N)
    root = write_splits(tmp_path_factory.mktemp("chart"), "kobench/ko-chart-synth", ch.chart_rows(*items))
    charts, images, mc, qa = items
    return {
        "charts": charts,
        "images": images,
        "mc": mc,
        "qa": qa,
        "warnings": caught,
        "mc_table": _read(root, "mc"),
        "qa_table": _read(root, "qa"),
    }


def _ocr_api(psm: int):
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before Tesseract starts its threads
    tesserocr = pytest.importorskip("tesserocr", reason="the OCR checks need tesserocr")
    if not (TESSDATA / "kor.traineddata").is_file():
        pytest.skip(f"Tesseract's Korean data is missing ({TESSDATA / 'kor.traineddata'})")
    return tesserocr.PyTessBaseAPI(path=str(TESSDATA), lang="kor+eng", psm=psm)


def _squash(text: str) -> str:
    """Compare without spaces; Tesseract often reads the thousands comma as a full stop."""
    return re.sub(r"\s+", "", text).replace(".", ",")


# --- kobizdoc-synth ---------------------------------------------------------------------------


def test_kobizdoc_schema_and_sizes(doc_set: pa.Table) -> None:
    assert doc_set.column_names == DOC_COLUMNS
    assert doc_set.schema.field("image").type == pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    assert doc_set.schema.field("answers").type == pa.list_(pa.string())
    rows = doc_set.to_pylist()
    assert len(rows) == docs.DEFAULT_COUNT * docs.QUESTIONS_PER_DOCUMENT == 180
    assert len({r["id"] for r in rows}) == len(rows)
    assert Counter(r["category"] for r in rows) == {"견적서": 60, "거래명세서": 60, "영수증": 60}
    types = Counter(r["question_type"] for r in rows)
    assert set(types) == {"field", "table", "total", "count", "compare"}
    assert types["compare"] == 36 and types["total"] == 36 and types["count"] == 12
    assert {r["answer_type"] for r in rows} == {"text", "number"}
    for r in rows:
        assert r["question"].endswith("?") and r["answers"] and all(a.strip() for a in r["answers"])
    images = {r["image"]["path"]: r["image"]["bytes"] for r in rows}
    assert len(images) == 36
    scanned = [p for p in images if p.endswith(".jpg")]
    assert len(scanned) == 12  # a third get scan realism
    for path, data in images.items():
        img = Image.open(io.BytesIO(data))
        assert img.format == ("JPEG" if path.endswith(".jpg") else "PNG")
        assert 1000 <= img.height <= 1400 and img.height > img.width  # A4-like portrait


def test_kobizdoc_amounts_add_up() -> None:
    documents = docs.build_documents(0)
    assert Counter(d.kind for d in documents) == {"견적서": 12, "거래명세서": 12, "영수증": 12}
    for d in documents:
        assert 3 <= len(d.items) <= 7
        for item in d.items:
            assert item.amount == item.quantity * item.unit_price > 0
        assert d.supply_total == sum(item.amount for item in d.items)
        assert d.vat == d.supply_total * 10 // 100  # 10% VAT, rounded down
        assert d.total == d.supply_total + d.vat
        assert len({item.name for item in d.items}) == len(d.items)
        prices = sorted(item.unit_price for item in d.items)
        amounts = sorted(item.amount for item in d.items)
        assert prices[-1] > prices[-2] and amounts[-1] > amounts[-2]  # one most expensive item
        assert d.supplier.company != d.buyer.company


def test_kobizdoc_answers_match_the_documents() -> None:
    for d in docs.build_documents(0):
        by_name = {item.name: item for item in d.items}
        for q in docs.document_questions(d):
            first = q["answers"][0]
            if q["question_type"] == "total":
                expected = (
                    d.vat
                    if "세액" in q["question"]
                    else d.supply_total
                    if "공급가액" in q["question"]
                    else d.total
                )
                assert first == f"{expected:,}원" and q["answers"][1] == f"{expected:,}"
            elif q["question_type"] == "count":
                assert first == f"{len(d.items)}개"
            elif q["question_type"] == "compare":
                key = (lambda i: i.unit_price) if "단가" in q["question"] else (lambda i: i.amount)
                assert first == max(d.items, key=key).name
            elif q["question_type"] == "table":
                item = by_name[re.search(r"'(.+)'", q["question"]).group(1)]
                value = {"수량": item.quantity, "단가": item.unit_price, "금액": item.amount}[
                    re.search(r"의 (수량|단가|금액)[은는]", q["question"]).group(1)
                ]
                assert first.rstrip("원") == f"{value:,}"
            else:
                printed = {
                    d.supplier.company,
                    d.buyer.company,
                    d.date_text,
                    d.supplier.business_number,
                    d.supplier.ceo,
                    d.supplier.phone,
                }
                assert first in printed


def test_kobizdoc_is_deterministic_and_seeded(tmp_path: Path) -> None:
    def build(folder: str, seed: int) -> bytes:
        root = docs.generate_kobizdoc(tmp_path / folder, seed=seed, n=4)
        return (root / "data" / "test-00000-of-00001.parquet").read_bytes()

    first = build("a", 0)
    assert build("b", 0) == first
    assert build("c", 1) != first
    assert docs.DOCUMENT_GENERATOR_VERSION == "1"


def test_kobizdoc_answers_are_printed(doc_set: pa.Table) -> None:
    """OCR two clean documents of each kind: the field/total answers must be in the text."""
    api = _ocr_api(psm=3)
    rows = doc_set.to_pylist()
    chosen: list[str] = []
    for kind in docs.KINDS:
        chosen += [
            r["image"]["path"]
            for r in rows
            if r["category"] == kind and r["image"]["path"].endswith(".png") and r["id"].endswith("-q0")
        ][:2]
    found = total = 0
    misses = []
    with api:
        for path in chosen:
            image = next(r["image"]["bytes"] for r in rows if r["image"]["path"] == path)
            api.SetImage(Image.open(io.BytesIO(image)))
            text = _squash(api.GetUTF8Text())
            for r in rows:
                if r["image"]["path"] == path and r["question_type"] in ("field", "total", "table"):
                    hit = any(_squash(a) in text for a in r["answers"])
                    if r["question_type"] != "table":
                        found += hit
                        total += 1
                    if not hit:
                        misses.append((path, r["answers"][0]))
    assert total >= 12
    assert found / total >= 0.8, f"{found}/{total} field/total answers read back; missed {misses}"


# --- ko-chart-synth ---------------------------------------------------------------------------


def test_charts_render_hangul(chart_set: dict) -> None:
    missing = [str(w.message) for w in chart_set["warnings"] if "missing from" in str(w.message)]
    assert not missing, missing[:3]


def test_chart_schemas(chart_set: dict) -> None:
    mc, qa = chart_set["mc_table"], chart_set["qa_table"]
    assert mc.column_names == MC_COLUMNS and qa.column_names == QA_COLUMNS
    assert pa.types.is_integer(mc.schema.field("index").type)
    assert qa.schema.field("answers").type == pa.list_(pa.string())
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    assert mc.schema.field("image").type == image_type == qa.schema.field("image").type
    mc_rows, qa_rows = mc.to_pylist(), qa.to_pylist()
    n = CHART_N
    assert len(mc_rows) == (n + 1) // 2 * 2 + n // 2  # one or two per chart; 90 for the full 60
    assert len(qa_rows) == 2 * n  # 120 for the full 60
    assert [r["index"] for r in mc_rows] == list(range(len(mc_rows)))
    assert len({r["id"] for r in qa_rows}) == len(qa_rows)
    assert {r["category"] for r in mc_rows} == {r["category"] for r in qa_rows} == {"bar", "line", "pie"}
    assert {r["answer_type"] for r in qa_rows} == {"numeric", "text"}
    assert Counter(c.kind for c in ch.build_charts(0)) == {"bar": 20, "line": 20, "pie": 20}
    for r in mc_rows:
        choices = [r[f"choice_{x}"] for x in "abcd"]
        assert len(set(choices)) == 4 and r["answer"] in "ABCD"


def test_chart_letters_balanced(chart_set: dict) -> None:
    counts = Counter(r["answer"] for r in chart_set["mc_table"].to_pylist())
    assert set(counts) == set("ABCD") and max(counts.values()) - min(counts.values()) <= 1


def test_charts_share_images_across_splits(chart_set: dict) -> None:
    by_path: dict[str, set[bytes]] = {}
    for table in (chart_set["mc_table"], chart_set["qa_table"]):
        for r in table.to_pylist():
            by_path.setdefault(r["image"]["path"], set()).add(r["image"]["bytes"])
    assert len(by_path) == CHART_N and all(len(v) == 1 for v in by_path.values())
    for chart, image in zip(chart_set["charts"], chart_set["images"], strict=True):
        assert by_path[f"{chart.chart_id}.png"] == {image}
        assert Image.open(io.BytesIO(image)).size == (960, 660)


def _trend(values: tuple[int, ...]) -> str:
    ups = [b > a for a, b in itertools.pairwise(values)]
    if all(ups):
        return "up"
    if not any(ups):
        return "down"
    turn = ups.index(not ups[0])
    assert all(u == ups[turn] for u in ups[turn:]), "one turning point"
    return "up-down" if ups[0] else "down-up"


def test_chart_mc_has_exactly_one_true_option(chart_set: dict) -> None:
    rows = chart_set["mc_table"].to_pylist()
    for row, item in zip(rows, chart_set["mc"], strict=True):
        chart = item.chart
        choices = [row[f"choice_{x}"] for x in "abcd"]
        assert row["question"] == item.question and choices == item.options
        assert choices["ABCD".index(row["answer"])] == item.truth
        if item.qtype == "lookup":
            s, c = item.ref
            truth = ch.fmt(chart.series[s].raw[c], chart.decimals) + chart.theme.unit
            assert chart.labelled
            data = {
                ch.fmt(v, chart.decimals) + chart.theme.unit for series in chart.series for v in series.raw
            }
            assert sum(choice == truth for choice in choices) == 1
            assert sum(choice in data for choice in choices) == 1  # distractors are no value in the chart
        elif item.qtype in ("max", "min"):
            s, _ = item.ref
            raw = chart.series[s].raw
            truth = chart.categories[raw.index(max(raw) if item.qtype == "max" else min(raw))]
            assert sorted(raw).count(max(raw) if item.qtype == "max" else min(raw)) == 1
            assert sum(choice == truth for choice in choices) == 1
            assert set(choices) <= set(chart.categories)
        elif item.qtype == "pattern":
            truth = ch.PATTERNS[_trend(chart.series[0].raw)]
            assert sum(choice == truth for choice in choices) == 1
        else:
            s1, c1, s2, c2 = item.ref
            a, b = chart.series[s1].raw[c1], chart.series[s2].raw[c2]
            assert a != b and 2 * b > a  # so "절반 이하로 감소했다" is never also true
            assert sum(choice == ("증가했다" if b > a else "감소했다") for choice in choices) == 1


def test_chart_qa_answers_recomputed(chart_set: dict) -> None:
    rows = chart_set["qa_table"].to_pylist()
    kinds = Counter(item.qtype for item in chart_set["qa"])
    assert kinds["value"] and kinds["diff"] + kinds["sum"] and kinds["max"] + kinds["min"]
    for row, item in zip(rows, chart_set["qa"], strict=True):
        chart = item.chart
        assert row["answers"] == item.options and row["id"].startswith(chart.chart_id)
        s, *cats = item.ref
        raw = chart.series[s].raw
        if item.qtype in ("value", "diff", "sum"):
            assert chart.labelled and row["answer_type"] == "numeric"
            if item.qtype == "value":
                expected = raw[cats[0]]
            elif item.qtype == "diff":
                expected = abs(raw[cats[0]] - raw[cats[1]])
            else:
                expected = sum(raw[k] for k in cats)
            assert row["answers"][0] == ch.fmt(expected, chart.decimals)
            assert row["answers"][0].replace(",", "") in row["answers"]
        else:
            assert row["answer_type"] == "text"
            expected = chart.categories[raw.index(max(raw) if item.qtype == "max" else min(raw))]
            assert row["answers"][0] == expected and len(row["answers"]) <= 2


def test_chart_data_is_consistent() -> None:
    for chart in ch.build_charts(0):
        assert all(len(s.raw) == len(chart.categories) for s in chart.series)
        assert len(set(chart.categories)) == len(chart.categories) >= 4
        if chart.kind == "pie":
            assert sum(chart.series[0].raw) == 100 * 10**chart.decimals
        if chart.pattern:
            assert _trend(chart.series[0].raw) == chart.pattern
    labelled = Counter(c.labelled for c in ch.build_charts(0))
    assert labelled[True] == 45 and labelled[False] == 15  # most, not all, print their values


def test_ko_chart_is_deterministic_and_seeded(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")

    def build(folder: str, seed: int) -> tuple[bytes, bytes]:
        root = ch.generate_ko_chart(tmp_path / folder, seed=seed, n=4)
        return tuple((root / "data" / f"{s}-00000-of-00001.parquet").read_bytes() for s in ("mc", "qa"))

    first = build("a", 0)
    assert build("b", 0) == first
    other = build("c", 1)
    assert other[0] != first[0] and other[1] != first[1]
    assert ch.CHART_GENERATOR_VERSION == "1"


def _chart_views(png: bytes, kind: str) -> list:
    """The chart at twice its size in grey; pies also as two binarisations: dark labels on pastel
    wedges, and white labels on saturated wedges (only inside the pie, whose box the saturated
    pixels give)."""
    import numpy as np

    img = Image.open(io.BytesIO(png)).convert("RGB")
    img = img.resize((img.width * 2, img.height * 2), Image.Resampling.LANCZOS)
    grey = img.convert("L")
    views = [grey]
    if kind == "pie":
        views.append(grey.point(lambda v: 0 if v < 110 else 255))
        _h, s, v = (np.asarray(band).astype(int) for band in img.convert("HSV").split())
        ys, xs = np.nonzero(s >= 70)
        cy, cx, ry, rx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2, np.ptp(ys) / 2, np.ptp(xs) / 2
        yy, xx = np.mgrid[: s.shape[0], : s.shape[1]]
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 0.97
        views.append(Image.fromarray(np.where(inside & (s < 70) & (v > 190), 0, 255).astype("uint8")))
    return views


def test_chart_values_are_printed(chart_set: dict) -> None:
    """OCR the labelled charts: the value asked about is in the text for most of them."""
    api = _ocr_api(psm=11)
    asked: dict[str, set[str]] = {}
    for item in [*chart_set["mc"], *chart_set["qa"]]:
        if item.qtype in ("lookup", "value"):
            s, c = item.ref
            asked.setdefault(item.chart.chart_id, set()).add(
                ch.fmt(item.chart.series[s].raw[c], item.chart.decimals)
            )
    charts = [c for c in chart_set["charts"] if c.chart_id in asked][:12]
    hits, values_found, values_total, misses = 0, 0, 0, []
    with api:
        for chart in charts:
            image = chart_set["images"][chart_set["charts"].index(chart)]
            text = ""
            for view in _chart_views(image, chart.kind):
                api.SetImage(view)
                text += api.GetUTF8Text()
            text = re.sub(r"\s+", "", text).replace(",", "")
            ok = all(value.replace(",", "") in text for value in asked[chart.chart_id])
            hits += ok
            if not ok:
                misses.append((chart.chart_id, sorted(asked[chart.chart_id])))
            every = [ch.fmt(v, chart.decimals).replace(",", "") for s in chart.series for v in s.raw]
            values_found += sum(v in text for v in every)
            values_total += len(every)
    assert len(charts) >= 10
    assert hits / len(charts) >= 0.75, (
        f"asked values read back in {hits}/{len(charts)} charts; missed {misses}"
    )
    assert values_found / values_total >= 0.7, f"{values_found}/{values_total} printed values read back"
