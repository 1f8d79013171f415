"""The two ANLS rules in a run: both reported, the primary one named in the signature (so numbers under
different rules never look comparable), and answers saved before anls_lmms existed still resume."""

from __future__ import annotations

import json
from pathlib import Path

from kobench.api import evaluate
from kobench.families import FAMILIES, load_tasks, primary_metric
from kobench.report.signatures import signature_differences, signature_parts, signatures_agree
from kobench.results import DatasetInfo
from kobench.run.aggregate import signature
from kobench.tasks.spec import TaskSpec

TASKS = load_tasks()


def test_doc_tasks_primaries() -> None:
    primaries = {name: primary_metric(TASKS[name]) for name in ("kobizdoc", "kobizdoc-synth")}
    assert primaries == {"kobizdoc": "anls", "kobizdoc-synth": "anls"}
    assert (
        primary_metric(TASKS["ko-chartqa"]) == primary_metric(TASKS["ko-chart-synth"]) == "relaxed_accuracy"
    )


def _signature(task: TaskSpec) -> str:
    metric = next(m for m in FAMILIES[task.family].metrics if m.name == primary_metric(task))
    dataset = DatasetInfo(hub_id="x/y", split="test", origin="here", identity="sha256:abc", revision=None)
    return signature(task, dataset, "1", {"max_new_tokens": 64}, (), "strip@1", metric, "row", ())


def test_the_signature_names_the_rule() -> None:
    paper = TASKS["kobizdoc-synth"]
    lmms = paper.model_copy(update={"primary_metric": "anls_lmms"})
    a, b = _signature(paper), _signature(lmms)
    assert signature_parts(a)["metric"] == "anls@1" and signature_parts(b)["metric"] == "anls_lmms@1"
    assert signature_differences(a, b) == ["metric: anls@1 -> anls_lmms@1"] and not signatures_agree(a, b)


def test_a_folder_written_before_anls_lmms_resumes(tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = evaluate("chance", ["kobizdoc-synth"], limit=4, output=out, cache_dir=cache)
    metrics = first.tasks["kobizdoc-synth"].pipelines["kobench"].metrics
    assert (
        list(metrics)[:2] == ["anls", "anls_lmms"] and first.tasks["kobizdoc-synth"].primary_metric == "anls"
    )
    samples = out / "samples" / "kobizdoc-synth.jsonl"
    rows = [json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines()]
    for row in rows:  # as an earlier kobench wrote them: no anls_lmms, and one answer still to come
        for pipeline in ("protocol", "kobench"):
            del row[pipeline]["anls_lmms"]
    samples.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[:3]), encoding="utf-8")
    again = evaluate("chance", ["kobizdoc-synth"], limit=4, output=out, cache_dir=cache)
    task = again.tasks["kobizdoc-synth"]
    assert task.complete and task.n == 4
    assert task.pipelines["kobench"].metrics["anls_lmms"].n == 4
    assert task.pipelines["kobench"].signature == first.tasks["kobizdoc-synth"].pipelines["kobench"].signature
    rewritten = [json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines()]
    assert all("anls_lmms" in row["kobench"] and "anls_lmms" in row["protocol"] for row in rewritten)
