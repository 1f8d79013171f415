"""Every built-in task's every prompt version still renders exactly as its committed snapshot
(tests/snapshots/prompts/<task>/<version>.json): a changed prompt must be a new version, with a snapshot
of its own (`python tests/prompt_snapshots.py` writes the missing ones and never overwrites one). And the
prompt hash in a signature follows the prompt: another template is another `phash:`."""

from __future__ import annotations

import json
from pathlib import Path

import prompt_snapshots
import pytest
from prompt_snapshots import SNAPSHOT_DIR, builtin_tasks, dumps, render_snapshot, snapshot_path, write_new

from kobench.api import evaluate
from kobench.families import FAMILIES
from kobench.report.signatures import signature_differences, signature_parts, signatures_agree
from kobench.results import DatasetInfo
from kobench.run.aggregate import signature
from kobench.tasks.prompt import prompt_hash
from kobench.tasks.spec import TaskSpec

TASKS = {task.name: task for task in builtin_tasks()}
VERSIONS = [(name, version) for name, task in TASKS.items() for version in task.prompt.versions]


@pytest.mark.parametrize(("name", "version"), VERSIONS, ids=[f"{n}@{v}" for n, v in VERSIONS])
def test_every_prompt_version_renders_as_its_snapshot(name: str, version: str) -> None:
    path = snapshot_path(name, version)
    assert path.is_file(), (
        f"{name} prompt version {version!r} has no snapshot: write it with "
        f"`python tests/prompt_snapshots.py` and commit {path.relative_to(Path(__file__).parents[1])}"
    )
    committed = json.loads(path.read_text(encoding="utf-8"))
    fresh = render_snapshot(TASKS[name], version)
    assert fresh == committed, (
        f"{name} prompt version {version!r} no longer renders as its snapshot {path.name}: a published "
        "version's prompt and settings never change; give the changed prompt a new version (and snapshot)"
    )
    assert path.read_text(encoding="utf-8") == dumps(fresh)  # byte for byte, as the script writes it


def test_every_snapshot_is_of_a_version_that_exists() -> None:
    found = {(p.parent.name, p.stem) for p in SNAPSHOT_DIR.glob("*/*.json")}
    assert found - set(VERSIONS) == set(), (
        "a snapshot of a task or version that is gone: versions are never removed"
    )
    assert len(found) >= 20


def test_the_rows_reach_the_edges_the_templates_have() -> None:
    seed = render_snapshot(TASKS["k-mmbench"], "2025-07")["rows"]
    assert "E" in seed[0]["options"] and "E" not in seed[1]["options"]  # an option left out
    ocr = render_snapshot(TASKS["ko-ocr-synth"], "1")["rows"]
    assert ocr[0]["region"] is not None and ocr[1]["region"] is None  # a region and a whole image
    star = render_snapshot(TASKS["k-mmstar"], "lmms-eval-2025")["rows"]
    assert "Please answer yes or no." not in star[3]["messages"][0]["content"][1]["text"]
    assert all(
        "failure" not in row
        for task in TASKS.values()
        if task.modality == "image"  # the snapshot rows are image rows; text tasks: tests/test_text_tasks.py
        for row in render_snapshot(task, task.prompt.default)["rows"]
    )


def _with_version(task: TaskSpec, version: str, **changes: object) -> TaskSpec:
    changed = task.prompt.versions[version].model_copy(update=changes)
    prompt = task.prompt.model_copy(update={"versions": {**task.prompt.versions, version: changed}})
    return task.model_copy(update={"prompt": prompt})


def test_a_changed_template_fails_its_snapshot() -> None:
    task = TASKS["k-seed"]
    committed = json.loads(snapshot_path("k-seed", "2025-07").read_text(encoding="utf-8"))
    template = task.prompt.versions["2025-07"].template
    edited = _with_version(task, "2025-07", template=template.replace("바로", "직접"))
    assert render_snapshot(edited, "2025-07") != committed
    longer = _with_version(task, "2025-07", max_new_tokens=64)
    assert render_snapshot(longer, "2025-07") != committed  # generation settings are part of it
    cited = _with_version(task, "2025-07", source="another citation")
    assert render_snapshot(cited, "2025-07") == committed  # a citation is not


def _signature(task: TaskSpec, version: str) -> str:
    family = FAMILIES[task.family]
    metric = family.metrics[0]
    dataset = DatasetInfo(hub_id="x/y", split="test", origin="here", identity="sha256:abc", revision=None)
    generation = {"max_new_tokens": task.prompt.versions[version].max_new_tokens, "temperature": 0.0}
    return signature(task, dataset, version, generation, (), "p@1", metric, "row", ())


def test_the_signature_hash_changes_with_the_template() -> None:
    task = TASKS["k-seed"]
    before = _signature(task, "2025-07")
    assert signature_parts(before)["phash"] == prompt_hash(task.prompt.versions["2025-07"])
    assert (
        signature_parts(before)["phash"]
        == json.loads(snapshot_path("k-seed", "2025-07").read_text())["phash"]
    )
    template = task.prompt.versions["2025-07"].template
    edited = _with_version(task, "2025-07", template=template + " ")
    after = _signature(edited, "2025-07")
    assert signature_parts(after)["prompt"] == "2025-07"  # the same version name...
    old, new = prompt_hash(task.prompt.versions["2025-07"]), prompt_hash(edited.prompt.versions["2025-07"])
    assert signature_differences(before, after) == [f"phash: {old} -> {new}"]  # ...and still not comparable
    assert not signatures_agree(before, after)
    system = _with_version(task, "2025-07", system="당신은 도우미입니다.")
    assert not signatures_agree(before, _signature(system, "2025-07"))
    stop = _with_version(task, "2025-07", stop=["</s>"])
    assert prompt_hash(stop.prompt.versions["2025-07"]) != prompt_hash(task.prompt.versions["2025-07"])
    cited = _with_version(task, "2025-07", source="another citation")
    assert _signature(cited, "2025-07") == before


def test_a_signature_without_phash_is_unknown_not_different() -> None:
    task = TASKS["k-seed"]
    new = _signature(task, "2025-07")
    old = "|".join(p for p in new.split("|") if not p.startswith("phash:"))  # before kobench recorded it
    assert signatures_agree(old, new)


def test_a_run_signs_its_prompt_hash(tmp_path: Path) -> None:
    result = evaluate("chance", ["kobizdoc-synth"], limit=3, cache_dir=tmp_path / "cache")
    task = TASKS["kobizdoc-synth"]
    for pipeline in result.tasks["kobizdoc-synth"].pipelines.values():
        assert f"|prompt:1|phash:{prompt_hash(task.prompt.versions['1'])}|" in pipeline.signature


def test_new_snapshots_are_written_and_existing_ones_never_overwritten(tmp_path: Path, monkeypatch) -> None:
    committed = snapshot_path("kobizdoc", "1").read_text(encoding="utf-8")
    monkeypatch.setattr(prompt_snapshots, "SNAPSHOT_DIR", tmp_path)
    task = TASKS["kobizdoc"]
    written, problems = write_new([task])
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["kobizdoc/1.json"] and problems == []
    text = (tmp_path / "kobizdoc" / "1.json").read_text(encoding="utf-8")
    assert text == committed
    assert write_new([task]) == ([], [])  # nothing new
    edited = _with_version(task, "1", template="{{ question }}")
    written, problems = write_new([edited])
    assert written == [] and len(problems) == 1 and "new version" in problems[0]
    assert (tmp_path / "kobizdoc" / "1.json").read_text(encoding="utf-8") == text  # refused, not overwritten
