"""Prompts must be byte-exact to the published task code.

The reference functions below are written from lmms-eval's published task code (NCSOFT's
contribution, PR #575; files named per function), independently of kobench's YAML templates.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from benchmark_copies import k_dtcbench_rows, k_mmbench_rows, k_mmstar_rows, k_seed_rows, write_all

from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.families import resolve_tasks
from kobench.run.prepare import prepare_task

INSTRUCTIONS = {
    "2025-07": "주어진 선택지 중 해당 옵션의 문자로 바로 답하세요.",
    "2025-06": "한 단어 또는 구를 사용하여 질문에 답하세요.",
    "2025-03": "주어진 선택지 중 해당 옵션의 문자로 직접 답하세요.",
}


def ref_k_seed(doc: dict, instruction: str) -> str:  # seedbench/ko_utils.py seed_doc_to_text
    question = doc["question"]
    question += "\n" + f"A. {doc['choice_a']}\n"
    question += f"B. {doc['choice_b']}\n"
    question += f"C. {doc['choice_c']}\n"
    question += f"D. {doc['choice_d']}"
    return f"{question}\n{instruction}"


def ref_k_dtcbench(doc: dict, instruction: str) -> str:  # dtcbench/utils.py dtcbench_doc_to_text
    question = doc["question"]
    question += (
        f"\nOptions: A: {doc['choice_a']}, B: {doc['choice_b']}, C: {doc['choice_c']}, D: {doc['choice_d']}"
    )
    return f"{question}\n{instruction}"


def ref_k_mmbench(doc: dict, instruction: str) -> str:  # mmbench/ko_utils.py + mmbench_evals.py
    options = "There are several options:\n"
    for key in "ABCDE":
        value = doc.get(key)
        if value and not (isinstance(value, float) and math.isnan(value)) and value != "nan":
            options += f"{key}. {value}\n"
    options = options.rstrip("\n")
    hint = doc["hint"]
    has_hint = hint is not None and not (isinstance(hint, float) and math.isnan(hint)) and hint != "nan"
    query = f"{hint} {doc['question']} {options}" if has_hint else f"{doc['question']} {options}"
    return f"{query}\n\n{instruction}"  # post_prompt "\n..." joined with "\n"


def ref_k_mmstar(doc: dict, version: str) -> str:  # mmstar/utils.py mmstar_doc_to_text
    question = doc["question"].strip()
    if version == "lmms-eval-2025":
        question = question.replace(" Please answer yes or no.", "")
        question = f"{question}\nAnswer with the option's letter from the given choices directly"
    return question


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_all(tmp_path_factory.mktemp("mirror"))


def prompts(task: str, data_dir: Path, version: str, tmp_path: Path) -> dict[str, str]:
    spec = resolve_tasks([task])[0]
    scoring = ScoringOptions(prompt_versions=(version,))
    prepared = prepare_task(spec, DataOptions(data_dir=data_dir), scoring, JudgeOptions(), tmp_path)
    assert prepared.version == version
    return {item.id: item.prompt for item in prepared.items}


@pytest.mark.parametrize("version", list(INSTRUCTIONS))
def test_k_seed_prompt_is_byte_exact(data_dir: Path, tmp_path: Path, version: str) -> None:
    got = prompts("k-seed", data_dir, version, tmp_path)
    for row in k_seed_rows():
        assert got[row["question_id"]] == ref_k_seed(row, INSTRUCTIONS[version])


@pytest.mark.parametrize("version", list(INSTRUCTIONS))
def test_k_dtcbench_prompt_is_byte_exact(data_dir: Path, tmp_path: Path, version: str) -> None:
    got = prompts("k-dtcbench", data_dir, version, tmp_path)
    for row in k_dtcbench_rows():
        assert got[str(row["index"])] == ref_k_dtcbench(row, INSTRUCTIONS[version])


@pytest.mark.parametrize("version", list(INSTRUCTIONS))
def test_k_mmbench_prompt_is_byte_exact(data_dir: Path, tmp_path: Path, version: str) -> None:
    got = prompts("k-mmbench", data_dir, version, tmp_path)
    rows = k_mmbench_rows()
    assert {r["hint"] if isinstance(r["hint"], str) else "NaN" for r in rows} >= {"nan", "NaN"}
    for row in rows:
        assert got[str(row["index"])] == ref_k_mmbench(row, INSTRUCTIONS[version])


def test_k_mmbench_prompt_by_hand(data_dir: Path, tmp_path: Path) -> None:
    got = prompts("k-mmbench", data_dir, "2025-07", tmp_path)
    assert got["0"] == (
        "다음 글을 읽고 답하세요. 사진 속 사람은 무엇을 하고 있습니까? There are several options:\n"
        "A. 요리\nB. 운동\nC. 독서\nD. 수면\n\n주어진 선택지 중 해당 옵션의 문자로 바로 답하세요."
    )
    # question 1: NaN hint left out, only three options (D is NaN)
    assert got["1"] == (
        "표에서 가장 큰 값은 무엇입니까? There are several options:\nA. 120\nB. 95\nC. 300\n\n"
        "주어진 선택지 중 해당 옵션의 문자로 바로 답하세요."
    )


@pytest.mark.parametrize("version", ["ncsoft-original", "lmms-eval-2025"])
def test_k_mmstar_prompt_is_byte_exact(data_dir: Path, tmp_path: Path, version: str) -> None:
    got = prompts("k-mmstar", data_dir, version, tmp_path)
    for row in k_mmstar_rows():
        assert got[str(row["index"])] == ref_k_mmstar(row, version)


def test_k_seed_prompt_by_hand(data_dir: Path, tmp_path: Path) -> None:
    got = prompts("k-seed", data_dir, "2025-07", tmp_path)
    assert got["1000"] == (
        "사진 속 사람은 무엇을 하고 있습니까?\nA. 요리\nB. 운동\nC. 독서\nD. 수면\n"
        "주어진 선택지 중 해당 옵션의 문자로 바로 답하세요."
    )


def test_k_viscuit_prompt(tmp_path: Path) -> None:
    import json

    root = tmp_path / "ddehun" / "k-viscuit"
    (root / "images").mkdir(parents=True)
    from benchmark_copies import png

    (root / "images" / "1.png").write_bytes(png((1, 2, 3)))
    row = {
        "id": "Food.1.0",
        "question": "What is this dish?",
        "options": ["Bibimbap", "Kimchi", "Tteok", "Japchae"],
        "answer": "B",
        "answer_index": 1,
        "image": "images/1.png",
        "category": "Food",
        "question_type": 1,
    }
    (root / "test.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    got = prompts("k-viscuit", tmp_path, "kobench-1", tmp_path)
    assert got == {
        "Food.1.0": "What is this dish?\nA. Bibimbap\nB. Kimchi\nC. Tteok\nD. Japchae\n"
        "Answer with the option's letter from the given choices directly."
    }
