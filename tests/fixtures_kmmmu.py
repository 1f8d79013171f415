"""A synthetic local mirror of KMMMU (HAERAE-HUB/KMMMU, kmmmu.csv, split train) in the schema its public
sources document.

Schema: GitHub HAE-RAE/KMMMU eval_tutorial.ipynb (commit 00a946d) loads `kmmmu.csv` and reads `question`
(the options, where there are any, are part of it), `question_type`, `answer` and `image_link`, a Python
list of image URLs written as text (`eval(s)`); public dumps of the data with model answers added (GitHub
ajy121650/KMMMU_annotator, llm-as-judge-dataset/*.csv) show the other columns: `subject_macro` (the
discipline), `visual_type`, `is_korean_specific` (True/False), and question types such as 객관식(단일정답),
객관식(복수정답), 주관식(수치/계산형), 주관식(텍스트). The images live at the URLs (raw.githubusercontent.com
and www.kinz.kr); the mirror keeps each one at <host>/<path> below the dataset folder, as
`wget --force-directories` saves them. Every question, answer and image here is made up; no row of KMMMU
is copied.
"""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

HUB_ID = "HAERAE-HUB/KMMMU"
COLUMNS = (
    "question",
    "answer",
    "image_link",
    "subject_macro",
    "visual_type",
    "question_type",
    "is_korean_specific",
)
GITHUB = (
    "https://raw.githubusercontent.com/2nhyn/kmmmu_image/main/admin_exam/2._2031_5급_자료해석_images_used"
)
KINZ = "https://www.kinz.kr/data/exam/Zq0Synth"

# (question, answer, subject_macro, visual_type, question_type, is_korean_specific, images)
ITEMS = (
    (
        "<표>에서 2030년 인구가 가장 많은 시는?\n\n선택지:\n(1) 가시\n(2) 나시\n(3) 다시\n(4) 라시",
        "3",
        "Social Sciences",
        "digital_plot",
        "객관식(단일정답)",
        "True",
        1,
    ),
    (
        "그림의 회로에서 출력이 1이 되는 입력은?\n\n선택지:\n(1) 00\n(2) 01\n(3) 10\n(4) 11",
        "3",
        "Engineering",
        "hand_drawn_sketch",
        "객관식(단일정답)",
        "False",
        1,
    ),
    (
        "<표>를 이용하여 환산 점수를 소수점 아래 첫째 자리까지 구하면?",
        "50.0",
        "Math & Stats",
        "scanned_document",
        "주관식(수치/계산형)",
        "False",
        3,
    ),
    (
        "그래프에서 색칠한 부분의 넓이는 전체의 몇 분의 몇인가?",
        "\\frac{3}{4}",
        "Math & Stats",
        "digital_plot",
        "주관식(수치/계산형)",
        "False",
        1,
    ),
    (
        "다음 <보기>의 설명 중 옳은 것을 모두 고르면?\n<보기>\nㄱ. 가\nㄴ. 나\nㄷ. 다\nㄹ. 라",
        "ㄱ,ㄹ",
        "Social Sciences",
        "scanned_document",
        "객관식(복수정답)",
        "True",
        1,
    ),
    (
        "<그림>의 기관 A와 B를 바르게 나열하여라.",
        "A: 농협, B: 수협",
        "Math & Stats",
        "scanned_document",
        "주관식(텍스트)",
        "True",
        2,
    ),
    (
        "다음 도면이 나타내는 부품은?\n\n선택지:\n(1) 볼트\n(2) 너트\n(3) 와셔\n(4) 핀",
        "2",
        "Engineering",
        "hand_drawn_sketch",
        "객관식(단일정답)",
        "False",
        1,
    ),
    (
        "순서도의 출력값으로 알맞은 것은?\n\n선택지:\n(1) 1\n(2) 2\n(3) 3\n(4) 4",
        "4",
        "CS & IT",
        "digital_plot",
        "객관식(단일정답)",
        "False",
        1,
    ),
    (
        "<보기>에서 옳지 않은 것을 모두 고르면?\n<보기>\nㄱ. 가\nㄴ. 나\nㄷ. 다",
        "ㄴ,ㄷ",
        "Social Sciences",
        "digital_plot",
        "객관식(복수정답)",
        "True",
        1,
    ),
    (
        "지도에서 두 지점 사이의 거리(km)는?",
        "12",
        "Natural Sciences",
        "photograph",
        "주관식(수치/계산형)",
        "False",
        1,
    ),
    (
        "그래프에서 값이 같은 두 해를 고르면?",
        "1, 3",
        "Math & Stats",
        "digital_plot",
        "주관식(수치/계산형)",
        "False",
        2,
    ),
    ("표의 빈칸에 들어갈 수는?", "7", "Math & Stats", "scanned_document", "주관식(수치/계산형)", "True", 1),
)


def _urls(n: int, count: int) -> list[str]:
    if n % 2:  # the question-bank images are GIFs on www.kinz.kr, the exam scans JPEGs on GitHub
        return [f"{KINZ}/q{n}m{k}-Synth.gif" for k in range(count)]
    return [f"{GITHUB}/p{n}_i{k}.jpg" for k in range(count)]


def _save(url: str, folder: Path, shade: int) -> None:
    host, _, path = url.split("://", 1)[1].partition("/")
    target = folder / host / path
    target.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.new("RGB", (40, 30), (shade % 256, 120, 200 - shade % 200))
    picture.save(target, format="GIF" if url.endswith(".gif") else "JPEG")


def kmmmu_rows() -> list[dict[str, str]]:
    """The rows as kmmmu.csv holds them (every cell text; `image_link` the list's repr)."""
    rows = []
    for n, (question, answer, subject, visual, qtype, korean, count) in enumerate(ITEMS):
        rows.append(
            {
                "question": f"(문항 {n}) {question}",
                "answer": answer,
                "image_link": repr(_urls(n, count)),
                "subject_macro": subject,
                "visual_type": visual,
                "question_type": qtype,
                "is_korean_specific": korean,
            }
        )
    return rows


def write_kmmmu(root: Path) -> Path:
    """DATA_DIR/HAERAE-HUB/KMMMU/kmmmu.csv and every image at <host>/<path> below it; returns DATA_DIR."""
    folder = root.joinpath(*HUB_ID.split("/"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = kmmmu_rows()
    with (folder / "kmmmu.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    for n, (*_, count) in enumerate(ITEMS):
        for k, url in enumerate(_urls(n, count)):
            _save(url, folder, 20 * n + k)
    return root
