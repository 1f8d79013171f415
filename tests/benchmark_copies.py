"""Local copies of the Korean benchmarks, built with exactly the columns in BENCHMARKS.md.

The real datasets are gated and cannot be downloaded here; these copies have the same schema and
the Hub's parquet layout (image as {bytes, path}), with made-up Korean content.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image


def png(colour: tuple[int, int, int], size: tuple[int, int] = (32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def image(i: int) -> dict:
    return {"bytes": png(((i * 37) % 256, (i * 91) % 256, (i * 53) % 256)), "path": f"{i}.png"}


def write_parquet(root: Path, hub_id: str, split: str, rows: list[dict]) -> Path:
    folder = root / hub_id / "data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{split}-00000-of-00001.parquet"
    # NaN cells (K-MMBench's missing hints and options) are nulls in the Hub's parquet files.
    clean = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows]
    pq.write_table(pa.Table.from_pylist(clean), path)
    return path


QUESTIONS = [
    "사진 속 사람은 무엇을 하고 있습니까?",
    "표에서 가장 큰 값은 무엇입니까?",
    "이 문서의 제목은 무엇입니까?",
    "그림에 보이는 동물은 몇 마리입니까?",
    "차트에서 2023년 매출은 얼마입니까?",
]
OPTIONS = [
    ["요리", "운동", "독서", "수면"],
    ["120", "95", "300", "48"],
    ["견적서", "영수증", "계약서", "공문"],
    ["한 마리", "두 마리", "세 마리", "네 마리"],
    ["1억 원", "2억 원", "3억 원", "4억 원"],
]


def k_seed_rows(n: int = 10) -> list[dict]:
    return [
        {
            "question": QUESTIONS[i % 5],
            "choice_a": OPTIONS[i % 5][0],
            "choice_b": OPTIONS[i % 5][1],
            "choice_c": OPTIONS[i % 5][2],
            "choice_d": OPTIONS[i % 5][3],
            "answer": "ABCD"[i % 4],
            "data_type": "image",
            "question_id": f"{1000 + i}",
            "question_type_id": i % 9 + 1,
            "image": image(i),
        }
        for i in range(n)
    ]


def k_dtcbench_rows(n: int = 9) -> list[dict]:
    return [
        {
            "index": i,
            "question": QUESTIONS[i % 5],
            "choice_a": OPTIONS[i % 5][0],
            "choice_b": OPTIONS[i % 5][1],
            "choice_c": OPTIONS[i % 5][2],
            "choice_d": OPTIONS[i % 5][3],
            "answer": "ABCD"[(i + 1) % 4],
            "category": ("document", "table", "chart")[i % 3],
            "image": image(i),
        }
        for i in range(n)
    ]


def k_mmstar_rows(n: int = 12) -> list[dict]:
    l2 = ["object counting", "recognition", "diagram reasoning", "geometry"]
    cat = {
        "object counting": "fine-grained perception",
        "recognition": "fine-grained perception",
        "diagram reasoning": "logical reasoning",
        "geometry": "math",
    }
    rows = []
    for i in range(n):
        opts = OPTIONS[i % 5]
        question = f"{QUESTIONS[i % 5]}\n옵션: A: {opts[0]}, B: {opts[1]}, C: {opts[2]}, D: {opts[3]}  "
        rows.append(
            {
                "index": i,
                "question": question,
                "answer": "ABCD"[i % 4],
                "category": cat[l2[i % 4]],
                "l2_category": l2[i % 4],
                "image": image(i),
            }
        )
    return rows


def k_mmbench_rows(questions: int = 3) -> list[dict]:
    """Each question appears with its options rotated (index + k * 1_000_000), as in MMBench dev."""
    rows = []
    hints = ["다음 글을 읽고 답하세요.", math.nan, "nan"]
    for q in range(questions):
        opts = OPTIONS[q][: 4 if q != 1 else 3]  # question 1 has only three options
        answer_pos = q % len(opts)
        for k in range(len(opts)):
            rotated = opts[k:] + opts[:k]
            row = {
                "index": q + k * 1_000_000,
                "question": QUESTIONS[q],
                "hint": hints[q % 3],
                "answer": "ABCD"[(answer_pos - k) % len(opts)],
                "category": ("인식", "추론", "인식")[q],
                "l2-category": f"l2-{q}",
                "source": "kobench-test",
                "split": "dev",
                "image": image(q),
            }
            for j, letter in enumerate("ABCD"):
                row[letter] = rotated[j] if j < len(rotated) else math.nan
            rows.append(row)
    return rows


def k_llava_w_rows(n: int = 12) -> list[dict]:
    """question_id, question, gpt_answer (the reference answer), caption (a list: the judge's context),
    category (conv / detail / complex), image; images shared by several questions as on the Hub."""
    categories = ["conv", "detail", "complex"]
    return [
        {
            "question_id": i,
            "question": f"{QUESTIONS[i % 5]} ({i})",
            "gpt_answer": f"참조 답변 {i}: {OPTIONS[i % 5][0]}입니다.",
            "caption": [f"이미지 {i // 3}의 설명.", "두 번째 설명 문장."],
            "category": categories[i % 3],
            "image": image(i // 3),
        }
        for i in range(n)
    ]


def write_all(root: Path) -> Path:
    write_parquet(root, "NCSOFT/K-SEED", "test", k_seed_rows())
    write_parquet(root, "NCSOFT/K-DTCBench", "test", k_dtcbench_rows())
    write_parquet(root, "NCSOFT/K-MMStar", "val", k_mmstar_rows())
    write_parquet(root, "NCSOFT/K-MMBench", "dev", k_mmbench_rows())
    write_parquet(root, "NCSOFT/K-LLaVA-W", "test", k_llava_w_rows())
    return root
