"""Captioning data as users have it: AIHub's MSCOCO-Korean meta.json, Crossmodal-3600's captions.jsonl,
plain JSONL, and the Karpathy split file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.data.layouts import read_aihub_coco_ko, read_xm3600
from kobench.data.split_file import read_split_file
from kobench.errors import BadInputError
from kobench.extract.caption import clean_caption, protocol_caption
from kobench.families import resolve_tasks
from kobench.run.prepare import prepare_task

COCO_NAMES = [f"COCO_val2014_{n:012d}.jpg" for n in (391895, 522418, 184613, 318219)]


def _image(path: Path, colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), colour).save(path)


def aihub_copy(root: Path) -> Path:
    folder = root / "coco-ko"
    rows = []
    for n, name in enumerate(COCO_NAMES):
        _image(folder / "val2014" / name, (40 * n, 100, 200))
        rows.append(
            {
                "file_path": f"val2014/{name}",
                "captions": ["A man riding a bike."],
                "id": int(name[-10:-4]),
                "caption_ko": [f"자전거를 탄 남자 {n}.", f"남자가 자전거를 타고 있다 {n}."],
            }
        )
    rows[2]["caption_ko"] = []  # a row without Korean captions: counted as failed, not a stop
    (folder / "meta.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return root


def test_aihub_layout_rows_ids_images_and_references(tmp_path: Path) -> None:
    table = read_aihub_coco_ko(aihub_copy(tmp_path) / "coco-ko")
    assert [r["id"] for r in table.rows] == [f"val2014/{n}" for n in COCO_NAMES]
    assert table.rows[0]["references"] == ["자전거를 탄 남자 0.", "남자가 자전거를 타고 있다 0."]
    assert table.rows[2]["references"] == []  # as written: the family counts the row as failed
    assert Path(table.rows[1]["image"].path) == tmp_path / "coco-ko" / "val2014" / COCO_NAMES[1]


def test_aihub_bare_file_names_are_found_under_val2014(tmp_path: Path) -> None:
    folder = aihub_copy(tmp_path) / "coco-ko"
    rows = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    rows[0]["file_path"] = COCO_NAMES[0]
    (folder / "meta.json").write_text(json.dumps(rows), encoding="utf-8")
    table = read_aihub_coco_ko(folder)
    assert table.rows[0]["id"] == COCO_NAMES[0]
    assert Path(table.rows[0]["image"].path).is_file()


def test_aihub_errors_name_file_row_and_field(tmp_path: Path) -> None:
    folder = aihub_copy(tmp_path) / "coco-ko"
    rows = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    del rows[3]["file_path"]
    (folder / "meta.json").write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(BadInputError, match=r"meta\.json, row 4, field 'file_path'"):
        read_aihub_coco_ko(folder)
    rows[3]["file_path"] = "../../etc/passwd"
    (folder / "meta.json").write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(BadInputError, match="leaves the folder"):
        read_aihub_coco_ko(folder)


def test_xm3600_layout_takes_korean_captions(tmp_path: Path) -> None:
    folder = tmp_path / "xm3600-ko"
    lines = []
    for n, key in enumerate(["000411001ff7dd4f", "00b1e6ac0c2d8b3e", "01a1a1a1a1a1a1a1"]):
        if n < 2:
            _image(folder / "images" / f"{key}.jpg", (n * 90, 10, 10))
        entry = {"image/key": key, "image/locale": "ko", "en": {"caption": ["a dog"]}}
        if n != 1:
            entry["ko"] = {"caption": [f"개 한 마리 {n}", f"강아지 {n}"], "caption/tokenized": ["x"]}
        lines.append(json.dumps(entry, ensure_ascii=False))
    (folder / "captions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_xm3600(folder)
    assert [r["id"] for r in table.rows] == ["000411001ff7dd4f", "00b1e6ac0c2d8b3e", "01a1a1a1a1a1a1a1"]
    assert table.rows[0]["references"] == ["개 한 마리 0", "강아지 0"]
    assert table.rows[1]["references"] is None  # no Korean captions for this image
    assert Path(table.rows[0]["image"].path).is_file()
    assert not Path(table.rows[2]["image"].path).exists()  # missing image: a counted row failure later


def test_xm3600_bad_line_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "xm"
    folder.mkdir()
    (folder / "captions.jsonl").write_text('{"image/key": "a"}\n{not json\n', encoding="utf-8")
    with pytest.raises(BadInputError, match=r"captions\.jsonl, row 2: invalid JSON"):
        read_xm3600(folder)


def test_split_file_formats(tmp_path: Path) -> None:
    karpathy = {
        "images": [
            {"filepath": "val2014", "filename": COCO_NAMES[0], "split": "test"},
            {"filepath": "val2014", "filename": COCO_NAMES[1], "split": "val"},
            {"filepath": "val2014", "filename": COCO_NAMES[3], "split": "test"},
        ],
        "dataset": "coco",
    }
    (tmp_path / "dataset_coco.json").write_text(json.dumps(karpathy), encoding="utf-8")
    listed = read_split_file(tmp_path / "dataset_coco.json")
    assert listed.label == "karpathy-test"
    assert listed.names == {COCO_NAMES[0], COCO_NAMES[3]}
    (tmp_path / "names.txt").write_text(f"# test images\nval2014/{COCO_NAMES[0]}\n\n{COCO_NAMES[3]}\n")
    as_text = read_split_file(tmp_path / "names.txt")
    assert as_text.names == listed.names and as_text.label == "listed"
    # The recorded split depends on the list's content, not on where it was saved.
    assert as_text.describe(2).split("[")[1] == listed.describe(2).split("[")[1]


def _prepare(task: str, cache_dir: Path, **data):
    spec = resolve_tasks([task], ())[0]
    scoring = ScoringOptions(embedder="builtin:use-multilingual-v3")
    return prepare_task(spec, DataOptions(**data), scoring, JudgeOptions(), cache_dir)


def test_coco_ko_found_under_data_dir_with_karpathy_split(tmp_path: Path) -> None:
    root = aihub_copy(tmp_path / "data")
    whole = _prepare("coco-ko", data_dir=root, cache_dir=tmp_path / "cache")
    assert [i.id for i in whole.items] == [f"val2014/{n}" for n in COCO_NAMES]
    assert whole.items[2].failure == "missing reference captions"
    assert whole.items[0].prompt == "이미지를 한 문장으로 자세히 설명해줘"
    assert whole.dataset.split == "test"
    karpathy = {"images": [{"filename": n, "split": "test"} for n in COCO_NAMES[:2]]}
    (tmp_path / "dataset_coco.json").write_text(json.dumps(karpathy), encoding="utf-8")
    listed = _prepare(
        "coco-ko",
        data_dir=root,
        cache_dir=tmp_path / "cache",
        split_files=(f"coco-ko={tmp_path / 'dataset_coco.json'}",),
    )
    assert [i.id for i in listed.items] == [f"val2014/{n}" for n in COCO_NAMES[:2]]
    assert listed.dataset.split.startswith("karpathy-test[2 listed, 2 found")
    assert listed.dataset.identity != whole.dataset.identity


def test_coco_ko_plain_jsonl_through_data_path(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    _image(folder / "a.png", (1, 2, 3))
    row = {"id": "a", "image": "a.png", "references": ["빨간 공이 있다.", "공 하나."]}
    (folder / "test.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    prepared = _prepare(
        "coco-ko", data_dir=None, cache_dir=tmp_path / "cache", data_paths=(f"coco-ko={folder}",)
    )
    assert prepared.items[0].target == ["빨간 공이 있다.", "공 하나."]
    assert prepared.items[0].request is not None


def test_coco_ko_without_data_says_how_to_give_it(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"DIR/coco-ko/.*--data-path coco-ko=DIR"):
        _prepare("coco-ko", data_dir=tmp_path, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    ("response", "cleaned"),
    [
        ("빨간 공 두 개가 있다.", "빨간 공 두 개가 있다."),
        ("<think>공이 보인다</think>\n빨간 공 두 개가 있다.", "빨간 공 두 개가 있다."),
        ("설명: 빨간 공 두 개가 있다.", "빨간 공 두 개가 있다."),
        ('"빨간 공 두 개가 있다."', "빨간 공 두 개가 있다."),
        ("**빨간 공** 두 개가   있다.", "빨간 공 두 개가 있다."),
        ("<think>생각이 끝나지 않음", ""),
        ("   ", ""),
    ],
)
def test_clean_caption(response: str, cleaned: str) -> None:
    assert clean_caption(response) == cleaned


def test_protocol_caption_keeps_everything_but_spacing() -> None:
    assert protocol_caption(' 설명: "빨간 공"\n두 개 ') == '설명: "빨간 공" 두 개'


def test_aihub_meta_json_saved_as_cp949_names_its_line(tmp_path: Path) -> None:
    folder = aihub_copy(tmp_path) / "coco-ko"
    rows = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    text = json.dumps(rows, ensure_ascii=False, indent=1)
    (folder / "meta.json").write_bytes(text.encode("cp949"))
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if any("가" <= ch <= "힣" for ch in ln))
    with pytest.raises(BadInputError, match=rf"meta\.json: line {line}, column \d+: not UTF-8"):
        read_aihub_coco_ko(folder)
