"""KoBALT-700 as its authors run it: the chat messages and the answer regex of GitHub snunlp/KoBALT-700
data/inference_open-models.py, checked against an independent re-implementation written from that file
(nothing from kobench), on the synthetic local mirror."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.extract.protocol import kobalt_regex
from kobench.families import load_tasks
from kobench.run.prepare import prepare_task

MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"
RAW = MIRRORS / "snunlp" / "KoBALT-700" / "kobalt_v1" / "raw.jsonl"


def reference_messages(text: str) -> list[dict[str, str]]:
    """kobalt_inference's messages, as written there (an f-string of implicitly joined literals)."""
    return [
        {"role": "system", "content": "당신은 문제를 해결하는 전문가입니다."},
        {
            "role": "user",
            "content": (
                "다음 문제에 대해서 충분히 생각하고 추론하여, "
                "10개의 보기(A, B, C, D, E, F, G, H, I, J) 중 정답을 고르세요.\n\n"
                f"{text}\n\n"
                '답변은 반드시 다음 형식을 엄격히 지켜야 합니다: "정답은 [정답 보기]입니다."로 끝나야하고, '
                "[정답 보기]는 A, B, C, D, E, F, G, H, I, J 중 하나여야 합니다."
                "정답: 문제를 풀기 위해, 한 번 천천히 생각해봅시다."
            ),
        },
    ]


def reference_extract_answer(text: str) -> str | None:
    """extract_answer: all "정답은 ~입니다" contents, their capital letters without repeats, joined."""
    valid: list[str] = []
    for content in re.findall(r"정답은\s*(.*?)\s*입니다", text):
        for letter in re.findall(r"[A-Z]", content):
            if letter not in valid:
                valid.append(letter)
    return ", ".join(valid) if valid else None


def _rows() -> list[dict]:
    return [json.loads(line) for line in RAW.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_messages_are_the_published_ones(tmp_path: Path) -> None:
    prepared = prepare_task(
        load_tasks()["kobalt"], DataOptions(data_dir=MIRRORS), ScoringOptions(), JudgeOptions(), tmp_path
    )
    rows = _rows()
    assert len(prepared.items) == len(rows) > 10
    for item, row in zip(prepared.items, rows, strict=True):
        sent = [{"role": m.role, "content": m.text} for m in item.request.messages]
        assert sent == reference_messages(row["Question"])
        assert item.request.generation.max_new_tokens == 2048 and item.request.generation.temperature == 0
        assert item.target == row["Answer"].strip()
        assert [letter for letter, _ in item.options] == list("ABCDEFGHIJ")


RESPONSES = [
    "문제를 풀기 위해 보기를 하나씩 살펴보면 ... 따라서 정답은 H입니다.",
    "정답은 **J**입니다.",
    "정답은 I입니다.",
    "정답은 A입니다. 아니, 다시 보니 정답은 C입니다.",  # two statements: "A, C", wrong as published
    "정답은 (B)입니다",
    "정답은 B입니다. 정답은 B입니다.",  # the same letter twice is one letter
    "정답은 가상의 표현 1-3입니다.",  # no letter: nothing
    "답은 D",  # no "정답은 ... 입니다": nothing
    "정답은\nE입니다.",  # "." does not cross the newline, "\s*" does
    "정답은 E와 F 중 하나입니다.",
    "",
]


@pytest.mark.parametrize("response", RESPONSES)
def test_parser_reads_what_extract_answer_reads(response: str) -> None:
    options = [(letter, "") for letter in "ABCDEFGHIJ"]
    assert kobalt_regex(response, options) == reference_extract_answer(response)


def test_run_scores_as_published(monkeypatch, tmp_path: Path) -> None:
    rows = _rows()
    answers = {}
    for i, row in enumerate(rows):
        gold = row["Answer"]
        other = "ABCDEFGHIJ"[("ABCDEFGHIJ".index(gold) + 1) % 10]
        answers[row["ID"]] = [
            f"차근차근 생각해 보면 ... 정답은 {gold}입니다.",
            f"정답은 {other}입니다.",
            f"정답은 {gold}입니다. 아니, 정답은 {other}입니다.",
            f"{gold}",  # no statement: the published regex reads nothing; kobench's reader reads the letter
        ][i % 4]
    register(monkeypatch, ScriptedModel(lambda r: answers[r.id]))
    result = evaluate("scripted:x", "kobalt", data_dir=MIRRORS, use_cache=False, output=tmp_path / "out")
    task = result.tasks["kobalt"]
    assert task.modality == "text" and task.n == len(rows) and task.n_failed == 0

    def published_accuracy(ids: list[str]) -> float:
        gold = {row["ID"]: row["Answer"].strip() for row in rows}
        return 100 * sum(gold[i] == reference_extract_answer(answers[i]) for i in ids) / len(ids)

    protocol = task.pipelines["protocol"]
    assert protocol.metrics["accuracy"].value == pytest.approx(published_accuracy([r["ID"] for r in rows]))
    bare = [i for i in range(len(rows)) if i % 4 == 3]
    assert protocol.n_unparsed == len(bare)
    for cls in {row["Class"] for row in rows}:
        ids = [row["ID"] for row in rows if row["Class"] == cls]
        assert protocol.breakdown["Class"][cls].value == pytest.approx(published_accuracy(ids))
    kobench = task.pipelines["kobench"]
    # kobench's reader credits the bare letters too; two stated answers ("정답은 A ... 아니, 정답은 C") name
    # no single option: unparsed there, where the published regex reads "A, C" (wrong, not unparsed).
    right = [i for i in range(len(rows)) if i % 4 in (0, 3)]
    assert kobench.metrics["accuracy"].value == pytest.approx(100 * len(right) / len(rows))
    assert kobench.n_unparsed == len([i for i in range(len(rows)) if i % 4 == 2])
