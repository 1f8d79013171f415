"""KMMLU-Hard (tasks/kmmlu-hard.yaml): kobench against an independent re-implementation of
lm-evaluation-harness v0.4.9.2's kmmlu hard/ and direct_hard/ tasks (tests/lmeval_reference.py), on the
synthetic local mirror of all 45 subject configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripted_model import ScriptedModel, register

from kobench.api import evaluate
from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.families import FAMILIES, load_tasks
from kobench.results import load_results
from kobench.run.prepare import prepare_task
from tests.lmeval_reference import (
    KMMLU_DIRECT_HARD_TASKS,
    KMMLU_HARD_GROUPS,
    KMMLU_HARD_TASKS,
    reference_cut_at_until,
    reference_exact_match,
    reference_generate_requests,
    reference_requests,
)

MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"
ROOT = MIRRORS / "HAERAE-HUB" / "KMMLU-HARD"
TASK = "kmmlu-hard"
# kobench's names for lm-eval's four groups (kmmlu_hard_<group>), as tasks/kmmlu.yaml names KMMLU's.
LABELS = {"stem": "STEM", "applied_science": "Applied Science", "humss": "HUMSS", "other": "Other"}
N_TEST = 3  # test rows per subject in the mirror


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _split(subject: str, split: str) -> list[dict]:
    return _rows(ROOT / subject / f"{split}.jsonl")


def _prepared(version: str, tmp_path: Path):
    return prepare_task(
        load_tasks()[TASK],
        DataOptions(data_dir=MIRRORS),
        ScoringOptions(prompt_versions=(version,)),
        JudgeOptions(),
        tmp_path,
    )


def test_subjects_are_lm_evals_in_its_order() -> None:
    task = load_tasks()[TASK]
    assert task.dataset.subsets == list(KMMLU_HARD_GROUPS)
    assert len(task.dataset.subsets) == 45
    assert [f"kmmlu_hard_{s}" for s in task.dataset.subsets] == list(KMMLU_HARD_TASKS)
    assert [f"kmmlu_direct_hard_{s}" for s in task.dataset.subsets] == list(KMMLU_DIRECT_HARD_TASKS)
    assert task.dataset.hub_id == "HAERAE-HUB/KMMLU-HARD" and task.dataset.fewshot_split == "dev"
    assert task.modality == "text" and task.prompt.default == "lm-eval-5shot"
    assert sorted(p.name for p in ROOT.iterdir()) == sorted(KMMLU_HARD_GROUPS)  # the mirror has them all


@pytest.mark.parametrize("version,shots", [("lm-eval-5shot", 5), ("lm-eval-0shot", 0)])
def test_loglikelihood_requests_match_lm_eval(tmp_path, version, shots):
    prepared = _prepared(version, tmp_path)
    expected = []
    for subject in KMMLU_HARD_GROUPS:
        test, dev = _split(subject, "test"), _split(subject, "dev")
        expected += reference_requests(f"kmmlu_hard_{subject}", test, dev, shots)
    assert len(prepared.items) == len(expected) == 45 * N_TEST
    for item, (pairs, gold) in zip(prepared.items, expected, strict=True):
        assert item.failure is None
        request = item.request
        assert [(request.prompt_text, c) for c in request.continuations] == pairs
        assert item.target == "ABCD"[gold]
    assert prepared.dataset.split == ("test+fewshot:dev" if shots else "test")


def test_five_shots_are_each_subjects_own_dev_rows(tmp_path):
    items = _prepared("lm-eval-5shot", tmp_path).items
    for n, subject in enumerate(KMMLU_HARD_GROUPS):
        dev_questions = [row["question"].strip() for row in _split(subject, "dev")]
        for item in items[n * N_TEST : (n + 1) * N_TEST]:
            shots = item.request.prompt_text.split("\n\n")[:-1]
            assert len(shots) == 5
            assert sorted(s.split("\nA. ")[0] for s in shots) == sorted(dev_questions)


def test_direct_requests_match_lm_eval(tmp_path):
    prepared = _prepared("lm-eval-direct", tmp_path)
    expected = []
    for subject in KMMLU_HARD_GROUPS:
        expected += reference_generate_requests(f"kmmlu_direct_hard_{subject}", _split(subject, "test"))
    assert len(prepared.items) == len(expected) == 45 * N_TEST
    generation = prepared.generation.as_dict()
    for item, want in zip(prepared.items, expected, strict=True):
        assert item.failure is None
        request = item.request
        assert [m.role for m in request.messages] == ["user"] and request.continuations == ()
        assert request.prompt_text == want.context
        assert item.target == want.target
        assert generation["stop"] == list(want.until)
        assert generation["max_new_tokens"] == want.max_gen_toks == 256
        assert generation["temperature"] == want.temperature == 0.0 and not want.do_sample
    assert prepared.spec.scoring.protocol_parser == "lm-eval-exact-match"


# Generations as a model might write them, before the stop strings cut them.
GENERATIONS = [
    "{t}",
    " {t}",
    "{t}.",
    "{t}. 정답입니다",
    "({t})",
    "{l}",
    "{t}\n\nQ: 다음 문제",
    "{t} 입니다",
    "{t}\n",
    "{w}",
    "정답은 {t}",
    "",
    "Ｂ",
    "{t}{t}",
    "Q: {t}",
]


def test_direct_scores_as_lm_evals_exact_match(tmp_path):
    prepared = _prepared("lm-eval-direct", tmp_path)
    family = FAMILIES[prepared.spec.family]
    stops = prepared.generation.as_dict()["stop"]
    subjects = [s for s in KMMLU_HARD_GROUPS for _ in range(N_TEST)]
    checked = 0
    for item, subject in list(zip(prepared.items, subjects, strict=True))[:12]:
        target = item.target
        wrong = "A" if target != "A" else "B"
        for pattern in GENERATIONS:
            raw = pattern.format(t=target, l=target.lower(), w=wrong)
            text = reference_cut_at_until(raw, stops)
            want = reference_exact_match(f"kmmlu_direct_hard_{subject}", text, target)
            got = family.score_answer(prepared.spec, item, text, prepared.settings)["protocol"]["score"]
            assert got == want, (raw, text)
            checked += want
    assert checked > 0  # some generations are right, so both kinds of verdict are compared


def test_rows_break_down_by_lm_evals_supercategory_and_subject(tmp_path):
    for version in ("lm-eval-5shot", "lm-eval-direct"):
        items = _prepared(version, tmp_path).items
        subjects = [s for s in KMMLU_HARD_GROUPS for _ in range(N_TEST)]
        assert [i.fields["subset"] for i in items] == subjects
        assert [i.fields["supercategory"] for i in items] == [LABELS[KMMLU_HARD_GROUPS[s]] for s in subjects]
    assert load_tasks()[TASK].columns.breakdown == ["supercategory", "subset"]


def test_scores_by_supercategory_and_subject(monkeypatch, tmp_path):
    # A model right on every STEM question and wrong elsewhere: STEM 100, the other groups 0.
    items = _prepared("lm-eval-direct", tmp_path).items
    wrong = {"A": "B", "B": "A", "C": "A", "D": "A"}
    stem = {item.id for item in items if item.fields["supercategory"] == "STEM"}
    answers = {item.id: item.target if item.id in stem else wrong[item.target] for item in items}
    assert len(answers) == len(items)  # one id per row, across the subjects
    register(monkeypatch, ScriptedModel(lambda request: answers[request.id]))
    result = evaluate(
        "scripted:x",
        TASK,
        data_dir=MIRRORS,
        prompt_versions=("lm-eval-direct",),
        cache_dir=tmp_path / "cache",
        output=tmp_path / "out",
    )
    task = result.tasks[TASK]
    assert task.modality == "text" and task.prompt_version == "lm-eval-direct"
    assert task.n == 45 * N_TEST and task.n_failed == 0
    n_stem = sum(1 for g in KMMLU_HARD_GROUPS.values() if g == "stem")
    for pipeline in ("protocol", "kobench"):
        scored = task.pipelines[pipeline]
        assert scored.metrics["accuracy"].value == pytest.approx(100 * n_stem / 45)
        groups = scored.breakdown["supercategory"]
        assert set(groups) == set(LABELS.values())
        for lm_eval_group, label in LABELS.items():
            n_subjects = sum(1 for g in KMMLU_HARD_GROUPS.values() if g == lm_eval_group)
            assert groups[label].n == N_TEST * n_subjects
            assert groups[label].value == pytest.approx(100.0 if label == "STEM" else 0.0)
        subsets = scored.breakdown["subset"]
        assert set(subsets) == set(KMMLU_HARD_GROUPS)
        for subject, group in KMMLU_HARD_GROUPS.items():
            assert subsets[subject].n == N_TEST
            assert subsets[subject].value == pytest.approx(100.0 if group == "stem" else 0.0)
    assert "parser:lm-eval-exact-match@1" in task.pipelines["protocol"].signature


def test_cli_runs_kmmlu_hard_on_a_tiny_text_model(tmp_path):
    from typer.testing import CliRunner

    from kobench.cli import app
    from kobench.testing.tiny_models import build_tiny_text_lm

    folder = build_tiny_text_lm(tmp_path / "lm")
    out = tmp_path / "out"
    args = ["run", "--model", f"hf:{folder}", "--tasks", TASK, "--data-dir", str(MIRRORS)]
    result = CliRunner().invoke(app, [*args, "--output", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    results = load_results(out / "results.json")
    assert set(results.tasks) == {TASK}
    task = results.tasks[TASK]
    assert task.modality == "text" and task.family == "multiple_choice" and task.category == "Knowledge"
    assert task.prompt_version == "lm-eval-5shot" and task.dataset.split == "test+fewshot:dev"
    assert task.dataset.hub_id == "HAERAE-HUB/KMMLU-HARD"
    assert task.n == 45 * N_TEST and task.n_failed == 0
    scored = task.pipelines["protocol"]
    assert scored.parser == "lm-eval-loglikelihood@1" and scored.n_unparsed == 0
    assert 0.0 <= scored.metrics["accuracy"].value <= 100.0
    assert set(scored.breakdown["subset"]) == set(KMMLU_HARD_GROUPS)
    sizes = {label: N_TEST * list(KMMLU_HARD_GROUPS.values()).count(group) for group, label in LABELS.items()}
    assert {k: v.n for k, v in scored.breakdown["supercategory"].items()} == sizes
