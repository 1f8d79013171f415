"""--batch-size auto (issue 14, point 3): a batch that runs out of accelerator memory is halved and each
half run again; later batches are cut at the size reached, which the results record. The out-of-memory error
is simulated (the model's generate raises torch's own OutOfMemoryError above a batch of 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import kobench
from kobench.models.base import in_request_order
from kobench.models.batching import BatchSize
from kobench.models.hf import HFModel
from kobench.types import GenerationSettings, Message, Request, TextPart

MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"
FITS = 3  # rows the simulated accelerator holds at once


@pytest.fixture(scope="module")
def text_lm(tmp_path_factory) -> Path:
    from kobench.testing.tiny_models import build_tiny_text_lm

    return build_tiny_text_lm(tmp_path_factory.mktemp("lm"))


def _requests(n: int) -> list[Request]:
    return [
        Request(
            id=f"r{i}",
            messages=(Message("user", (TextPart(f"질문 {i}: 하늘은 무슨 색입니까? " * (1 + i % 3)),)),),
            generation=GenerationSettings(max_new_tokens=6),
        )
        for i in range(n)
    ]


def _small_memory(model: HFModel, monkeypatch, sizes: list[int]) -> None:
    generate = model.model.generate

    def limited(**kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        if kwargs["input_ids"].shape[0] > FITS:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return generate(**kwargs)

    monkeypatch.setattr(model.model, "generate", limited)


def test_auto_halves_on_out_of_memory_and_answers_as_batch_size_one(text_lm: Path, monkeypatch) -> None:
    requests = _requests(20)
    alone = [r.text for r in in_request_order(HFModel(str(text_lm), batch_size=1), requests)]
    model = HFModel(str(text_lm), batch_size="auto")
    model.batch = BatchSize(16, auto=True)  # as on an accelerator (the CPU starts at 8)
    sizes: list[int] = []
    _small_memory(model, monkeypatch, sizes)
    answers = in_request_order(model, requests)
    assert all(a.error is None for a in answers)
    assert [a.text for a in answers] == alone  # the same answers: left padding changes nothing greedy here
    assert sizes[:3] == [16, 8, 4]  # 16 -> 8 -> 4 -> 2 on the first batch ...
    # ... and every later batch is cut at the size reached (but the next one, already cut to be prepared
    # while this one ran, which fails at once and is cut again)
    assert sum(size > 2 for size in sizes[sizes.index(2) :]) <= 1
    assert model.batch_report() == {"mode": "auto", "start": 16, "final": 2, "halvings": 3}


def test_log_likelihood_rows_halve_too(text_lm: Path, monkeypatch, tmp_path: Path) -> None:
    from kobench.config import DataOptions, JudgeOptions, ScoringOptions
    from kobench.families import load_tasks
    from kobench.run.prepare import prepare_task

    items = prepare_task(
        load_tasks()["kobest-copa"],  # multi-token choices: a row per (context, choice)
        DataOptions(data_dir=MIRRORS),
        ScoringOptions(prompt_versions=("lm-eval-5shot",)),
        JudgeOptions(),
        tmp_path,
    ).items
    requests = [item.request for item in items]
    alone = [r.scores for r in in_request_order(HFModel(str(text_lm), batch_size=1), requests)]
    model = HFModel(str(text_lm), batch_size="auto")
    model.batch = BatchSize(8, auto=True)
    forward, sizes = model.model.forward, []

    def limited(*args, **kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        if kwargs["input_ids"].shape[0] > FITS:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory.")
        return forward(*args, **kwargs)

    monkeypatch.setattr(model.model, "forward", limited)
    scored = in_request_order(model, requests)
    assert all(a.error is None for a in scored)
    assert [a.scores for a in scored] == pytest.approx(alone, abs=1e-4)
    assert sizes[:3] == [8, 4, 2] and model.batch_report()["final"] == 2


def test_a_fixed_batch_size_still_retries_one_at_a_time(text_lm: Path, monkeypatch) -> None:
    model = HFModel(str(text_lm), batch_size=8)
    sizes: list[int] = []
    _small_memory(model, monkeypatch, sizes)
    answers = in_request_order(model, _requests(8))
    assert all(a.error is None for a in answers) and sizes == [8, 1, 1, 1, 1, 1, 1, 1, 1]
    assert model.batch_report() == {"mode": "fixed", "batch_size": 8}


def test_a_run_records_the_batch_size(text_lm: Path, tmp_path: Path) -> None:
    result = kobench.evaluate(
        f"hf:{text_lm}",
        "kobalt",
        data_dir=MIRRORS,
        limit=4,
        max_new_tokens=4,
        batch_size="auto",
        use_cache=False,
        output=tmp_path / "o",
    )
    assert result.run.batch == {"mode": "auto", "start": 8, "final": 8, "halvings": 0}  # CPU: no halving
    assert result.run.arguments["batch_size"] == "auto"


def test_device_map_loads_the_model_where_accelerate_puts_it(text_lm: Path, tmp_path: Path) -> None:
    # One CPU here: accelerate puts every layer on it. On GPUs the same option shards the model over them.
    sharded = HFModel(str(text_lm), device_map="auto")
    plain = HFModel(str(text_lm), device="cpu")
    assert sharded.device.type == "cpu"
    requests = _requests(4)
    assert [r.text for r in in_request_order(sharded, requests)] == [
        r.text for r in in_request_order(plain, requests)
    ]
    result = kobench.evaluate(
        f"hf:{text_lm}",
        "kobalt",
        data_dir=MIRRORS,
        limit=2,
        max_new_tokens=4,
        device_map="balanced",
        use_cache=False,
    )
    assert result.tasks["kobalt"].n == 2


def test_an_unknown_device_map_is_a_usage_error() -> None:
    from typer.testing import CliRunner

    from kobench.cli import app

    result = CliRunner().invoke(
        app, ["run", "--model", "hf:x", "--tasks", "kobalt", "--device-map", "diagonal"]
    )
    assert result.exit_code == 2 and "--device-map" in result.output
