"""Token accounting in every run (issue 16, point 1): per request in the samples (prompt tokens, of them the
image tokens, generated tokens) and per task in the results, at no extra model call; a cached answer keeps
the counts its call had; what an adapter cannot tell is None, never a guess.

Reference counts come from outside kobench's counting: the image processor's own patch grid (Qwen2.5-VL:
grid t·h·w / merge²; LLaVA: (image size / patch size)² patches) and transformers' own tokenizing chat
template (`apply_chat_template(tokenize=True)`), which is a different code path from kobench's render then
encode."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest
from benchmark_copies import png

import kobench
from kobench.models.hf import HFModel
from kobench.report.summary import run_summary, tokens_cell
from kobench.results import READABLE_VERSIONS, RunResult, load_results
from kobench.run.cache import ResponseCache
from kobench.run.records import SampleRecord
from kobench.run.token_usage import token_usage
from kobench.testing.fake_openai import FakeOpenAIServer, Reply
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, Response, TextPart

GREEDY = GenerationSettings(max_new_tokens=4)


def _request(rid: str, text: str, images: list[bytes]) -> Request:
    parts = (*(ImagePart(ImageRef(data=data)) for data in images), TextPart(text))
    return Request(id=rid, messages=(Message("user", parts),), generation=GREEDY)


def _reference_prompt_tokens(model: HFModel, request: Request) -> list[int]:
    """transformers' own tokenizing path for the same conversation."""
    from PIL import Image

    content = []
    for part in request.messages[0].content:
        if isinstance(part, ImagePart):
            content.append({"type": "image", "image": part.image.load().convert("RGB")})
        else:
            content.append({"type": "text", "text": part.text})
    ids = model.processor.apply_chat_template(
        [{"role": "user", "content": content}], tokenize=True, return_dict=True, add_generation_prompt=True
    )["input_ids"]
    assert Image  # PIL is what the processor reads
    return list(ids[0] if isinstance(ids[0], list) else ids)


@pytest.fixture(scope="module")
def qwen(tiny_qwen2_5_vl: Path) -> HFModel:
    return HFModel(str(tiny_qwen2_5_vl), device="cpu", dtype="float32", batch_size=4)


def test_hf_counts_prompt_and_image_tokens_as_the_processor_grid_says(qwen: HFModel) -> None:
    wide, square = png((200, 30, 30), size=(96, 32)), png((20, 20, 230), size=(56, 56))
    requests = [
        _request("wide", "이미지에 대해서 설명해줘.", [wide]),
        _request("two", "두 그림의 차이는?", [wide, square]),
        _request("text", "안녕하세요", []),
    ]
    answers = {r.request_id: r for r in qwen.generate(requests)}
    processor = qwen.processor.image_processor
    merge = processor.merge_size
    for request in requests:
        response = answers[request.id]
        assert response.ok, response.error
        expected_image = 0
        for ref in request.images:
            grid = processor(images=[ref.load().convert("RGB")], return_tensors="pt")["image_grid_thw"][0]
            expected_image += math.prod(grid.tolist()) // merge**2
        assert response.image_tokens == expected_image
        reference = _reference_prompt_tokens(qwen, request)
        assert response.prompt_tokens == len(reference)  # the batch's left padding is not counted
        assert reference.count(qwen.model.config.image_token_id) == expected_image
    assert answers["text"].image_tokens == 0 and answers["two"].image_tokens > answers["wide"].image_tokens


def test_a_batch_counts_each_row_as_it_counts_alone(qwen: HFModel) -> None:
    requests = [_request("a", "짧게", [png((1, 2, 3))]), _request("b", "조금 더 긴 질문입니다. " * 4, [])]
    batched = {r.request_id: (r.prompt_tokens, r.image_tokens) for r in qwen.generate(requests)}
    alone = {
        r.id: (lambda x: (x.prompt_tokens, x.image_tokens))(next(iter(qwen.generate([r])))) for r in requests
    }
    assert batched == alone and batched["a"][0] != batched["b"][0]


def test_llava_image_tokens_are_its_patch_count(tiny_llava: Path) -> None:
    model = HFModel(str(tiny_llava), device="cpu", dtype="float32", batch_size=2)
    vision = model.model.config.vision_config
    patches = (vision.image_size // vision.patch_size) ** 2
    if model.model.config.vision_feature_select_strategy == "full":
        patches += 1  # the CLS position is kept
    (response,) = model.generate([_request("r", "무엇이 보이나요?", [png((9, 9, 9))])])
    assert response.ok and response.image_tokens == patches
    assert response.prompt_tokens == len(
        _reference_prompt_tokens(model, _request("r", "무엇이 보이나요?", [png((9, 9, 9))]))
    )


def test_a_model_whose_config_names_no_image_token_has_image_tokens_unknown() -> None:
    from kobench.models.token_counts import image_token_id, prompt_token_counts

    class Config:
        img_start_id = 7  # HyperCLOVAX-SEED-Vision v0.1.0: one mark per image, expanded inside the model

    assert image_token_id(Config()) is None
    inputs = {"input_ids": [[0, 7, 7, 1], [7, 2, 3, 4]], "attention_mask": [[0, 1, 1, 1], [1, 1, 1, 1]]}
    assert prompt_token_counts(inputs, None) == [(3, None), (4, None)]
    assert prompt_token_counts(inputs, 7) == [(3, 2), (4, 1)]


def _record(rid: str, prompt: int, image: int | None, generated: int, status: str = "scored") -> SampleRecord:
    return SampleRecord(
        id=rid,
        index=0,
        prompt="p",
        target="A",
        options={},
        fields={},
        group=None,
        status=status,  # type: ignore[arg-type]
        error=None,
        prediction="A",
        parsed="A",
        score=1.0,
        protocol=None,
        kobench=None,
        n_tokens=generated,
        n_prompt_tokens=prompt,
        n_image_tokens=image,
    )


def test_task_usage_sums_only_what_the_adapter_said() -> None:
    rows = [
        (_record("a", 100, 64, 3), 1),
        (_record("b", 150, 128, 5), 2),
        (_record("c", 40, None, 2), 1),  # an API row: image tokens unknown
        (_record("d", 0, None, 4), 0),  # an old cache row: prompt tokens unknown too
        (_record("e", 999, 999, 9, status="failed"), 1),  # failed rows are left out
        (None, 1),  # not answered yet
    ]
    usage = token_usage(rows)
    # by hand: answered a-d; generated 3+5+2+4; prompt known a-c; image known a, b (3 images) and d (none)
    assert (usage.n, usage.generated_tokens, usage.mean_generated_tokens) == (4, 14, 3.5)
    assert (usage.n_prompt_known, usage.prompt_tokens, usage.mean_prompt_tokens) == (
        3,
        290,
        pytest.approx(96.667),
    )
    assert (usage.n_image_known, usage.image_tokens, usage.images) == (3, 192, 3)
    assert usage.mean_image_tokens == 64.0 and usage.image_tokens_per_image == 64.0
    assert usage.mean_text_tokens == pytest.approx(((100 - 64) + (150 - 128)) / 2)
    empty = token_usage([])
    assert empty.n == 0 and empty.mean_prompt_tokens is None and empty.image_tokens_per_image is None


def test_the_cache_keeps_the_counts_and_reads_an_older_table(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    old = sqlite3.connect(path)  # the table as its first version had it
    old.execute(
        "CREATE TABLE responses (key TEXT PRIMARY KEY, text TEXT NOT NULL, n_tokens INTEGER NOT NULL,"
        " seconds REAL NOT NULL)"
    )
    old.execute("INSERT INTO responses VALUES ('old', 'A', 3, 0.5)")
    old.commit()
    old.close()
    cache = ResponseCache(path)
    cache.put_many([("new", Response(text="B", n_tokens=2, prompt_tokens=80, image_tokens=64))])
    cache.close()
    found = ResponseCache(path).get_many(["old", "new"])
    assert (found["new"].prompt_tokens, found["new"].image_tokens, found["new"].cached) == (80, 64, True)
    assert (found["old"].prompt_tokens, found["old"].image_tokens) == (0, None)


def _samples(out: Path) -> list[dict]:
    lines = (out / "samples" / "kobench-demo.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_api_usage_is_recorded_and_a_cached_rerun_keeps_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(lambda body, index: Reply(text="A", usage=(40 + index, 3))) as server:
        options = {"limit": 4, "concurrency": 1, "cache_dir": tmp_path / "cache"}
        first = kobench.evaluate(
            f"openai:m@{server.base_url}", "kobench-demo", output=tmp_path / "a", **options
        )
        calls = server.calls
        again = kobench.evaluate(
            f"openai:m@{server.base_url}", "kobench-demo", output=tmp_path / "b", **options
        )
        assert server.calls == calls  # every answer from the cache: no extra call
    for result, out in ((first, tmp_path / "a"), (again, tmp_path / "b")):
        usage = result.tasks["kobench-demo"].tokens
        assert usage is not None
        assert (usage.n_prompt_known, usage.prompt_tokens) == (4, 40 + 41 + 42 + 43)
        assert (usage.generated_tokens, usage.n_image_known, usage.image_tokens_per_image) == (12, 0, None)
        rows = _samples(out)
        assert sorted(r["n_prompt_tokens"] for r in rows) == [40, 41, 42, 43]
        assert all(r["n_image_tokens"] is None for r in rows)
    assert all(r["cached"] for r in _samples(tmp_path / "b"))
    # what the run prints: mean prompt tokens (image tokens unknown) / mean generated tokens
    assert tokens_cell(again.tasks["kobench-demo"]) == "42 (?) / 3.0"
    assert "tokens in (img) / out" in run_summary(again)


def test_an_hf_run_records_the_accounting(tiny_qwen2_5_vl: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = kobench.evaluate(
        f"hf:{tiny_qwen2_5_vl}",
        "kobench-demo",
        limit=3,
        device="cpu",
        max_new_tokens=4,
        cache_dir=tmp_path / "cache",
        output=out,
    )
    rows = _samples(out)
    usage = load_results(out / "results.json").tasks["kobench-demo"].tokens
    assert usage is not None and usage == result.tasks["kobench-demo"].tokens
    assert usage.n_prompt_known == usage.n_image_known == 3
    assert usage.prompt_tokens == sum(r["n_prompt_tokens"] for r in rows)
    assert usage.image_tokens == sum(r["n_image_tokens"] for r in rows) > 0
    assert usage.generated_tokens == sum(r["n_tokens"] for r in rows)


def test_results_and_samples_of_an_earlier_schema_still_load() -> None:
    old = Path(__file__).parent / "fixtures" / "results-536af2d.json"
    assert json.loads(old.read_text(encoding="utf-8"))["schema_version"] != "4"
    result = load_results(old)
    assert result.tasks and all(task.tokens is None for task in result.tasks.values())
    record = _record("x", 5, None, 1).model_dump()
    del record["n_image_tokens"]  # a sample line written before kobench counted image tokens
    assert SampleRecord.model_validate(record).n_image_tokens is None
    assert "4" in READABLE_VERSIONS and RunResult.model_fields["schema_version"].default == "4"
