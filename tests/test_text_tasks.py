"""Text tasks scored by log-likelihood: kobench against an independent re-implementation
of lm-evaluation-harness v0.4.9.2 (tests/lmeval_reference.py), on the synthetic local mirrors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.families import load_tasks
from kobench.report.leaderboard import render_table
from kobench.results import load_results
from kobench.run.prepare import prepare_task
from tests.lmeval_reference import reference_loglikelihood, reference_requests

MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _prepared(name: str, version: str, tmp_path: Path):
    task = load_tasks()[name]
    return prepare_task(
        task,
        DataOptions(data_dir=MIRRORS),
        ScoringOptions(prompt_versions=(version,)),
        JudgeOptions(),
        tmp_path,
    )


@pytest.mark.parametrize("version,shots", [("lm-eval-5shot", 5), ("lm-eval-0shot", 0)])
def test_kmmlu_requests_match_lm_eval(tmp_path, version, shots):
    prepared = _prepared("kmmlu", version, tmp_path)
    root = MIRRORS / "HAERAE-HUB" / "KMMLU"
    expected = []
    for subject in load_tasks()["kmmlu"].dataset.subsets:
        test, dev = _rows(root / subject / "test.jsonl"), _rows(root / subject / "dev.jsonl")
        expected += reference_requests("kmmlu", test, dev, shots)
    assert len(prepared.items) == len(expected) == 45 * 3
    for item, (pairs, gold) in zip(prepared.items, expected, strict=True):
        request = item.request
        assert [(request.prompt_text, c) for c in request.continuations] == pairs
        assert item.target == "ABCD"[gold]


def test_haerae_draws_from_its_own_split_without_the_row(tmp_path):
    prepared = _prepared("haerae", "lm-eval-5shot", tmp_path)
    expected = []
    for part in load_tasks()["haerae"].dataset.subsets:
        test = _rows(MIRRORS / "HAERAE-HUB" / "HAE_RAE_BENCH" / part / "test.jsonl")
        expected += reference_requests("haerae", test, None, 5)
    for item, (pairs, gold) in zip(prepared.items, expected, strict=True):
        assert [(item.request.prompt_text, c) for c in item.request.continuations] == pairs
        assert item.target == "ABCDE"[gold]


@pytest.mark.parametrize("config", ["boolq", "copa", "hellaswag", "sentineg", "wic"])
def test_kobest_requests_match_lm_eval(tmp_path, config):
    prepared = _prepared(f"kobest-{config}", "lm-eval-5shot", tmp_path)
    root = MIRRORS / "skt" / "kobest_v1" / config
    expected = reference_requests(
        f"kobest_{config}", _rows(root / "test.jsonl"), _rows(root / "train.jsonl"), 5
    )
    assert len(prepared.items) == len(expected)
    for item, (pairs, gold) in zip(prepared.items, expected, strict=True):
        assert [(item.request.prompt_text, c) for c in item.request.continuations] == pairs
        assert item.target == "ABCD"[gold]


def test_loglikelihoods_agree_with_torch_one_pair_at_a_time(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kobench.models.base import in_request_order
    from kobench.models.hf import HFModel
    from kobench.testing.tiny_models import build_tiny_text_lm

    folder = build_tiny_text_lm(tmp_path / "lm")
    items = _prepared("kobest-copa", "lm-eval-5shot", tmp_path).items  # multi-token continuations
    items += _prepared("kmmlu", "lm-eval-0shot", tmp_path).items[:6]  # one-token continuations, shared
    requests = [i.request for i in items]
    model = HFModel(str(folder), device="cpu", batch_size=3)
    answers = in_request_order(model, requests)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    reference = AutoModelForCausalLM.from_pretrained(folder).eval()
    for request, answer in zip(requests, answers, strict=True):
        assert answer.error is None and answer.scores is not None
        want = [
            reference_loglikelihood(reference, tokenizer, request.prompt_text, c)[0]
            for c in request.continuations
        ]
        assert answer.scores == pytest.approx(want, abs=1e-4)


def test_run_groups_text_tasks_in_their_own_table(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from kobench.cli import app
    from kobench.testing.tiny_models import build_tiny_text_lm

    folder = build_tiny_text_lm(tmp_path / "lm")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--model",
            f"hf:{folder}",
            "--tasks",
            "kobest-boolq,haerae",
            "--data-dir",
            str(MIRRORS),
            "--output",
            str(out),
            "--no-cache",
        ],
    )
    assert result.exit_code == 0, result.output
    results = load_results(out / "results.json")
    assert {t.modality for t in results.tasks.values()} == {"text"}
    demo = load_results(Path(__file__).parents[1] / "results" / "demo" / "chance" / "results.json")
    table = render_table([results, demo])
    image, text = table.split("**Text benchmarks**")
    assert "**Image benchmarks**" in image and "haerae" in text and "haerae" not in image
    assert "Average" in render_table([results])  # over the text benchmarks alone


def test_kmmlu_direct_scores_against_the_letter_of_answer_minus_one(tmp_path):
    # lm-eval's direct/_direct_kmmlu_yaml: doc_to_target "{{['A', 'B', 'C', 'D'][answer-1]}}" (answer is 1-4)
    prepared = _prepared("kmmlu", "lm-eval-direct", tmp_path)
    root = MIRRORS / "HAERAE-HUB" / "KMMLU"
    rows = [r for s in load_tasks()["kmmlu"].dataset.subsets for r in _rows(root / s / "test.jsonl")]
    assert [item.target for item in prepared.items] == [["A", "B", "C", "D"][r["answer"] - 1] for r in rows]


def test_a_row_holding_nan_is_not_left_out_of_its_own_draw():
    # lm-eval compares `x != doc` on objects read apart from Arrow: NaN != NaN, so a same-split draw of
    # n + 1 keeps the row itself when it holds a NaN (its first n are the examples); else the row is dropped.
    import random

    from kobench.tasks.fewshot import draw_examples
    from kobench.tasks.spec import PromptVersion

    version = PromptVersion(
        source="test", method="loglikelihood", template="{{q}}", choices=["a", "b"], target="0", fewshot=2
    )
    for extra in (float("nan"), 1.5):
        rows = [{"q": f"질문 {i}", "x": extra} for i in range(4)]
        rnd = random.Random(1234)
        expected = []
        for row in rows:
            drawn = rnd.sample(rows, 3)
            kept = drawn if extra != extra else [d for d in drawn if d is not row]
            expected.append(kept[:2])
        got = draw_examples(rows, rows, version, same_split=True)
        assert [[rows.index(e) for e in shots] for shots in got] == [
            [rows.index(e) for e in shots] for shots in expected
        ]
        holds_itself = [any(e is row for e in shots) for row, shots in zip(rows, got, strict=True)]
        assert any(holds_itself) == (extra != extra)
