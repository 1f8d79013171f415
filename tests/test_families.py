"""The OCR, grounding and document-VQA families through the real runner, with a scripted model;
expected values are worked out by hand in the comments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmark_copies import image, write_parquet
from scripted_model import ScriptedModel, register

from kobench.api import evaluate


def write_task(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(body, encoding="utf-8")
    return folder


READ_TASK = """
name: my-ocr
family: ocr_read
category: OCR
description: test
source: test
dataset: {hub_id: me/ocr, split: test}
columns: {id: id, image: image, text: text, box: box, breakdown: [level]}
prompt:
  default: "1"
  versions:
    "1":
      source: test
      max_new_tokens: 32
      template: "{% if box_text %}{{ box_text }} 영역을 읽으세요{% else %}읽으세요{% endif %}"
"""


def test_reading_corpus_cer_and_failures(monkeypatch, tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": "안녕하세요", "box": None, "level": "clean", "image": image(1)},
        {
            "id": "b",
            "text": "서울특별시 강남구",
            "box": [0.1, 0.2, 0.9, 0.5],
            "level": "hard",
            "image": image(2),
        },
        {
            "id": "c",
            "text": "합계",
            "box": [0.5, 0.5, 1.2, 0.9],
            "level": "hard",
            "image": image(3),
        },  # outside 0-1
        {"id": "d", "text": "", "box": None, "level": "clean", "image": image(4)},  # no reference
    ]
    write_parquet(tmp_path / "m", "me/ocr", "test", rows)
    answers = {"a": "안녕하새요", "b": '이미지의 텍스트는 다음과 같습니다:\n"서울특별시 강남구"'}
    model = ScriptedModel(lambda r: answers[r.id])
    register(monkeypatch, model)
    folder = write_task(tmp_path / "tasks", "my-ocr", READ_TASK)
    result = evaluate(
        "scripted:x",
        "my-ocr",
        data_dir=tmp_path / "m",
        task_dirs=[folder],
        cache_dir=tmp_path / "c",
        output=tmp_path / "out",
    )
    task = result.tasks["my-ocr"]
    assert task.n == 2 and task.n_failed == 2 and task.primary_metric == "cer" and task.direction == "lower"
    assert (
        any("outside 0-1" in r for r in task.failure_reasons)
        and "missing reference text" in task.failure_reasons
    )
    kob, proto = task.pipelines["kobench"], task.pipelines["protocol"]
    # kobench: a = 1 edit / 5 chars, b = 0 / 9 (the preamble and quotes are cleaned) -> corpus 1 / 14
    assert kob.metrics["cer"].value == pytest.approx(100 / 14)
    assert next(iter(kob.metrics)) == "cer" and kob.metrics["cer"].direction == "lower"
    # protocol keeps the preamble: b's edits = Levenshtein of
    # '이미지의 텍스트는 다음과 같습니다: "서울특별시 강남구"' and "서울특별시 강남구"
    # = len(prediction) - 9 (the reference is a substring) = 31 - 9 = 22 -> (1 + 22) / 14
    assert proto.metrics["cer"].value == pytest.approx(100 * 23 / 14)
    # bag of characters for a: prediction 안녕하새요 vs 안녕하세요: 4 of 5 shared -> P = R = F1 = 0.8; b: 1.0
    assert kob.metrics["char_f1"].value == pytest.approx(90.0)
    assert kob.breakdown["level"]["hard"].value == pytest.approx(0.0)  # b read perfectly
    regions = {
        json.loads(x)["id"]: json.loads(x)
        for x in (tmp_path / "out/samples/my-ocr.jsonl").read_text().splitlines()
    }
    assert regions["b"]["prompt"] == "[0.100, 0.200, 0.900, 0.500] 영역을 읽으세요"
    assert [c for c in model.calls] and set(model.calls) == {"a", "b"}


GROUND_TASK = """
name: my-ground
family: ocr_grounding
category: OCR
description: test
source: test
dataset: {hub_id: me/ground, split: test}
columns: {id: id, image: image, text: text, box: box, width: width, height: height}
prompt:
  default: "1"
  versions:
    "1": {source: test, max_new_tokens: 32, template: "{{ text }}의 위치는?"}
"""


def test_grounding_iou_with_unparseable_scored_zero(monkeypatch, tmp_path: Path) -> None:
    rows = [
        {
            "id": str(i),
            "text": f"항목 {i}",
            "box": [0.0, 0.0, 0.5, 0.5],
            "width": 200,
            "height": 100,
            "image": image(i),
        }
        for i in range(4)
    ]
    write_parquet(tmp_path / "m", "me/ground", "test", rows)
    answers = {
        "0": "[0.0, 0.0, 0.5, 0.5]",  # IoU 1
        "1": "[0.25, 0.0, 0.75, 0.5]",  # overlap 0.25 x 0.5 = 0.125; union 0.25 + 0.25 - 0.125 = 0.375 -> 1/3
        "2": "모르겠습니다",  # unparseable -> 0, counted
        "3": "<|box_start|>(0,0),(500,500)<|box_end|>",  # Qwen2-VL form: protocol cannot read it
    }
    register(monkeypatch, ScriptedModel(lambda r: answers[r.id]))
    folder = write_task(tmp_path / "tasks", "my-ground", GROUND_TASK)
    common = dict(data_dir=tmp_path / "m", task_dirs=[folder], cache_dir=tmp_path / "c")
    task = evaluate("scripted:x", "my-ground", **common).tasks["my-ground"]
    kob, proto = task.pipelines["kobench"], task.pipelines["protocol"]
    # kobench, normalized convention: row 3's (0,0),(500,500) is far outside 0-1 -> unparseable
    assert kob.metrics["mean_iou"].value == pytest.approx(100 * (1 + 1 / 3) / 4)
    assert kob.metrics["iou_at_0.5"].value == pytest.approx(25.0) and kob.n_unparsed == 2
    assert proto.n_unparsed == 2 and "box:normalized" in kob.signature
    # As Qwen2-VL (0-1000): row 3 is [0, 0, 0.5, 0.5] -> IoU 1; row 0 ([0, 0, 0.0005, 0.0005]) ~ 0
    qwen = evaluate("scripted:x", "my-ground", box_convention="qwen2vl", **common).tasks["my-ground"]
    assert qwen.pipelines["kobench"].metrics["iou_at_0.5"].value == pytest.approx(25.0)
    assert "box:qwen2vl" in qwen.pipelines["kobench"].signature
    assert (
        qwen.pipelines["protocol"].metrics["mean_iou"].value
        < qwen.pipelines["kobench"].metrics["mean_iou"].value
    )


DOC_TASK = """
name: my-doc
family: doc_vqa
category: Document
description: test
source: test
dataset: {hub_id: me/doc, split: test}
columns: {id: id, image: image, question: question, answers: answers}
prompt:
  default: "1"
  versions:
    "1": {source: test, max_new_tokens: 32, template: "{{ question }}"}
"""


def test_doc_vqa_anls_exact_and_relaxed(monkeypatch, tmp_path: Path) -> None:
    rows = [
        {"id": "1", "question": "합계금액은?", "answers": ["1,234,000원"], "image": image(1)},
        {"id": "2", "question": "공급자는?", "answers": ["(주)한빛테크"], "image": image(2)},
        {"id": "3", "question": "매출은?", "answers": ["1250"], "image": image(3)},
        {"id": "4", "question": "빈 답", "answers": [], "image": image(4)},
    ]
    write_parquet(tmp_path / "m", "me/doc", "test", rows)
    answers = {"1": "정답은 1234000원입니다.", "2": "(주)한빛테그", "3": "1300"}
    register(monkeypatch, ScriptedModel(lambda r: answers[r.id]))
    folder = write_task(tmp_path / "tasks", "my-doc", DOC_TASK)
    task = evaluate(
        "scripted:x", "my-doc", data_dir=tmp_path / "m", task_dirs=[folder], cache_dir=tmp_path / "c"
    ).tasks["my-doc"]
    assert task.n_failed == 1 and "missing answers" in task.failure_reasons
    kob = task.pipelines["kobench"].metrics
    # exact: 1 (same value, unit kept) + 0 (one character differs) + 0 (1300 vs 1250) -> 1/3
    assert kob["exact_match"].value == pytest.approx(100 / 3)
    # relaxed: 1 + 0 + |1300-1250|/1250 = 4% <= 5% -> 1 -> 2/3
    assert kob["relaxed_accuracy"].value == pytest.approx(200 / 3)
    # ANLS row 2: 1 edit over 7 characters -> 1 - 1/7;
    # row 3: "1300" vs "1250": 2 edits / 4 -> 0.5, not < 0.5 -> 0
    assert task.pipelines["kobench"].metrics["anls"].n == 3
    assert kob["anls"].value > task.pipelines["protocol"].metrics["anls"].value  # the preamble hurts ANLS
