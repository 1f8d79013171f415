"""A synthetic local mirror of HAERAE-Vision (HAERAE-HUB/HAERAE-VISION, split train) in the schema its public
code reads.

Schema, from GitHub HAE-RAE/HAERAE-VISION (commit 0b3614f): main.py loads the split `train` and reads
`question_idx`, `question_original` and `question_explicit` (the two question types), `category`, `source`,
`images` (a list of images: every one is sent) and `checklist` (the judge's criteria; its prompt takes "a
JSON array or a plain list string", kept here as a string holding a JSON array); `answer` is read only where
a copy has one (`item.get("answer", "")`), and this mirror has none. The files are laid out as the Hub's
parquet conversion, DATA_DIR/HAERAE-HUB/HAERAE-VISION/data/train-00000-of-00001.parquet, images as
{bytes, path}. Every question, checklist, category and image here is made up; no row is copied.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmark_copies import image, write_parquet

HUB_ID = "HAERAE-HUB/HAERAE-VISION"
CATEGORIES = ("게임", "과학", "생활")  # made-up names
SOURCES = ("커뮤니티 A", "커뮤니티 B")
ITEMS = (
    (
        "이거 뭐임?",
        "사진 속 식물의 이름과 키우는 방법을 알려 주세요.",
        ["식물 이름을 밝힌다", "물 주는 주기를 말한다"],
    ),
    (
        "이 판 어떻게 깸?",
        "게임 화면의 퍼즐을 푸는 순서를 설명해 주세요.",
        ["첫 수를 말한다", "전체 순서를 말한다", "정답 배치를 말한다"],
    ),
    ("왜 이럼?", "그래프에서 온도가 갑자기 떨어진 이유를 설명해 주세요.", ["원인을 말한다", "시점을 말한다"]),
    ("이거 얼마?", "사진 속 영수증의 합계 금액을 알려 주세요.", ["합계 금액을 말한다"]),
)


def haerae_vision_rows(n: int = 8) -> list[dict]:
    rows = []
    for i in range(n):
        original, explicit, checklist = ITEMS[i % len(ITEMS)]
        rows.append(
            {
                "question_idx": 100 + i,
                "question_original": f"{original} ({i})",
                "question_explicit": f"{explicit} ({i})",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "source": SOURCES[i % len(SOURCES)],
                "images": [image(10 * i + k) for k in range(1 + i % 2)],  # one or two images a row
                "checklist": json.dumps(checklist, ensure_ascii=False),
            }
        )
    return rows


def write_haerae_vision(root: Path, rows: list[dict]) -> Path:
    return write_parquet(root, HUB_ID, "train", rows)
