"""A synthetic local mirror of CC-OCR's multilingual track (wulipc/CC-OCR, config multi_lan_ocr) in the schema
its public code reads.

Schema: the Hub repository holds VLMEvalKit's TSV files, one per subset (VLMEvalKit
vlmeval/dataset/image_ccocr.py DATASET_URL_HUGGINGFACE: multi_lan_ocr/Korean/Korean_150.tsv, ...). A row
has `index`, `image` (base64 of the encoded image, which ImageBaseDataset.dump_image decodes), `question`
(the prompt, build_prompt), `answer` (the text in the image), `image_name` (the key the evaluator matches
predictions by), `category` (the track, `multi_lan_ocr`), `l2-category` and `split` (the subset, `Korean`;
`split` is the evaluator's dataset name): the columns CCOCRDataset.evaluate requires, and those lmms-eval's
lmms_eval/tasks/cc_ocr/utils.py reads. The prompt is the track's, from CC-OCR's data_structure_en.md. Every
text and image here is made up; no row of CC-OCR is copied.
"""

from __future__ import annotations

import base64
import unicodedata
from pathlib import Path

import pandas as pd
from benchmark_copies import png

HUB_ID = "wulipc/CC-OCR"
PROMPT = (
    "Please output only the text content from the image without any additional descriptions or formatting."
)

# (image_name, answer) of the Korean subset, in file order; the last has no reference text.
KOREAN = (
    ("ko_0001.jpg", "서울특별시 중구\n세종대로 110"),
    ("ko_0002.jpg", "영수증\n합계 12,000원"),
    ("ko_0003.jpg", "주식회사 한빛"),
    ("ko_0004.jpg", "OPEN 24시"),
    ("ko_0005.jpg", "안녕하세요"),
    ("ko_0006.jpg", "### 공지 ***"),
    ("ko_0007.jpg", "영업시간 10:00"),
    ("ko_0008.jpg", ""),
)
JAPANESE = (("ja_0001.jpg", "営業中"),)

# What the scripted model answers for each Korean image (the empty reference is never asked).
RESPONSES = {
    "ko_0001.jpg": "서울특별시 중구 세종대로 110",
    "ko_0002.jpg": "이미지의 텍스트는 다음과 같습니다:\n영수증\n합계 12,000원",
    "ko_0003.jpg": "주식회사 한빗",
    "ko_0004.jpg": "open 24시",
    "ko_0005.jpg": unicodedata.normalize("NFD", "안녕하세요"),  # conjoining jamo
    "ko_0006.jpg": "공지",
    "ko_0007.jpg": "",
}


def _tsv(path: Path, subset: str, rows: tuple, start: int) -> None:
    records = [
        {
            "index": start + n,
            "image": base64.b64encode(png(((n * 61) % 256, 90, (n * 17) % 256))).decode("ascii"),
            "question": PROMPT,
            "answer": answer,
            "category": "multi_lan_ocr",
            "image_name": name,
            "l2-category": subset,
            "split": subset,
        }
        for n, (name, answer) in enumerate(rows)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(records).to_csv(path, sep="\t", index=False)


def write_ccocr(root: Path) -> Path:
    """Write the mirror under root/wulipc/CC-OCR/ and return root (the --data-dir)."""
    folder = root / HUB_ID / "multi_lan_ocr"
    _tsv(folder / "Japanese" / "Japanese_150.tsv", "Japanese", JAPANESE, 0)
    _tsv(folder / "Korean" / "Korean_150.tsv", "Korean", KOREAN, 100)
    return root
