"""A synthetic local mirror of seongsubae/KorMedMCQA-V (config `doctor`, split `test_full`), in the schema its
evaluation code reads: GitHub baeseongsu/kormedmcqa_v @ 9c6c6ce, kormedeval/datasets/kormedmcqa_v.py
(`load_data` reads `subject`, `year`, `period`, `q_number`, `question`, `A`-`E`, `answer` (1-5) and `images`;
`_extract_image_from_sample` documents `images` as a list of {"pic_num": "1", "modality": "xray",
"image_base64": "..."}, raw base64 or a data: URL). The Hub card could not be read here (no Hub access).

Every row is made up here (Korean text written for this file, solid-colour PNGs); no row of the real dataset,
which is CC BY-NC-SA 4.0, is copied.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from benchmark_copies import png

HUB_ID = "seongsubae/KorMedMCQA-V"
CONFIG = "doctor"
SPLIT = "test_full"

_CASES = [
    ("45세 남자가 사흘 전부터 시작된 기침과 발열로 왔다. 흉부 X선 사진이다. 진단은?", "xray"),
    ("62세 여자가 갑자기 생긴 가슴 통증으로 응급실에 왔다. 심전도이다. 다음 조치는?", "ecg"),
    ("30세 남자가 오른쪽 아랫배 통증으로 왔다. 복부 CT 사진이다. 가장 가능성이 높은 진단은?", "ct"),
    ("7세 여아가 두 시간 전 생긴 피부 발진으로 왔다. 피부 사진이다. 원인은?", "photo"),
    ("55세 남자의 상부위장관 내시경 사진이다. 다음 검사는?", "endoscopy"),
    ("28세 임신부의 초음파 사진이다. 가장 적절한 처치는?", "ultrasound"),
]
_OPTIONS = [
    ["폐렴", "기흉", "폐색전증", "결핵", "폐암"],
    ["아스피린 투여", "관상동맥조영술", "흉부 CT", "경과 관찰", "제세동"],
    ["충수염", "게실염", "요로결석", "난소 염전", "장중첩증"],
    ["보체", "히스타민", "브라디키닌", "인터페론감마", "인터루킨-10"],
    ["조직검사", "복부 초음파", "혈액검사", "대장내시경", "추적 관찰"],
    ["자궁경부 봉축술", "제왕절개", "유도분만", "경과 관찰", "항생제 투여"],
]


def _b64(i: int, k: int, data_url: bool) -> str:
    colour = ((i * 41 + k * 17) % 256, (i * 13 + k * 71) % 256, (i * 97 + k * 29) % 256)
    text = base64.b64encode(png(colour, (24 + k * 4, 18 + i % 3))).decode("ascii")
    if data_url:
        return f"data:image/png;base64,{text}"
    # MIME-style line breaks in some raw ones: the published code removes whitespace before sending them
    return "\n".join(text[n : n + 76] for n in range(0, len(text), 76)) if k else text


def n_images(i: int) -> int:
    """Row i's number of images: every third row has several (the paper: about 30% of its questions)."""
    return 1 if i % 3 else 2 + (i // 3) % 2


def kormedmcqa_v_rows(n: int = 12) -> list[dict]:
    rows = []
    for i in range(n):
        question, modality = _CASES[i % len(_CASES)]
        options = list(_OPTIONS[i % len(_OPTIONS)])
        if i == 4:
            options[4] = ""  # an empty option: the published prompt leaves it out, and so does kobench
        rows.append(
            {
                "subject": CONFIG,
                "year": 2012 + i % 12,
                "period": 1 + i % 2,
                "q_number": 10 + i,
                "question": question,
                **dict(zip("ABCDE", options, strict=True)),
                "answer": 1 + (i * 2) % 4,  # 1-based, as the Hub stores it; never the empty option
                "images": [
                    {
                        "pic_num": str(i + 1) if k == 0 else f"{i + 1}-{k}",
                        "modality": modality,
                        "image_base64": _b64(i, k, data_url=(i + k) % 4 == 0),
                    }
                    for k in range(n_images(i))
                ],
            }
        )
    return rows


def write_kormedmcqa_v(root: Path, n: int = 12) -> Path:
    """Write the mirror as the Hub lays it out (`<config>/<split>-00000-of-00001.parquet`); returns `root`."""
    folder = root / HUB_ID / CONFIG
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(kormedmcqa_v_rows(n)), folder / f"{SPLIT}-00000-of-00001.parquet")
    return root
