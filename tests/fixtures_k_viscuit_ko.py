"""Two synthetic copies of K-Viscuit side by side: one in the original's layout, in English
(DATA_DIR/ddehun/k-viscuit/, the Hub/subset layout BENCHMARKS.md documents: `id`, `question`, `options` (4),
`answer` letter, `answer_index`, relative `image` path, `category`, `question_type`), and a user's Korean
translation of the same questions in the same layout (DATA_DIR/k-viscuit-ko/, where the k-viscuit-ko task
looks). Same ids, images and answers; only the text is translated. Every question is made up here.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmark_copies import png

# (category, question_type, English question, options, Korean question, options, answer index)
QUESTIONS = [
    (
        "Food",
        1,
        "What is the dish in the image?",
        ["Bibimbap", "Japchae", "Bulgogi", "Tteokbokki"],
        "사진 속 음식은 무엇입니까?",
        ["비빔밥", "잡채", "불고기", "떡볶이"],
        0,
    ),
    (
        "Food",
        2,
        "On which holiday is this dish usually eaten?",
        ["Chuseok", "Seollal", "Dano", "Boknal"],
        "이 음식은 주로 어느 명절에 먹습니까?",
        ["추석", "설날", "단오", "복날"],
        1,
    ),
    (
        "Clothes",
        1,
        "What is the garment shown?",
        ["Hanbok", "Kimono", "Qipao", "Ao dai"],
        "사진 속 옷은 무엇입니까?",
        ["한복", "기모노", "치파오", "아오자이"],
        0,
    ),
    (
        "Clothes",
        2,
        "When is this garment most often worn today?",
        ["Holidays", "Work", "Sports", "Sleep"],
        "오늘날 이 옷은 언제 가장 많이 입습니까?",
        ["명절", "출근", "운동", "잠잘 때"],
        0,
    ),
    (
        "Heritage",
        1,
        "What kind of building is this?",
        ["Palace", "Temple", "Shrine", "Fortress"],
        "이 건물은 어떤 건물입니까?",
        ["궁궐", "사찰", "사당", "성곽"],
        2,
    ),
    (
        "Heritage",
        2,
        "In which dynasty was it first built?",
        ["Joseon", "Goryeo", "Silla", "Baekje"],
        "이 건물은 어느 왕조에 처음 지어졌습니까?",
        ["조선", "고려", "신라", "백제"],
        3,
    ),
    (
        "Tool",
        1,
        "What is this tool used for?",
        ["Cooking", "Farming", "Weaving", "Writing"],
        "이 도구는 무엇에 씁니까?",
        ["요리", "농사", "베 짜기", "글쓰기"],
        1,
    ),
    (
        "Tool",
        2,
        "Which season is it used in most?",
        ["Spring", "Summer", "Autumn", "Winter"],
        "이 도구는 어느 계절에 가장 많이 씁니까?",
        ["봄", "여름", "가을", "겨울"],
        2,
    ),
]
# K-Viscuit repeats ids (64 of 657 upstream): the last two questions share one here.
IDS = [
    "Food.1.0",
    "Food.1.1",
    "Clothes.2.0",
    "Clothes.2.1",
    "Heritage.3.0",
    "Heritage.3.1",
    "Tool.4.0",
    "Tool.4.0",
]
KOREAN_DIR = "k-viscuit-ko"


def _write(folder: Path, rows: list[dict]) -> None:
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    for i in range(len(rows) // 2):
        (images / f"{i}.png").write_bytes(png(((i * 60) % 256, 120, (i * 35) % 256)))
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (folder / "k_viscuit.jsonl").write_text(text, encoding="utf-8")


def rows(language: str) -> list[dict]:
    out = []
    for n, (category, qtype, en, en_options, ko, ko_options, answer) in enumerate(QUESTIONS):
        out.append(
            {
                "id": IDS[n],
                "question": en if language == "en" else ko,
                "options": en_options if language == "en" else ko_options,
                "answer": "ABCD"[answer],
                "answer_index": answer,
                "image": f"images/{n // 2}.png",  # two questions per image, as upstream
                "category": category,
                "question_type": qtype,
            }
        )
    return out


def write_k_viscuit_copies(root: Path) -> Path:
    """DATA_DIR with the English copy at ddehun/k-viscuit/ and the Korean one at k-viscuit-ko/; returns it."""
    _write(root / "ddehun" / "k-viscuit", rows("en"))
    _write(root / KOREAN_DIR, rows("ko"))
    return root
