"""A synthetic local mirror of HRM8K (HAERAE-HUB/HRM8K) in the schema its public sources document.

Schema: the dataset card's configs (GSM8K, MATH, OMNI_MATH, MMMLU, KSM), each one CSV file with the split
test (HRM8K/gsm8k_test.csv, ...); the columns the authors' evaluation code reads (GitHub gauss5930/HRM8K,
commit d5a6fd5, src/run_eval.py and src/score.py): `question` (Korean), `answer`, `original` (the English
question), `original_answer`. MMMLU questions carry their options as "\\n1. ...\\n4. " lines and their
answer is the option number; KSM mixes numeric, TeX and multiple-choice answers. A Hub mirror keeps each
config in a folder of its own: DIR/HAERAE-HUB/HRM8K/<config>/test.csv. Every problem here is made up; no
row of HRM8K is copied.
"""

from __future__ import annotations

import csv
from pathlib import Path

HUB_ID = "HAERAE-HUB/HRM8K"
COLUMNS = ("question", "answer", "original", "original_answer")

# config -> (question, answer) rows; the English `original` is a placeholder of the same problem.
PROBLEMS: dict[str, list[tuple[str, object]]] = {
    "GSM8K": [
        ("민지는 사과 3개를 샀고 동생이 4개를 더 주었습니다. 민지가 가진 사과는 모두 몇 개입니까?", 7),
        ("한 상자에 연필이 12자루 들어 있습니다. 5상자에는 연필이 몇 자루 있습니까?", 60),
        ("버스 요금은 1,250원입니다. 8번 타면 요금은 모두 얼마입니까?", 10000),
        ("기온이 아침에 2도였고 밤에 7도 내려갔습니다. 밤 기온은 몇 도입니까?", -5),
        ("도서관에 책이 1,234권 있었는데 오늘 새로 16권이 들어왔습니다. 책은 모두 몇 권입니까?", 1250),
        ("준호는 하루에 물을 2리터씩 마십니다. 일주일 동안 몇 리터를 마십니까?", 14),
    ],
    "MATH": [
        ("$x$에 대한 방정식 $2x + 3 = 11$의 해를 구하시오.", 4),
        ("$\\frac{1}{4} + \\frac{1}{4}$의 값을 소수로 나타내시오.", 0.5),
        ("정사각형의 넓이가 81일 때 한 변의 길이를 구하시오.", 9),
        ("등차수열 $3, 7, 11, \\dots$의 10번째 항을 구하시오.", 39),
    ],
    "OMNI_MATH": [
        ("1부터 100까지의 자연수 중 3의 배수의 개수를 구하시오.", 33),
        ("서로 다른 5개의 공을 한 줄로 세우는 방법의 수를 구하시오.", 120),
        ("$2^{10}$의 값을 구하시오.", 1024),
    ],
    "MMMLU": [
        ("다음 중 소수인 것은?\n1. 21\n2. 27\n3. 29\n4. 33", 3),
        ("군 $\\mathbb{Z}_6$의 위수는?\n1. 3\n2. 6\n3. 12\n4. 36", 2),
        ("함수 $f(x) = x^2$의 $x = 3$에서의 미분계수는?\n1. 3\n2. 6\n3. 9\n4. 18", 2),
        ("다음 중 짝수는?\n1. 8\n2. 9\n3. 11\n4. 13", 1),
    ],
    "KSM": [
        ("어떤 수에 5를 곱한 뒤 3을 빼면 42가 됩니다. 어떤 수를 구하시오.", 9),
        ("$\\sin 30^\\circ$의 값을 분수로 나타내시오.", "\\frac{1}{2}"),
        ("정육각형의 한 내각의 크기는 몇 도인가?\n1. 100\n2. 110\n3. 120\n4. 135", "3"),
        ("한 변의 길이가 2인 정삼각형의 넓이를 구하시오.", "\\sqrt{3}"),
        ("두 자리 자연수 중 각 자리의 숫자의 합이 9인 수의 개수를 구하시오.", 9),
    ],
}


def rows(config: str) -> list[dict[str, object]]:
    return [
        {"question": q, "answer": a, "original": f"(English) problem {n} of {config}", "original_answer": a}
        for n, (q, a) in enumerate(PROBLEMS[config])
    ]


def all_rows() -> list[dict[str, object]]:
    """Every row in the order the task reads them (run_eval.py's subset order), each with its `subset`."""
    return [{**row, "subset": config} for config in PROBLEMS for row in rows(config)]


def write_mirror(root: Path) -> Path:
    """DIR/HAERAE-HUB/HRM8K/<config>/test.csv for each config; returns DIR (the data dir)."""
    for config in PROBLEMS:
        folder = root / HUB_ID / config
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "test.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows(config))
    return root
