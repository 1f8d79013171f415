"""Captioning end to end: a scripted model on the generated set, scores checked against pycocoevalcap
run directly, per-sample alignment, unparsed captions, and the checks that stop a run before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripted_model import ScriptedModel, register
from test_caption_data import aihub_copy

from kobench.api import evaluate
from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.errors import BadInputError
from kobench.families import resolve_tasks
from kobench.results import load_results
from kobench.run.prepare import prepare_task

pytest.importorskip("kiwipiepy")
pytest.importorskip("pycocoevalcap")
OFFLINE = "builtin:use-multilingual-v3"
TASK = "ko-caption-synth"
BLIND = "여러 가지 색깔의 물체가 그려져 있는 그림이다."


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("caption-cache")


@pytest.fixture(scope="module")
def references(cache: Path) -> dict[str, list[str]]:
    spec = resolve_tasks([TASK], ())[0]
    prepared = prepare_task(spec, DataOptions(), ScoringOptions(embedder=OFFLINE), JudgeOptions(), cache)
    return {item.id: list(item.target) for item in prepared.items}


def _run(monkeypatch, cache: Path, script, out: Path | None = None, **kw):
    model = ScriptedModel(script)
    register(monkeypatch, model)
    kw.setdefault("embedder", OFFLINE)
    return evaluate("scripted:x", TASK, cache_dir=cache, use_cache=False, output=out, **kw), model


def test_paraphrase_beats_blind_caption_on_every_metric_and_matches_pycocoevalcap(
    monkeypatch, cache: Path, references: dict[str, list[str]], tmp_path: Path
) -> None:
    # A true description of each image (one of its references) against one that ignores the image.
    good, _ = _run(monkeypatch, cache, lambda r: references[r.id][-1], out=tmp_path / "good")
    blind, _ = _run(monkeypatch, cache, lambda r: BLIND, out=tmp_path / "blind")
    g = good.tasks[TASK].pipelines["kobench"].metrics
    b = blind.tasks[TASK].pipelines["kobench"].metrics
    assert next(iter(g)) == "cider_d" and good.tasks[TASK].primary_metric == "cider_d"
    for name in ("cider_d", "bleu_1", "bleu_2", "bleu_3", "bleu_4", "rouge_l", "meteor", "embedding_cosine"):
        assert g[name].value > b[name].value, name
        assert g[name].ci_low <= g[name].value <= g[name].ci_high, name
    assert g["cider_d"].value > 100 and b["cider_d"].value < 20

    # Independent check: pycocoevalcap's Cider and Bleu on the same morphemes, in a shuffled order.
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    from kobench.metrics.morphemes import default_tokenizer

    samples = [json.loads(line) for line in (tmp_path / "good" / "samples" / f"{TASK}.jsonl").open()]
    samples.reverse()
    tok = default_tokenizer()
    gts = {s["id"]: tok.tokenize(s["target"]) for s in samples}
    res = {s["id"]: tok.tokenize([s["kobench"]["caption"]]) for s in samples}
    cider, per_image = Cider().compute_score(gts, res)
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    assert g["cider_d"].value == pytest.approx(100 * cider, abs=1e-6)
    assert g["bleu_4"].value == pytest.approx(100 * bleu[3], abs=1e-6)
    for sample, expected in zip(samples, per_image, strict=True):  # Cider iterates gts in key order
        assert sample["kobench"]["cider_d"] == pytest.approx(expected, abs=1e-9)
        assert sample["score"] == sample["kobench"]["cider_d"]
    assert {"bleu_4", "rouge_l", "meteor", "embedding_cosine"} <= set(samples[0]["protocol"])
    signature = good.tasks[TASK].pipelines["kobench"].signature
    assert "tok:kiwi-morph@" in signature and "meteor:" in signature and f"embedder:{OFFLINE}" in signature


def test_empty_and_cut_off_captions_are_counted_unparsed(monkeypatch, cache: Path, references) -> None:
    ids = sorted(references)

    def script(request):
        n = ids.index(request.id)
        if n % 10 == 0:
            return ""
        if n % 10 == 1:
            return "<think>그림을 살펴보면"  # reasoning that never closed
        return references[request.id][0]

    result, _ = _run(monkeypatch, cache, script)
    task = result.tasks[TASK]
    kob, proto = task.pipelines["kobench"], task.pipelines["protocol"]
    assert kob.n_unparsed == 30 and proto.n_unparsed == 15  # the protocol scores the cut-off text as written
    assert task.n == 150 and task.n_failed == 0


def test_coco_ko_failed_rows_are_counted(monkeypatch, cache: Path, tmp_path: Path) -> None:
    root = aihub_copy(tmp_path / "data")
    script = {f"val2014/COCO_val2014_{n:012d}.jpg": "자전거를 탄 남자가 있다." for n in (391895, 522418)}
    register(monkeypatch, ScriptedModel(lambda r: script.get(r.id)))
    result = evaluate(
        "scripted:x",
        "coco-ko",
        cache_dir=cache,
        use_cache=False,
        data_dir=root,
        embedder=OFFLINE,
        output=tmp_path / "coco",
    )
    task = result.tasks["coco-ko"]
    # Row 3 has no Korean captions (failed before the model), row 4 no scripted answer (a model error).
    assert task.n_rows == 4 and task.n == 2 and task.n_failed == 2
    assert set(task.failure_reasons) == {"missing reference captions", "scripted failure"}
    saved = load_results(tmp_path / "coco" / "results.json")
    assert saved.tasks["coco-ko"].units.ids == [
        f"val2014/COCO_val2014_{n:012d}.jpg" for n in (391895, 522418)
    ]


def test_missing_java_stops_before_the_model_is_asked(monkeypatch, cache: Path, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no java anywhere
    model = ScriptedModel(lambda r: "x")
    register(monkeypatch, model)
    with pytest.raises(BadInputError, match=r"Java runtime.*default-jre-headless"):
        evaluate("scripted:x", TASK, cache_dir=cache, use_cache=False, embedder=OFFLINE)
    assert model.calls == []


def test_unloadable_embedder_stops_before_the_model_is_asked(
    monkeypatch, cache: Path, tmp_path: Path
) -> None:
    model = ScriptedModel(lambda r: "x")
    register(monkeypatch, model)
    with pytest.raises(BadInputError, match="--embedder"):
        evaluate(
            "scripted:x", TASK, cache_dir=cache, use_cache=False, embedder=str(tmp_path / "no-such-model")
        )
    assert model.calls == []


def test_score_command_rescores_captions_made_elsewhere(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kobench.cli import app

    root = aihub_copy(tmp_path / "data")
    lines = [
        {"id": "val2014/COCO_val2014_000000391895.jpg", "prediction": "자전거를 탄 남자 0."},
        {"id": "val2014/COCO_val2014_000000522418.jpg", "prediction": "고양이가 잔다."},
    ]
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    args = ["score", "--task", "coco-ko", "--predictions", answers, "--data-dir", root, "--embedder", OFFLINE]
    result = CliRunner().invoke(app, [str(a) for a in [*args, "--output", tmp_path / "out"]])
    assert result.exit_code == 5, result.output  # 2 of 4 rows failed: above the 5% threshold
    samples = {s["id"]: s for s in map(json.loads, (tmp_path / "out" / "samples" / "coco-ko.jsonl").open())}
    exact = samples["val2014/COCO_val2014_000000391895.jpg"]["kobench"]
    other = samples["val2014/COCO_val2014_000000522418.jpg"]["kobench"]
    assert exact["bleu_1"] == pytest.approx(1.0) and exact["meteor"] > other["meteor"]
    assert exact["rouge_l"] == pytest.approx(1.0) and other["rouge_l"] < 0.5
