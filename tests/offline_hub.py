"""A Hugging Face cache laid out as the Hub client writes it (models--ORG--NAME/snapshots/<commit>/,
refs/main), used offline: for tests of what kobench does with a Hub model's commit, where no Hub is
reachable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def offline_hub(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    """The Hub client (and transformers through it) offline, reading the cache at `root`."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(root))
    return root


def cached_model(root: Path, repo_id: str, snapshots: dict[str, Path | None], main: str) -> Path:
    """`repo_id` in the cache at `root`: each commit's snapshot a copy of its folder (None: an empty one),
    refs/main naming `main`. Returns the repository's folder."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    for commit, folder in snapshots.items():
        if folder is None:
            (repo / "snapshots" / commit).mkdir(parents=True)
        else:
            shutil.copytree(folder, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(main)
    return repo
