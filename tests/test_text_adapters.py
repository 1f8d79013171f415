"""Every text benchmark runs from its local mirror on a tiny text model built offline, by every prompt
version (log-likelihood and generative); VLMs answer text tasks without an image; an API model answers the
generative versions and is refused the log-likelihood ones before any request (issue 13, points 1 and 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kobench
from kobench.errors import BadInputError
from kobench.families import load_tasks
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"
# Judged text tasks (ko-mt-bench) need a judge: their own tests run them on the tiny model, loopback judge.
TEXT_TASKS = sorted(n for n, t in load_tasks().items() if t.modality == "text" and t.judge is None)
VERSIONS = [(name, version) for name in TEXT_TASKS for version in load_tasks()[name].prompt.versions]
LIMIT = 4


@pytest.fixture(scope="module")
def tiny_text_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kobench.testing.tiny_models import build_tiny_text_lm

    return build_tiny_text_lm(tmp_path_factory.mktemp("tiny-text-lm"))


def _samples(out: Path, task: str) -> list[dict]:
    lines = (out / "samples" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_text_benchmark_is_here() -> None:
    families = {"kmmlu", "kmmlu-hard", "click", "kobalt", "haerae"} | {
        f"kobest-{c}" for c in ("boolq", "copa")
    }
    assert families <= set(TEXT_TASKS)


@pytest.mark.parametrize("name,version", VERSIONS, ids=[f"{n}@{v}" for n, v in VERSIONS])
def test_every_version_runs_on_a_tiny_text_model(tiny_text_lm: Path, tmp_path: Path, name: str, version: str):
    out = tmp_path / "out"
    spec = load_tasks()[name].prompt.versions[version]
    result = kobench.evaluate(
        f"hf:{tiny_text_lm}",
        name,
        data_dir=MIRRORS,
        limit=LIMIT,
        prompt_versions=[f"{name}={version}"],
        # a random model never stops by itself: a short budget keeps generative versions quick
        max_new_tokens=4 if spec.method == "generate" else None,
        use_cache=False,
        output=out,
    )
    task = result.tasks[name]
    assert result.status == "complete" and task.complete
    assert task.modality == "text" and task.prompt_version == version
    assert task.n == task.n_rows == LIMIT and task.n_failed == 0
    samples = _samples(out, name)
    if spec.method == "loglikelihood":
        # every row scored every choice, and both pipelines read the same likeliest choice
        assert all(len(s["loglikelihoods"]) == len(s["options"]) for s in samples)
        assert all(s["parsed"] == s["protocol"]["parsed"] for s in samples)
        assert task.pipelines["protocol"].n_unparsed == 0
    else:
        assert all("loglikelihoods" not in s and isinstance(s["prediction"], str) for s in samples)


@pytest.mark.parametrize("builder", ["tiny_llava", "tiny_qwen2_vl"])
def test_a_vlm_answers_text_tasks_without_an_image(builder: str, request, tmp_path: Path) -> None:
    folder = request.getfixturevalue(builder)
    out = tmp_path / "out"
    result = kobench.evaluate(
        f"hf:{folder}",
        ["kmmlu", "kobalt"],
        data_dir=MIRRORS,
        limit=LIMIT,
        prompt_versions=["kmmlu=lm-eval-direct"],
        max_new_tokens=4,
        use_cache=False,
        output=out,
    )
    for name in ("kmmlu", "kobalt"):
        task = result.tasks[name]
        assert task.complete and task.n == LIMIT and task.n_failed == 0, task.failure_reasons
        assert all("<image>" not in s["prompt"] for s in _samples(out, name))
    # and scores log-likelihoods as a causal LM does
    scored = kobench.evaluate(
        f"hf:{folder}", "kobest-copa", data_dir=MIRRORS, limit=LIMIT, use_cache=False, output=tmp_path / "ll"
    )
    assert scored.tasks["kobest-copa"].n == LIMIT and scored.tasks["kobest-copa"].n_failed == 0


def test_an_api_model_answers_generative_versions_and_is_refused_loglikelihood(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(lambda body, index: Reply(text="문제를 풀어 보면 ... 정답은 A입니다.")) as server:
        model = f"openai:served-text-model@{server.base_url}"
        with pytest.raises(
            BadInputError,
            match=(
                r"kmmlu needs log-likelihood scoring \(prompt version lm-eval-5shot\); its generative "
                r"versions need none: --prompt-version kmmlu=lm-eval-direct"
            ),
        ):
            kobench.evaluate(model, "kmmlu", data_dir=MIRRORS, limit=LIMIT, cache_dir=tmp_path / "c")
        assert server.requests == []  # refused before any work
        result = kobench.evaluate(
            model, "kobalt", data_dir=MIRRORS, limit=LIMIT, cache_dir=tmp_path / "c", output=tmp_path / "out"
        )
        assert len(server.requests) == LIMIT
        body = server.requests[0][1]
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert body["max_tokens"] == 2048 or body.get("max_completion_tokens") == 2048
    task = result.tasks["kobalt"]
    assert task.n == LIMIT and task.pipelines["protocol"].n_unparsed == 0
    gold = [s["target"] for s in _samples(tmp_path / "out", "kobalt")]
    assert task.pipelines["protocol"].metrics["accuracy"].value == pytest.approx(
        100 * gold.count("A") / LIMIT
    )
