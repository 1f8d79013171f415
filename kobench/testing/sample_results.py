"""Results folders made in code, samples included, as `kobench run --output` writes them: for the HTML
report's tests and its timing bench (bench/html_report_open.py), which need many rows with every verdict
(correct, wrong, unparsed, failed, truncated) and two models that disagree on some of them.

The task is a Korean multiple-choice one ("synthetic-mc", family multiple_choice, not a built-in task);
each model's answers are drawn from `seed`, and its results.json holds the mean and counts of its rows.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from kobench.results import (
    DatasetInfo,
    MetricValue,
    ModelInfo,
    PipelineResult,
    RunInfo,
    RunResult,
    TaskResult,
    Truncation,
    Units,
    save_results,
)

TASK = "synthetic-mc"
LETTERS = "ABCD"
COLOURS = ["빨간색", "파란색", "노란색", "초록색", "보라색", "검은색"]
KINDS = ["colour", "shape", "count"]
SIGNATURE = f"{TASK}|data:sha256:0123456789abcdef|split:test|prompt:1|parser:{{parser}}|metric:accuracy@1"


def _row(index: int, rng: random.Random) -> dict:
    options = dict(zip(LETTERS, rng.sample(COLOURS, 4), strict=True))
    question = f"그림 {index}번에 있는 도형은 무슨 색입니까?"
    lines = [
        question,
        *(f"{k}. {v}" for k, v in options.items()),
        "주어진 선택지 중 해당 옵션의 문자로 바로 답하세요.",
    ]
    return {
        "id": f"row-{index:05d}",
        "index": index,
        "prompt": "\n".join(lines),
        "target": rng.choice(LETTERS),
        "options": options,
        "fields": {"data_type": KINDS[index % len(KINDS)]},
    }


def _answer(row: dict, rng: random.Random, skill: float) -> dict:
    draw = rng.random()
    if draw < 0.03:  # failed: no answer
        return {"status": "failed", "error": "image unreadable", "prediction": None, "parsed": None}
    if draw < 0.10:  # unparsed, some of them cut off at max_new_tokens
        text = "답을 고르기 어렵습니다 왜냐하면" * (3 if draw < 0.06 else 1)
        return {
            "status": "scored",
            "prediction": text,
            "parsed": None,
            "finish": "length" if draw < 0.06 else "stop",
        }
    letter = row["target"] if rng.random() < skill else rng.choice([c for c in LETTERS if c != row["target"]])
    return {"status": "scored", "prediction": f"{letter}. {row['options'][letter]}", "parsed": letter}


def sample_lines(n_rows: int, seed: int, skill: float) -> list[dict]:
    """`n_rows` sample records of one model (the rows are the same for every seed; the answers are not)."""
    rows_rng, answers_rng = random.Random(0), random.Random(seed)
    records = []
    for index in range(n_rows):
        row = _row(index, rows_rng)
        answer = _answer(row, answers_rng, skill)
        scored = answer["status"] == "scored"
        score = float(answer["parsed"] == row["target"]) if scored else None
        verdicts = {
            p: ({"parser": f"{p}@1", "parsed": answer["parsed"], "score": score} if scored else None)
            for p in ("protocol", "kobench")
        }
        records.append(
            {
                **row,
                "group": None,
                "status": answer["status"],
                "error": answer.get("error"),
                "prediction": answer["prediction"],
                "parsed": answer["parsed"],
                "score": score,
                **verdicts,
                "n_tokens": 4,
                "n_prompt_tokens": 0,
                "n_image_tokens": None,
                "cached": False,
                "finish_reason": answer.get("finish", "stop") if scored else "error",
            }
        )
    return records


def _pipeline(name: str, records: list[dict]) -> PipelineResult:
    scored = [r for r in records if r["status"] == "scored"]
    scores = [r["score"] for r in scored]
    value = 100 * sum(scores) / len(scores) if scores else None
    unparsed = sum(1 for r in scored if r["parsed"] is None)
    return PipelineResult(
        parser=f"{name}@1",
        label=name,
        metrics={
            "accuracy": MetricValue(
                value=value, ci_low=value and value - 1.0, ci_high=value and value + 1.0, n=len(scores)
            )
        },
        n_unparsed=unparsed,
        unparsed_share=unparsed / len(scored) if scored else 0.0,
        breakdown={},
        unit_scores=scores,
        signature=SIGNATURE.format(parser=f"{name}@1"),
    )


def write_results(folder: Path, model: str, n_rows: int, *, seed: int, skill: float = 0.6) -> Path:
    """A results folder for `model`: results.json and samples/synthetic-mc.jsonl; returns the folder."""
    records = sample_lines(n_rows, seed, skill)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "samples").mkdir(exist_ok=True)
    with (folder / "samples" / f"{TASK}.jsonl").open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    failed = [r for r in records if r["status"] == "failed"]
    reasons = {r["finish_reason"] for r in records}
    task = TaskResult(
        task=TASK,
        family="multiple_choice",
        category="General",
        primary_metric="accuracy",
        direction="higher",
        scale="percent",
        dataset=DatasetInfo(
            hub_id="kobench/synthetic-mc",
            split="test",
            origin="generated",
            identity="sha256:0123456789abcdef",
        ),
        prompt_version="1",
        generation={"max_new_tokens": 8},
        generation_overridden=[],
        n_rows=n_rows,
        n=n_rows - len(failed),
        n_failed=len(failed),
        failed_share=len(failed) / n_rows if n_rows else 0.0,
        failure_reasons={"image unreadable": len(failed)} if failed else {},
        units=Units(kind="row", ids=[r["id"] for r in records if r["status"] == "scored"]),
        pipelines={p: _pipeline(p, records) for p in ("protocol", "kobench")},
        complete=True,
        truncation=Truncation(
            finish_reasons={k: sum(1 for r in records if r["finish_reason"] == k) for k in sorted(reasons)},
            n_truncated=sum(1 for r in records if r["finish_reason"] == "length"),
            truncated_share=0.0,
            n_unclosed_thinking=0,
        ),
    )
    run = RunInfo(
        kobench_version="0.1.0",
        model=ModelInfo(spec=model, name=model, adapter="scripted", fingerprint=model, settings={}),
        arguments={"output": str(folder)},
        settings_hash="sha256:0",
        packages={},
        git_commit=None,
        started_at="2026-01-01T00:00:00+00:00",
        ended_at=f"2026-01-01T00:00:{seed % 60:02d}+00:00",
        model_calls=n_rows,
        cache_hits=0,
        generated_tokens=4 * n_rows,
        generation_seconds=1.0,
        tokens_per_second=None,
    )
    save_results(RunResult(status="complete", run=run, tasks={TASK: task}), folder / "results.json")
    return folder
