"""A synthetic local mirror of KRETA (tabtoyou/KRETA, split test) in the schema its public code reads.

Schema, from GitHub tabtoyou/KRETA (commit c273302): eval/infer/infer_hf_vlm.py and infer_gpt.py read
`question`, the option columns `A`-`D` and `image`, a base64 string of the encoded image (infer_gpt.py puts
it into a `data:image/jpeg;base64,` URL as it is; infer_hf_vlm.py decodes it with base64.b64decode);
eval/evaluate.py reads `id`, `answer` (a letter), `category` (one of its 15 DOMAINS), `image_type` and
`topic_difficulty` ("System1" / "System2"). The files are laid out as the Hub's parquet conversion,
DATA_DIR/tabtoyou/KRETA/data/test-00000-of-00001.parquet. Every question, option and image here is made
up; no row of KRETA is copied.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from benchmark_copies import write_parquet
from PIL import Image

HUB_ID = "tabtoyou/KRETA"
# eval/evaluate.py DOMAINS, the values of `category`.
DOMAINS = (
    "Public and Administration",
    "Economics and Finance",
    "Marketing and Advertising",
    "Education and Academia",
    "Medical and Healthcare",
    "Transportation and Logistics",
    "Travel and Tourism",
    "Retail and Commerce",
    "Hospitality and Food Service",
    "Entertainment and Media",
    "Science and Technology",
    "Arts and Humanities",
    "Personal and Lifestyle",
    "CSAT Science",
    "CSAT History",
)
IMAGE_TYPES = ("Poster", "Menu", "Receipt", "Signboard", "Table")

# Made-up questions on made-up text-rich images; no two options of a question contain one another.
QUESTIONS = (
    ("안내문에 적힌 접수 마감일은 언제입니까?", ("3월 2일", "4월 15일", "5월 30일", "6월 9일")),
    ("메뉴판에서 가장 비싼 음식은 무엇입니까?", ("김치찌개", "불고기 정식", "비빔밥", "냉면")),
    ("영수증의 결제 수단은 무엇입니까?", ("현금", "신용카드", "계좌이체", "상품권")),
    ("간판에 적힌 가게의 영업 시작 시각은?", ("오전 7시", "오전 9시", "오전 11시", "오후 1시")),
    ("표에 따르면 두 번째로 많은 방문객이 온 달은?", ("1월", "2월", "7월", "12월")),
    ("포스터의 행사 장소는 어디입니까?", ("시청 광장", "문화회관", "중앙도서관", "체육공원")),
)


def _image(i: int) -> bytes:
    """A small made-up image, PNG for even rows and JPEG for odd ones (KRETA's images are of both kinds)."""
    picture = Image.new("RGB", (48, 32), ((i * 41) % 256, (i * 67) % 256, (i * 29) % 256))
    for x in range(0, 48, 6):
        picture.putpixel((x, i % 32), (255, 255, 255))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG" if i % 2 == 0 else "JPEG")
    return buffer.getvalue()


def kreta_rows(n: int = 16) -> list[dict]:
    rows = []
    for i in range(n):
        question, options = QUESTIONS[i % len(QUESTIONS)]
        rows.append(
            {
                "id": f"kreta_{i:04d}",
                "question": question,
                "A": options[0],
                "B": options[1],
                "C": options[2],
                "D": options[3],
                "answer": "ABCD"[i % 4],
                "category": DOMAINS[i % len(DOMAINS)],
                "image_type": IMAGE_TYPES[i % len(IMAGE_TYPES)],
                "topic_difficulty": "System2" if i % 3 == 0 else "System1",
                "image": base64.b64encode(_image(i)).decode("ascii"),
            }
        )
    return rows


def write_kreta_mirror(root: Path, n: int = 16) -> Path:
    """DATA_DIR with tabtoyou/KRETA's test split as `kreta_rows(n)`; returns `root` (the --data-dir)."""
    write_parquet(root, HUB_ID, "test", kreta_rows(n))
    return root
