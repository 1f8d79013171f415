"""A synthetic local mirror of KOFFVQA (maum-ai/KOFFVQA_Data) in the layout its public code reads.

Schema, from GitHub maum-ai/KOFFVQA (commit c6a861d): generate.py downloads one file, data/KOFFVQA.tsv
(`pd.read_csv(data, sep='\\t')`), and reads `question` and `image`, the base64 text of the encoded image
(src/utils.py img_decode); evaluate.py reads `index`, `question`, `answer` (the question's grading criteria,
formatted into the judge prompt) and `category` (scores per category). The mirror keeps the Hub's path,
DATA_DIR/maum-ai/KOFFVQA_Data/data/KOFFVQA.tsv. Every question, criterion, category name and image here is
made up; no row of KOFFVQA is copied (its 10 subcategories are not named in any source read here).
"""

from __future__ import annotations

import base64
import csv
from pathlib import Path

from benchmark_copies import png

HUB_ID = "maum-ai/KOFFVQA_Data"
CATEGORIES = ("사물 인식", "글자 읽기", "개수 세기")  # made-up names
QUESTIONS = (
    "사진 속 과일의 이름은 무엇인가요?",
    "간판에 적힌 가게 이름을 그대로 읽어 주세요.",
    "사진에 보이는 의자는 몇 개인가요?",
    "이 동물이 무엇을 하고 있는지 설명해 주세요.",
    "표지판에 적힌 숫자는 무엇인가요?",
)
CRITERIA = (
    "- 과일을 '사과'라고 답하면 10점\n- 그 밖의 답은 0점",
    "- 가게 이름 '한빛분식'을 정확히 읽으면 10점\n- 한 글자라도 틀리면 0점",
    "- 의자가 '3개'라고 답하면 10점\n- 그 밖의 개수는 0점",
    "- 고양이라고 답하면 5점\n- 잠을 자고 있다고 하면 5점",
    "- '30'이라고 답하면 10점",
)


def koffvqa_rows(n: int = 10) -> list[dict]:
    return [
        {
            "index": i,
            "question": f"{QUESTIONS[i % len(QUESTIONS)]} ({i})",
            "answer": CRITERIA[i % len(CRITERIA)],
            "category": CATEGORIES[i % len(CATEGORIES)],
            "image": base64.b64encode(png(((i * 53) % 256, (i * 29) % 256, 140))).decode("ascii"),
        }
        for i in range(n)
    ]


def write_koffvqa(root: Path, rows: list[dict]) -> Path:
    """DATA_DIR/maum-ai/KOFFVQA_Data/data/KOFFVQA.tsv, tab-separated with a header, as on the Hub."""
    folder = root / HUB_ID / "data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "KOFFVQA.tsv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
