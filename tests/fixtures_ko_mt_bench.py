"""A synthetic local copy of KoMT-Bench in the two schemas its public sources document.

- LG AI Research's repository (GitHub LG-AI-EXAONE/KoMT-Bench, commit 56d4f3a,
  FastChat/fastchat/llm_judge/data/mt_bench/): `question_ko.jsonl`, one question a line with `question_id`,
  `category`, `turns` (two user turns) and, for some, `reference`; `reference_answer_ko/gpt-4.jsonl`, one
  answer a line with `question_id`, `answer_id`, `model_id` ("gpt-4"), `choices` ([{"index": 0, "turns":
  [...]}]) and `tstamp`, as FastChat writes model answers. This is what the task's judge needs.
- The Hub copy (LGAI-EXAONE/KoMT-Bench, split train; the card's features question_id int64, category
  string, turns and reference sequences of strings): the questions without GPT-4's reference answers.

Question ids follow the published numbering (81-160, ten per category in this order: writing, roleplay,
reasoning, math, coding, extraction, stem, humanities; 138 is one of the two extraction questions the
language penalty exempts). Every question and answer here is made up; nothing of KoMT-Bench is copied.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmark_copies import write_parquet

HUB_ID = "LGAI-EXAONE/KoMT-Bench"

# (question_id, category, turn 1, turn 2, short reference or None)
QUESTIONS = (
    (
        81,
        "writing",
        "제주도 여행 후기를 블로그 글로 써 주세요.",
        "모든 문장을 '제'로 시작하게 고쳐 쓰세요.",
        None,
    ),
    (82, "writing", "동료에게 회의 일정을 알리는 이메일을 써 주세요.", "더 짧게 줄여 주세요.", None),
    (
        91,
        "roleplay",
        "조선 시대 선비가 되어 봄날을 묘사해 보세요.",
        "이번에는 현대 대학생의 말투로 해 주세요.",
        None,
    ),
    (
        101,
        "reasoning",
        "달리기에서 2등을 앞지르면 몇 등입니까?",
        "꼴찌를 앞지르면 몇 등입니까?",
        ["2등", "불가능"],
    ),
    (
        111,
        "math",
        "어떤 수를 6으로 나눈 나머지가 4일 때 그 수의 세 배를 6으로 나눈 나머지는?",
        "그 수의 네 배는?",
        ["0", "4"],
    ),
    (
        121,
        "coding",
        "리스트에서 중복을 없애는 파이썬 함수를 작성하세요.",
        "순서를 유지하도록 고치세요.",
        None,
    ),
    (
        131,
        "extraction",
        "다음 글에서 회사 이름을 모두 찾으세요: 가나전자와 다라식품이 협약했다.",
        "JSON으로 답하세요.",
        None,
    ),
    (
        138,
        "extraction",
        "다음 문장에서 날짜를 찾아 JSON으로 답하세요: 3월 1일에 만났다.",
        "키 이름을 영어로 하세요.",
        None,
    ),
    (141, "stem", "광합성의 과정을 설명하세요.", "초등학생에게 설명하듯 다시 말해 주세요.", None),
    (151, "humanities", "경제 성장률과 실업률의 관계를 설명하세요.", "예를 하나 들어 주세요.", None),
)


def question_rows() -> list[dict]:
    rows = []
    for qid, category, first, second, reference in QUESTIONS:
        row = {"question_id": qid, "category": category, "turns": [first, second]}
        if reference is not None:
            row["reference"] = reference
        rows.append(row)
    return rows


def reference_answer(qid: int) -> list[str]:
    """GPT-4's (made-up) reference answer to both turns of a question."""
    return [f"참조 답변 {qid}-1: 단계별 풀이와 결론.", f"참조 답변 {qid}-2: 두 번째 질문의 풀이."]


def write_repository_copy(root: Path) -> Path:
    """The repository's data/mt_bench layout in `root`; returns `root` (the folder --data-path names)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "question_ko.jsonl").open("w", encoding="utf-8") as f:
        for row in question_rows():
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (root / "reference_answer_ko").mkdir(exist_ok=True)
    with (root / "reference_answer_ko" / "gpt-4.jsonl").open("w", encoding="utf-8") as f:
        for n, (qid, *_rest) in enumerate(QUESTIONS):
            answer = {
                "question_id": qid,
                "answer_id": f"synthetic{n:04d}",
                "model_id": "gpt-4",
                "choices": [{"index": 0, "turns": reference_answer(qid)}],
                "tstamp": 1700000000.0 + n,
            }
            f.write(json.dumps(answer, ensure_ascii=False) + "\n")
    return root


def write_hub_copy(root: Path) -> Path:
    """DIR/LGAI-EXAONE/KoMT-Bench/data/train-00000-of-00001.parquet; returns DIR (the data dir)."""
    rows = [{**row, "reference": row.get("reference")} for row in question_rows()]
    write_parquet(root, HUB_ID, "train", rows)
    return root
