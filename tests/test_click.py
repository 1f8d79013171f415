"""CLIcK as lm-evaluation-harness v0.4.9.2's click group: kobench's requests against the independent
re-implementation (tests/lmeval_reference.py) on the synthetic local mirror, subtask by subtask, with the
rows lm-eval evaluates twice (in two subtasks) and never (in none); and `dataset.subtasks`, the spec field
that expresses lm-eval's per-subtask filters of one split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.errors import BadInputError
from kobench.families import load_tasks
from kobench.results import load_results
from kobench.run.prepare import prepare_task
from kobench.tasks.registry import builtin_task_dir
from kobench.tasks.spec import parse_task
from tests.lmeval_reference import click_subtask_docs, reference_requests

MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"
CLICK = MIRRORS / "EunsuKim" / "CLIcK" / "train.jsonl"
TASK_FILE = builtin_task_dir() / "click.yaml"


def _docs() -> list[dict]:
    return [json.loads(line) for line in CLICK.read_text(encoding="utf-8").splitlines() if line.strip()]


def _prepare(task, version: str, tmp_path: Path, data_dir: Path = MIRRORS):
    return prepare_task(
        task,
        DataOptions(data_dir=data_dir),
        ScoringOptions(prompt_versions=(version,)),
        JudgeOptions(),
        tmp_path,
    )


def _expected(shots: int) -> list[tuple[str, list[tuple[str, str]], int]]:
    """(subtask, pairs, gold) of every request lm-eval builds, subtask after subtask."""
    out = []
    for name, docs in click_subtask_docs(_docs()).items():
        out += [(name, pairs, gold) for pairs, gold in reference_requests("click", docs, None, shots)]
    return out


def test_the_fixture_has_rows_in_two_subtasks_and_in_none():
    # What the comparisons below rely on: without such rows they could not tell a filter from a partition.
    kept = Counter(d["id"] for docs in click_subtask_docs(_docs()).values() for d in docs)
    counts = Counter(kept[d["id"]] for d in _docs())
    assert counts[2] >= 2 and counts[0] >= 2
    assert all(len(docs) >= 6 for docs in click_subtask_docs(_docs()).values())  # 5-shot draws 6


@pytest.mark.parametrize("version,shots", [("lm-eval-5shot", 5), ("lm-eval-0shot", 0)])
def test_requests_match_lm_eval_subtask_by_subtask(tmp_path, version, shots):
    prepared = _prepare(load_tasks()["click"], version, tmp_path)
    expected = _expected(shots)
    assert len(prepared.items) == len(expected) == sum(len(d) for d in click_subtask_docs(_docs()).values())
    for item, (subtask, pairs, gold) in zip(prepared.items, expected, strict=True):
        assert item.failure is None, item.failure
        request = item.request
        assert [(request.prompt_text, c) for c in request.continuations] == pairs
        assert item.target == "ABCDE"[gold]
        assert item.fields == {"subtask": subtask, "group": subtask.rsplit("_", 1)[0]}
        assert [letter for letter, _ in item.options] == [c.strip() for _, c in pairs]
    assert prepared.dataset.split == ("train+fewshot:train" if shots else "train")


def test_a_csat_row_scores_five_letters_after_a_prompt_showing_four(tmp_path):
    prepared = _prepare(load_tasks()["click"], "lm-eval-0shot", tmp_path)
    csat = next(d for d in _docs() if d["id"] == "CSAT_korean_22_5")
    [item] = [i for i in prepared.items if f"질문: {csat['question']}\n" in i.request.prompt_text]
    assert item.request.continuations == (" A", " B", " C", " D", " E")
    a, b, c, d, _ = csat["choices"]
    shown = f"A:{a}, B: {b}, C: {c}, D: {d}"  # "A:" without a space, as get_context writes it
    assert item.request.prompt_text.endswith(f"보기:\n{shown}\n정답:")
    assert csat["choices"][4] not in item.request.prompt_text
    assert item.request.prompt_text.startswith("주어진 맥락을 천천히 읽고,")  # it has a paragraph


def test_breakdown_groups_follow_lm_eval_subtasks_and_groups(tmp_path):
    prepared = _prepare(load_tasks()["click"], "lm-eval-0shot", tmp_path)
    subtasks = click_subtask_docs(_docs())
    by_subtask = Counter(i.fields["subtask"] for i in prepared.items)
    assert by_subtask == {name: len(docs) for name, docs in subtasks.items() if docs}
    by_group = Counter(i.fields["group"] for i in prepared.items)
    assert by_group == {
        "click_cul": sum(len(d) for n, d in subtasks.items() if n.startswith("click_cul_")),
        "click_lang": sum(len(d) for n, d in subtasks.items() if n.startswith("click_lang_")),
    }
    # Subtask after subtask, in the task file's order, each in file order.
    order = [i.fields["subtask"] for i in prepared.items]
    assert order == sorted(order, key=list(subtasks).index)


# --- dataset.subtasks: the spec field ---


def _task_text(replace: tuple[str, str] | None = None) -> str:
    text = TASK_FILE.read_text(encoding="utf-8")
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace, 1)
    return text


def test_a_bad_subtask_expression_names_file_line_and_key():
    text = _task_text(("click_cul_kpop: \"'popular' in id.lower()\"", "click_cul_kpop: \"'popular' in (id\""))
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "click_cul_kpop:" in ln)
    with pytest.raises(BadInputError) as info:
        parse_task(text, "my/click.yaml")
    message = str(info.value)
    assert f"my/click.yaml:{line}: dataset.subtasks.click_cul_kpop:" in message
    assert "not a Jinja expression" in message


def test_no_subtasks_is_an_error_naming_the_field():
    text = _task_text()
    start = text.index("  subtasks:\n")
    end = text.index("columns:\n")
    with pytest.raises(BadInputError, match=r"dataset\.subtasks must name at least one subtask"):
        parse_task(text[:start] + "  subtasks: {}\n" + text[end:], "my/click.yaml")


def test_a_subtask_expression_failing_on_a_row_names_the_task_file_subtask_and_row(tmp_path):
    text = _task_text(("click_cul_law: \"'law' in id.lower()", "click_cul_law: \"'law' in source.lower()"))
    path = tmp_path / "click.yaml"
    path.write_text(text, encoding="utf-8")
    task = parse_task(text, str(path))
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "click_cul_law:" in ln)
    with pytest.raises(BadInputError) as info:
        _prepare(task, "lm-eval-0shot", tmp_path)
    message = str(info.value)
    assert f"{path}:{line}: dataset.subtasks.click_cul_law:" in message
    assert "row 1" in message and "'source' is undefined" in message


def test_a_data_column_named_subtask_is_refused(tmp_path):
    rows = [{**d, "subtask": "x"} for d in _docs()]
    target = tmp_path / "data" / "EunsuKim" / "CLIcK" / "train.jsonl"
    target.parent.mkdir(parents=True)
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(BadInputError, match="a column is named 'subtask', which kobench adds"):
        _prepare(load_tasks()["click"], "lm-eval-0shot", tmp_path, tmp_path / "data")


def test_other_tasks_have_no_subtasks():
    # The field is new: every other built-in task reads its rows as before (mtvqa-ko and cc-ocr-ko keep
    # their Korean subset with one subtask each).
    subtasks = [name for name, task in load_tasks().items() if task.dataset.subtasks]
    assert sorted(subtasks) == ["cc-ocr-ko", "click", "mtvqa-ko"]


# --- end to end ---


@pytest.mark.slow
def test_run_reports_click_as_a_text_task_by_subtask_and_group(tmp_path):
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
            "click",
            "--data-dir",
            str(MIRRORS),
            "--output",
            str(out),
            "--no-cache",
        ],
    )
    assert result.exit_code == 0, result.output
    task = load_results(out / "results.json").tasks["click"]
    subtasks = click_subtask_docs(_docs())
    assert task.modality == "text" and task.prompt_version == "lm-eval-5shot"
    assert task.n == task.n_rows == sum(len(d) for d in subtasks.values()) and task.n_failed == 0
    for pipeline in task.pipelines.values():
        assert set(pipeline.metrics) >= {"accuracy", "accuracy_norm"}
        by_subtask = pipeline.breakdown["subtask"]
        assert {name: g.n for name, g in by_subtask.items()} == {n: len(d) for n, d in subtasks.items()}
        groups = pipeline.breakdown["group"]
        assert set(groups) == {"click_cul", "click_lang"}
        # lm-eval's click groups: the mean over subtasks weighted by their size (weight_by_size).
        for group, value in groups.items():
            parts = [g for name, g in by_subtask.items() if name.startswith(f"{group}_")]
            assert value.n == sum(g.n for g in parts)
            assert value.value == pytest.approx(sum(g.value * g.n for g in parts) / value.n)
        overall = sum(g.value * g.n for g in by_subtask.values()) / task.n
        assert pipeline.metrics["accuracy"].value == pytest.approx(overall)
