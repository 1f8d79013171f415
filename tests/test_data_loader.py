"""The dataset loader: each local format, split selection, identity across formats, Hub error messages.

All fixtures are written by the tests into tmp_path; the only shared data is the K-Viscuit mirror.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
import pytest
from PIL import Image

from kobench.data import loader
from kobench.data.loader import canonical_identity, load_table
from kobench.errors import BadInputError
from kobench.types import ImageRef

HUB_ID = "kobench-test/mini"
COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
# Row 5 reuses row 1's image: VLMEvalKit's TSV then stores the index "10" instead of the base64 again.
IMAGE_OF_ROW = [0, 1, 2, 3, 0]
COLUMNS = ["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "image"]


def png(color: tuple[int, int, int], size: int = 4) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return buf.getvalue()


def base_rows(answer_of_row_3: str = "C") -> list[dict[str, Any]]:
    questions = [
        "이 그림의 색은 무엇입니까?",
        "사진 속 물체는 무엇인가요?",
        "어느 계절입니까?",
        "몇 명이 있습니까?",
        "이 음식의 이름은?",
    ]
    rows = []
    for i, q in enumerate(questions):
        rows.append(
            {
                "index": 10 + i,
                "question": q,
                "hint": None if i == 1 else f"힌트 {i}",  # the NaN hint of K-MMBench
                "A": "빨강",
                "B": "초록",
                "C": "파랑",
                "D": "None",  # an option that literally reads None
                "answer": "ABCDA"[i] if i != 3 else answer_of_row_3,
                "category": "색" if i % 2 else "사물",
            }
        )
    return rows


def image_bytes(i: int) -> bytes:
    return png(COLORS[IMAGE_OF_ROW[i]])


def hf_dataset(rows: list[dict[str, Any]]) -> datasets.Dataset:
    feats = datasets.Features(
        {
            "index": datasets.Value("int64"),
            "question": datasets.Value("string"),
            "hint": datasets.Value("string"),
            "A": datasets.Value("string"),
            "B": datasets.Value("string"),
            "C": datasets.Value("string"),
            "D": datasets.Value("string"),
            "answer": datasets.Value("string"),
            "category": datasets.Value("string"),
            "image": datasets.Image(),
        }
    )
    data = {c: [r[c] for r in rows] for c in COLUMNS[:-1]}
    data["image"] = [{"bytes": image_bytes(i), "path": None} for i in range(len(rows))]
    return datasets.Dataset.from_dict(data, features=feats)


def write_parquet(folder: Path, rows: list[dict[str, Any]], split: str = "test") -> None:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    hf_dataset(rows).to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))


def write_disk(folder: Path, rows: list[dict[str, Any]]) -> None:
    datasets.DatasetDict({"test": hf_dataset(rows)}).save_to_disk(str(folder))


def write_tsv(folder: Path, rows: list[dict[str, Any]], name: str = "mini_test.tsv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    records, first_of = [], {}
    for i, r in enumerate(rows):
        img = IMAGE_OF_ROW[i]
        cell = str(first_of[img]) if img in first_of else base64.b64encode(image_bytes(i)).decode()
        first_of.setdefault(img, r["index"])
        records.append({**r, "image": cell})
    path = folder / name
    pd.DataFrame(records, columns=COLUMNS).to_csv(path, sep="\t", index=False)  # None -> empty cell
    return path


def write_jsonl(folder: Path, rows: list[dict[str, Any]]) -> Path:
    (folder / "images").mkdir(parents=True, exist_ok=True)
    path = folder / "mini_test.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, r in enumerate(rows):
            rel = f"images/{IMAGE_OF_ROW[i]}.png"
            (folder / rel).write_bytes(image_bytes(i))
            fh.write(json.dumps({**r, "image": rel}, ensure_ascii=False) + "\n")
    return path


WRITERS = {"parquet": write_parquet, "disk": write_disk, "tsv": write_tsv, "jsonl": write_jsonl}


def make(tmp_path: Path, fmt: str, rows: list[dict[str, Any]] | None = None) -> Path:
    """Write the mini dataset as DATA_DIR/kobench-test/mini/ and return DATA_DIR."""
    data_dir = tmp_path / fmt
    WRITERS[fmt](data_dir / HUB_ID, base_rows() if rows is None else rows)
    return data_dir


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_each_format_loads_rows_columns_and_images(tmp_path: Path, fmt: str) -> None:
    table = load_table(HUB_ID, "test", data_dir=make(tmp_path, fmt))
    assert table.columns == COLUMNS
    assert len(table.rows) == 5
    expected = base_rows()
    for i, row in enumerate(table.rows):
        assert {c: row[c] for c in COLUMNS[:-1]} == expected[i]
        assert isinstance(row["image"], ImageRef)
        assert row["image"].load().getpixel((1, 1)) == COLORS[IMAGE_OF_ROW[i]]
    assert table.rows[1]["hint"] is None
    assert table.rows[0]["D"] == "None"
    assert isinstance(table.rows[0]["index"], int)
    assert table.revision is None and table.files
    assert table.origin.startswith("local ")


def test_identity_is_the_same_across_formats_and_changes_with_an_answer(tmp_path: Path) -> None:
    ids = {
        fmt: canonical_identity(load_table(HUB_ID, "test", data_dir=make(tmp_path, fmt)).rows, COLUMNS)
        for fmt in WRITERS
    }
    assert len(set(ids.values())) == 1, ids
    assert next(iter(ids.values())).startswith("sha256:") and len(next(iter(ids.values()))) == 7 + 16
    changed = load_table(HUB_ID, "test", data_dir=make(tmp_path / "b", "parquet", base_rows("A"))).rows
    assert canonical_identity(changed, COLUMNS) != ids["parquet"]


def test_identity_numbers_and_strings() -> None:
    assert canonical_identity([{"a": 3}], ["a"]) == canonical_identity([{"a": 3.0}], ["a"])
    assert canonical_identity([{"a": 3}], ["a"]) != canonical_identity([{"a": "3"}], ["a"])
    assert canonical_identity([{"a": float("nan")}], ["a"]) == canonical_identity([{"a": None}], ["a"])
    assert canonical_identity([{"a": 1, "b": 2}], ["a"]) == canonical_identity([{"a": 1, "b": 3}], ["a"])


# --- split selection ------------------------------------------------------------------------------


def test_split_selection_and_missing_split_lists_the_found_ones(tmp_path: Path) -> None:
    folder = tmp_path / HUB_ID
    write_parquet(folder, base_rows()[:2], split="train")
    write_parquet(folder, base_rows(), split="test")
    assert len(load_table(HUB_ID, "train", data_dir=tmp_path).rows) == 2
    assert len(load_table(HUB_ID, "test", data_dir=tmp_path).rows) == 5
    with pytest.raises(BadInputError, match=r"'validation' not found.*splits found: test, train"):
        load_table(HUB_ID, "validation", data_dir=tmp_path)


def test_split_from_parent_folder_and_name_suffix(tmp_path: Path) -> None:
    folder = tmp_path / HUB_ID
    (folder / "dev").mkdir(parents=True)
    hf_dataset(base_rows()[:3]).to_parquet(str(folder / "dev" / "part0.parquet"))
    hf_dataset(base_rows()[3:]).to_parquet(str(folder / "dev" / "part1.parquet"))
    write_jsonl(folder, base_rows()[:1])  # mini_test.jsonl: split "test" by its name suffix
    dev = load_table(HUB_ID, "dev", data_dir=tmp_path)
    assert [r["index"] for r in dev.rows] == [10, 11, 12, 13, 14] and len(dev.files) == 2
    assert "(2 files)" in dev.origin
    assert len(load_table(HUB_ID, "test", data_dir=tmp_path).rows) == 1


def test_one_unnamed_file_serves_any_split(tmp_path: Path) -> None:
    folder = tmp_path / HUB_ID
    folder.mkdir(parents=True)
    (folder / "annotations.jsonl").write_text('{"q": "질문"}\n', encoding="utf-8")
    (folder / ".cache").mkdir()  # hidden folders are ignored
    (folder / ".cache" / "test.jsonl").write_text("not json\n", encoding="utf-8")
    assert load_table(HUB_ID, "test", data_dir=tmp_path).rows == [{"q": "질문"}]


def test_plain_save_to_disk_dataset(tmp_path: Path) -> None:
    hf_dataset(base_rows()).save_to_disk(str(tmp_path / HUB_ID))
    table = load_table(HUB_ID, "test", data_dir=tmp_path)
    assert len(table.rows) == 5 and table.origin.startswith("local save_to_disk")


def test_subset_folder_is_searched_alone(tmp_path: Path) -> None:
    folder = tmp_path / HUB_ID
    for subset in ("en", "ko"):
        (folder / subset).mkdir(parents=True)
        (folder / subset / "test.jsonl").write_text(json.dumps({"lang": subset}) + "\n", encoding="utf-8")
    table = load_table(HUB_ID, "test", data_dir=tmp_path, subset="ko")
    assert table.rows == [{"lang": "ko"}]


# --- TSV ------------------------------------------------------------------------------------------


def test_tsv_back_reference_and_missing_values(tmp_path: Path) -> None:
    path = write_tsv(tmp_path / HUB_ID, base_rows())
    assert path.read_text(encoding="utf-8").splitlines()[5].endswith("\t10")  # row 5 refers to index 10
    rows = load_table(HUB_ID, "test", data_dir=tmp_path).rows
    assert rows[4]["image"].read_bytes() == rows[0]["image"].read_bytes()


def test_tsv_empty_cell_is_none_and_text_nan_stays_text(tmp_path: Path) -> None:
    folder = tmp_path / HUB_ID
    folder.mkdir(parents=True)
    b64 = base64.b64encode(png((1, 2, 3))).decode()
    (folder / "t.tsv").write_text(
        f"index\thint\tA\tcode\tscore\timage\n1\t\tNone\t007\t0.5\t{b64}\n2\tnan\tNA\t12\t1.50\t1\n",
        encoding="utf-8",
    )
    rows = load_table(HUB_ID, "test", data_dir=tmp_path).rows
    assert rows[0]["hint"] is None and rows[1]["hint"] == "nan"
    assert rows[0]["A"] == "None" and rows[1]["A"] == "NA"
    assert rows[0]["index"] == 1 and rows[1]["index"] == 2  # integers round-trip: parsed
    assert rows[0]["code"] == "007" and rows[0]["score"] == "0.5"  # '007', '1.50' would change: kept as text
    assert rows[1]["image"].load().getpixel((0, 0)) == (1, 2, 3)


def test_tsv_bad_base64_names_file_row_and_field(tmp_path: Path) -> None:
    folder = tmp_path / HUB_ID
    folder.mkdir(parents=True)
    b64 = base64.b64encode(png((1, 2, 3))).decode()
    (folder / "bad.tsv").write_text(f"index\timage\n1\t{b64}\n2\t{b64[:-7]}!!!\n", encoding="utf-8")
    with pytest.raises(BadInputError) as err:
        load_table(HUB_ID, "test", data_dir=tmp_path)
    assert "bad.tsv" in str(err.value) and "row 2" in str(err.value) and "'image'" in str(err.value)


# --- JSONL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("escape", ["../outside.png", "images/../../outside.png", "/etc/hostname"])
def test_jsonl_path_leaving_the_root_is_refused(tmp_path: Path, escape: str) -> None:
    folder = tmp_path / HUB_ID
    write_jsonl(folder, base_rows()[:2])
    path = folder / "mini_test.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(1, "")  # blank line: row numbers are file lines, so the bad row is line 3
    lines[2] = json.dumps({"index": 1, "image": escape})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BadInputError) as err:
        load_table(HUB_ID, "test", data_dir=tmp_path)
    msg = str(err.value)
    assert "mini_test.jsonl" in msg and "row 3" in msg and "'image'" in msg and "leaves" in msg


def test_jsonl_missing_image_file_loads_and_fails_on_decode(tmp_path: Path) -> None:
    folder = tmp_path / HUB_ID
    folder.mkdir(parents=True)
    (folder / "x.jsonl").write_text('{"image": "images/nope.png", "images": ["a.png", "b.png"]}\n')
    (folder / "a.png").write_bytes(png((9, 9, 9)))
    row = load_table(HUB_ID, "test", data_dir=tmp_path, image_columns=("image", "images")).rows[0]
    assert row["image"].path == str(folder / "images" / "nope.png")
    with pytest.raises(OSError):
        row["image"].load()
    assert [type(r) for r in row["images"]] == [ImageRef, ImageRef]
    assert row["images"][0].load().getpixel((0, 0)) == (9, 9, 9)


def test_invalid_json_line_names_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / HUB_ID
    folder.mkdir(parents=True)
    (folder / "d.jsonl").write_text('{"a": 1}\n{"a": 2}\n{"a": \n', encoding="utf-8")
    with pytest.raises(BadInputError, match=r"d\.jsonl, row 3: invalid JSON"):
        load_table(HUB_ID, "test", data_dir=tmp_path)


def test_unreadable_parquet_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / HUB_ID
    folder.mkdir(parents=True)
    (folder / "test.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(BadInputError, match=r"test\.parquet: unreadable parquet"):
        load_table(HUB_ID, "test", data_dir=tmp_path)


def test_parquet_list_of_images(tmp_path: Path) -> None:
    feats = datasets.Features({"images": datasets.List(datasets.Image())})
    images = [[{"bytes": png((5, 5, 5)), "path": None}] * 2]
    ds = datasets.Dataset.from_dict({"images": images}, features=feats)
    (tmp_path / HUB_ID).mkdir(parents=True)
    ds.to_parquet(str(tmp_path / HUB_ID / "test.parquet"))
    row = load_table(HUB_ID, "test", data_dir=tmp_path, image_columns=("images",)).rows[0]
    assert len(row["images"]) == 2 and row["images"][1].load().getpixel((0, 0)) == (5, 5, 5)


# --- the real K-Viscuit mirror --------------------------------------------------------------------

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_real_k_viscuit_mirror() -> None:
    if not (SHARED_DATA / "ddehun" / "k-viscuit").is_dir():
        pytest.skip(f"K-Viscuit mirror not present at {SHARED_DATA}/ddehun/k-viscuit")
    table = load_table(
        "ddehun/k-viscuit", "test", data_dir=SHARED_DATA, image_columns=("image", "image_path")
    )
    assert len(table.rows) == 200
    assert {"id", "question", "options", "answer", "image"} <= set(table.columns)
    assert isinstance(table.rows[0]["options"], list) and len(table.rows[0]["options"]) == 4
    refs = {r["image"].path: r["image"] for r in table.rows}
    assert len(refs) == 74
    for ref in list(refs.values())[:5]:
        assert ref.load().size[0] > 0


# --- the Hub (faked: no network here) -------------------------------------------------------------


@pytest.fixture
def no_revision_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "_hub_revision", lambda hub_id, revision: None)


def _raise(exc: Exception):
    def fake(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fake


@pytest.mark.usefixtures("no_revision_lookup")
def test_offline_without_local_copy_suggests_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets, "load_dataset", _raise(ConnectionError("Couldn't reach 'x/y' on the Hub")))
    with pytest.raises(BadInputError, match="--data-dir") as err:
        load_table("NCSOFT/K-SEED", "test", data_dir=None)
    assert "DIR/<owner>/<name>/" in str(err.value)
    with pytest.raises(BadInputError, match="--data-dir") as err:
        load_table("NCSOFT/K-SEED", "test", data_dir=tmp_path)
    assert str(tmp_path / "NCSOFT" / "K-SEED") in str(err.value)


@pytest.mark.usefixtures("no_revision_lookup")
def test_gated_dataset_explains_terms_and_login(monkeypatch: pytest.MonkeyPatch) -> None:
    msg = "Dataset 'NCSOFT/K-SEED' is a gated dataset on the Hub. You must be authenticated to access it."
    monkeypatch.setattr(datasets, "load_dataset", _raise(datasets.exceptions.DatasetNotFoundError(msg)))
    with pytest.raises(BadInputError, match="hf auth login") as err:
        load_table("NCSOFT/K-SEED", "test", data_dir=None)
    assert "https://huggingface.co/datasets/NCSOFT/K-SEED" in str(err.value)


@pytest.mark.usefixtures("no_revision_lookup")
def test_other_hub_errors_are_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "load_dataset", _raise(ValueError('Unknown split "tset".')))
    with pytest.raises(BadInputError, match=r"could not load NCSOFT/K-SEED \(split 'tset'\).*Unknown split"):
        load_table("NCSOFT/K-SEED", "tset", data_dir=None)


def test_hub_rows_carry_encoded_bytes_and_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    sha = "a" * 40
    calls: list[tuple[Any, ...]] = []

    def fake(path: str, name: Any = None, **kwargs: Any) -> datasets.Dataset:
        calls.append((path, name, kwargs))
        return hf_dataset(base_rows())

    monkeypatch.setattr(datasets, "load_dataset", fake)
    table = load_table("NCSOFT/K-SEED", "test", data_dir=None, revision=sha)
    assert calls == [("NCSOFT/K-SEED", None, {"split": "test", "revision": sha})]
    assert table.revision == sha and table.files == []
    assert table.origin == f"hub NCSOFT/K-SEED@{sha} split test"
    assert table.rows[2]["image"].data == png(COLORS[2])


def test_bad_dataset_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="owner/name"):
        load_table("../etc", "test", data_dir=tmp_path)
