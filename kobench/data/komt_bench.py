"""KoMT-Bench as LG AI Research distributes it with its evaluation code (GitHub LG-AI-EXAONE/KoMT-Bench,
FastChat/fastchat/llm_judge/data/mt_bench/): the questions, and the GPT-4 reference answers its judge
compares math, reasoning and coding answers with, which the Hub copy (LGAI-EXAONE/KoMT-Bench) lacks.

- `question_ko.jsonl`: one question a line, `question_id`, `category`, `turns` (the two user turns) and, for
  some, `reference` (short reference answers: the Hub copy's columns);
- `reference_answer_ko/gpt-4.jsonl`: one answer a line, `question_id` and `choices[0].turns` (GPT-4's
  answer to each turn; gen_judgment.py reads `ref_answers["gpt-4"][question_id]`).

Each row gets `ref_answer`, the reference answer's turns (None where the file has none for the question).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kobench.data.formats import json_lines
from kobench.data.loader import Table
from kobench.errors import BadInputError, where

QUESTIONS = "question_ko.jsonl"
REFERENCES = Path("reference_answer_ko") / "gpt-4.jsonl"
COLUMNS = ["question_id", "category", "turns", "reference", "ref_answer"]


def _objects(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for n, obj in json_lines(path):
        if not isinstance(obj, dict):
            raise BadInputError(f"{where(path, n)}: expected a JSON object, got {type(obj).__name__}")
        for key in required:
            if key not in obj:
                raise BadInputError(f"{where(path, n, key)}: missing")
        out.append((n, obj))
    return out


def _reference_turns(path: Path, n: int, obj: dict[str, Any]) -> list[str]:
    choices = obj.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    turns = first.get("turns") if isinstance(first, dict) else None
    if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
        raise BadInputError(f"{where(path, n, 'choices')}: expected choices[0].turns, a list of texts")
    return turns


def read_komt_bench(folder: Path) -> Table:
    questions = folder / QUESTIONS
    rows = []
    for n, obj in _objects(questions, ("question_id", "category", "turns")):
        if not isinstance(obj["turns"], list) or not all(isinstance(t, str) for t in obj["turns"]):
            raise BadInputError(f"{where(questions, n, 'turns')}: expected a list of texts")
        row = {key: obj[key] for key in ("question_id", "category", "turns")}
        rows.append({**row, "reference": obj.get("reference")})
    files = [str(questions)]
    references: dict[Any, list[str]] = {}
    if (folder / REFERENCES).is_file():
        path = folder / REFERENCES
        answers = _objects(path, ("question_id",))
        references = {obj["question_id"]: _reference_turns(path, n, obj) for n, obj in answers}
        files.append(str(path))
    for row in rows:
        row["ref_answer"] = references.get(row["question_id"])
    origin = f"local komt-bench {folder} ({'with' if references else 'without'} {REFERENCES})"
    return Table(rows, list(COLUMNS), origin, files, None)
