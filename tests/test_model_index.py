"""The model-index block of a Hugging Face model card, checked with huggingface_hub's own card parser."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard, metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results
from results_factory import run_result, task_result

from kobench.errors import BadInputError
from kobench.report.model_index import (
    SOURCE_NAME,
    build_model_index,
    merge_into_card,
    task_type,
    update_card,
)
from kobench.results import load_results

DEMO = Path(__file__).parents[1] / "results" / "demo"
URL = "https://example.org/kobench"


def card_of(block: str) -> ModelCard:
    return ModelCard(f"---\n{block}---\n# card\n")


def test_demo_results_as_the_hub_reads_them():
    run = load_results(DEMO / "chance" / "results.json")
    index = build_model_index([run], url=URL)
    assert index.skipped == {}
    card = card_of(index.to_yaml())
    assert card.data.model_name == "chance"
    got = {r.dataset_name: r for r in card.data.eval_results}
    assert set(got) == set(run.tasks)
    for name, task in run.tasks.items():
        result, metric = got[name], task.pipelines["kobench"].metrics[task.primary_metric]
        assert result.task_type == task_type(task)
        assert result.task_name == task.category
        assert (result.dataset_type, result.dataset_split) == (task.dataset.hub_id, task.dataset.split)
        assert result.dataset_revision is None  # generated data: no Hub revision
        assert result.metric_type == task.primary_metric
        assert result.metric_value == round(metric.value, 2)
        assert result.metric_name == f"{task.primary_metric} (kobench Korean-aware extraction)"
        assert result.metric_config == "kobench"
        assert result.metric_args == {"n": metric.n, "signature": task.pipelines["kobench"].signature}
        assert (result.source_name, result.source_url) == (SOURCE_NAME, URL)
    assert got["kobench-demo"].task_type == "visual-question-answering"  # multiple choice on images
    assert got["ko-ocr-synth"].task_type == "image-to-text"
    assert got["kobizdoc-synth"].task_type == "document-question-answering"


def test_metadata_load_and_the_model_index_round_trip(tmp_path):
    task = task_result("k-mmbench", category="General", value=71.25)
    task = task.model_copy(
        update={
            "dataset": task.dataset.model_copy(update={"hub_id": "NCSOFT/K-MMBench", "revision": "abc123"})
        }
    )
    index = build_model_index([run_result("m", [task])], model_name="org/my-vlm", url=URL)
    path = tmp_path / "README.md"
    path.write_text(f"---\n{index.to_yaml()}---\n", encoding="utf-8")
    meta = metadata_load(path)
    name, (result,) = model_index_to_eval_results(meta["model-index"])
    assert name == "org/my-vlm"
    assert (result.dataset_type, result.dataset_revision, result.metric_value) == (
        "NCSOFT/K-MMBench",
        "abc123",
        71.25,
    )
    assert meta["model-index"][0]["results"][0]["source"] == {"url": URL, "name": "kobench"}


def test_two_tasks_on_one_dataset_are_two_results():
    a = task_result("chart-qa", value=50.0)
    b = task_result("chart-mc", value=60.0)
    b = b.model_copy(update={"dataset": a.dataset})  # same Hub id, split, revision
    card = card_of(build_model_index([run_result("m", [a, b])], url=URL).to_yaml())
    assert sorted((r.dataset_name, r.metric_value) for r in card.data.eval_results) == [
        ("chart-mc", 60.0),
        ("chart-qa", 50.0),
    ]


def test_incomplete_tasks_are_left_out_and_said_so():
    run = run_result("m", [task_result("done", value=50.0), task_result("half", value=10.0, complete=False)])
    index = build_model_index([run], url=URL)
    assert index.skipped == {"half": "incomplete run"}
    assert [r.dataset_name for r in card_of(index.to_yaml()).data.eval_results] == ["done"]
    with pytest.raises(BadInputError, match="half: incomplete run"):
        build_model_index([run_result("m", [task_result("half", value=1.0, complete=False)])], url=URL)


def test_one_model_per_block():
    runs = [run_result("a", [task_result("t", value=1.0)]), run_result("b", [task_result("t", value=2.0)])]
    with pytest.raises(BadInputError, match="one model; these results hold 2: a, b"):
        build_model_index(runs, url=URL)


def test_protocol_pipeline():
    index = build_model_index([run_result("m", [task_result("t", value=40.0)])], pipeline="protocol", url=URL)
    (result,) = card_of(index.to_yaml()).data.eval_results
    assert (result.metric_config, result.metric_name) == ("protocol", "accuracy (published protocol parser)")


CARD = """\
---
# the team's own front matter, with a comment and flow style
license: apache-2.0
language: [ko, en]
model-index:
- name: my-vlm
  results:
  - task: {type: image-text-to-text}
    dataset: {name: ChartQA, type: HuggingFaceM4/ChartQA}
    metrics:
    - {type: relaxed_accuracy, value: 79.8}
    source: {name: lmms-eval, url: https://github.com/EvolvingLMMs-Lab/lmms-eval}
  - task: {type: visual-question-answering}
    dataset: {name: old, type: x/old}
    metrics:
    - {type: accuracy, value: 1.0}
    source: {name: kobench, url: https://example.org/old}
- name: another-model
  results: []
pipeline_tag: image-text-to-text
---
# My VLM

| Category | Benchmark | my-vlm |
|---|---|---|
"""


def test_merge_rewrites_only_the_model_index_key():
    index = build_model_index(
        [run_result("m", [task_result("k-seed", value=66.0)])], model_name="my-vlm", url=URL
    )
    new = merge_into_card(CARD, index)
    head = CARD.split("model-index:\n", 1)[0]
    tail = CARD.split("- name: another-model\n  results: []\n", 1)[1]
    assert new.startswith(head)  # the comment and the keys before it, byte for byte
    assert new.endswith(tail)  # the key after it, the closing line and the card's text, byte for byte
    card = ModelCard(new)
    assert card.data.license == "apache-2.0" and card.data.language == ["ko", "en"]
    meta = yaml.safe_load(new.split("---\n")[1])
    mine, other = meta["model-index"]
    assert other == {"name": "another-model", "results": []}
    sources = [(r["source"]["name"], r["dataset"]["name"]) for r in mine["results"]]
    assert sources == [("lmms-eval", "ChartQA"), ("kobench", "k-seed")]  # kobench's old result replaced
    assert merge_into_card(new, index) == new  # a second merge changes nothing


def test_merge_into_a_card_without_front_matter_or_model_index():
    index = build_model_index([run_result("m", [task_result("t", value=1.0)])], url=URL)
    plain = "# A card\n\ntext\n"
    new = merge_into_card(plain, index)
    assert new.endswith("---\n" + plain)
    assert ModelCard(new).data.model_name == "m"
    keyed = "---\r\nlicense: mit\r\n---\r\nbody\r\n"  # Windows line ends stay Windows line ends
    merged = merge_into_card(keyed, index)
    assert merged.startswith("---\r\nlicense: mit\r\nmodel-index:\r\n- name: m\r\n")
    assert merged.endswith("\r\n---\r\nbody\r\n") and "\n" not in merged.replace("\r\n", "")
    assert ModelCard(merged).data.license == "mit"


def test_broken_front_matter_is_left_alone(tmp_path):
    index = build_model_index([run_result("m", [task_result("t", value=1.0)])], url=URL)
    with pytest.raises(BadInputError, match="not YAML"):
        merge_into_card("---\nlicense: [unclosed\n---\n", index)
    with pytest.raises(BadInputError, match="not a list"):
        merge_into_card("---\nmodel-index: {name: x}\n---\n", index)


def test_update_card_in_place(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(CARD, encoding="utf-8")
    index = build_model_index([run_result("m", [task_result("t", value=1.0)])], model_name="my-vlm", url=URL)
    assert update_card(path, index) is True
    assert update_card(path, index) is False
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    with pytest.raises(BadInputError, match="cannot read"):
        update_card(tmp_path / "missing.md", index)
