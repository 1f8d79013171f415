"""A synthetic local mirror of MTVQA (ByteDance/MTVQA) in the schema its public code reads.

Schema, from lmms-eval lmms_eval/tasks/mtvqa/utils.py (commit d8fcb9c; `mtvqa_process_docs`,
`_parse_qa_pairs`, `mtvqa_doc_to_visual`): one row per image with `id` (text), `image` (a datasets Image,
stored in parquet as {bytes, path}), `lang` (the language tag, which lmms-eval reports as the category)
and `qa_pairs`, the Python literal (`str` of a list) of the image's {"question": ..., "answer": ...}
records. Splits `train` and `test`, laid out as the Hub's parquet shards
(DATA_DIR/ByteDance/MTVQA/data/<split>-00000-of-00001.parquet). Korean images are tagged KR and have ids
KR_<n>, as in the test split's derived copy GitHub ZHCSJ666/MTVQA-Test. Every question, answer and image
here is made up; no row of MTVQA is copied.
"""

from __future__ import annotations

from pathlib import Path

from benchmark_copies import image, write_parquet

HUB_ID = "ByteDance/MTVQA"

# (id, lang, [(question, answer), ...]) of the test split, in file order.
TEST_IMAGES = (
    (
        "KR_0",
        "KR",
        [
            ("가게 이름은 무엇입니까?", "한빛 분식"),
            ("전화번호는?", "02-123-4567"),
            ("영업 시작 시간은?", "9시"),
        ],
    ),
    ("JA_0", "JA", [("店の名前は何ですか？", "さくら食堂")]),
    (
        "KR_1",
        "KR",
        [("  표지판에 적힌 층수는?\n", "3층"), ("제품 가격은 얼마입니까?", "1,500원"), ("   ", "없음")],
    ),
    ("DE_0", "DE", [("Wie heißt das Geschäft?", "Bäckerei Sonne")]),
    (
        "KR_2",
        "KR",
        [("책 제목은?", "푸른 바다의 노래"), ("출판 연도는?", "2023"), ("편의점 이름은?", "CU")],
    ),
)
TRAIN_IMAGES = (("KR_9", "KR", [("간판의 글자는?", "약국")]),)


def _rows(images: tuple, offset: int) -> list[dict]:
    return [
        {
            "id": image_id,
            "image": image(offset + n),
            "qa_pairs": str([{"question": q, "answer": a} for q, a in pairs]),
            "lang": lang,
        }
        for n, (image_id, lang, pairs) in enumerate(images)
    ]


def write_mtvqa(root: Path) -> Path:
    """Write the mirror under root/ByteDance/MTVQA/ and return root (the --data-dir)."""
    write_parquet(root, HUB_ID, "test", _rows(TEST_IMAGES, 0))
    write_parquet(root, HUB_ID, "train", _rows(TRAIN_IMAGES, 50))
    return root
