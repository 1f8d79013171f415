"""dataset.revision: "unpinned" reads the Hub's current commit and records it; the configs of a
many-config task (KMMLU's 45 subjects) are all read at the commit the first one resolved to."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kobench.config import DataOptions, JudgeOptions, ScoringOptions
from kobench.data import loader
from kobench.families import load_tasks
from kobench.run import prepare

MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"
RESOLVED = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The Hub stood in for by the local mirror: each read is recorded, and a read with no revision
    resolves to RESOLVED, as loader._load_hub pins the current commit before loading."""
    calls: list[tuple] = []

    def from_hub(hub_id, split, *, data_dir, revision=None, image_columns=("image",), subset=None):
        assert data_dir is None  # no local copy: the Hub
        calls.append((subset, split, revision))
        table = loader.load_table(hub_id, split, data_dir=MIRRORS, image_columns=image_columns, subset=subset)
        return replace(table, revision=revision or RESOLVED, origin=f"hub {hub_id}@{revision or RESOLVED}")

    monkeypatch.setattr(prepare, "load_table", from_hub)
    return calls


def _prepare(name: str, tmp_path: Path, revision: str | None = None):
    return prepare.prepare_task(
        load_tasks()[name], DataOptions(data_revision=revision), ScoringOptions(), JudgeOptions(), tmp_path
    )


def test_unpinned_reads_the_current_commit_and_records_it(hub, tmp_path: Path) -> None:
    assert load_tasks()["kobalt"].dataset.revision == "unpinned"
    prepared = _prepare("kobalt", tmp_path)
    assert hub == [("kobalt_v1", "raw", None)]  # "unpinned" is no revision the Hub knows
    assert prepared.dataset.revision == RESOLVED


def test_every_config_is_read_at_the_first_ones_commit(hub, tmp_path: Path) -> None:
    prepared = _prepare("kmmlu", tmp_path)
    subjects = load_tasks()["kmmlu"].dataset.subsets
    # test split, then the dev split for few-shot examples, each subject at the resolved commit but the first
    test_reads = [c for c in hub if c[1] == "test"]
    assert [c[0] for c in test_reads] == subjects
    assert test_reads[0][2] is None and {c[2] for c in test_reads[1:]} == {RESOLVED}
    assert prepared.dataset.revision == RESOLVED


def test_a_revision_given_is_read_for_every_config(hub, tmp_path: Path) -> None:
    _prepare("haerae", tmp_path, revision="v1.1")
    assert {c[2] for c in hub} == {"v1.1"}
