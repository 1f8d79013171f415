"""Shared pytest fixtures, and the extended suites' switch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# pytest-xdist runs a worker per core (scripts/test.sh), and torch's default of a thread per core in each
# would have their OpenMP workers spin-waiting for cores the other workers hold: tiny models ran 5-30x
# slower that way. Set before any test imports torch; kobench leaves a user's OMP_NUM_THREADS alone.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

# --- Extended suites (engines, browsers, soak runs): only with `scripts/test.sh --extended`, as CI runs ---


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("KOBENCH_EXTENDED") == "1":
        # On several workers (scripts/test.sh: --dist loadgroup) the extended suites share one, so two vLLM
        # engines or browsers never compete for the cores and memory.
        for item in items:
            if "extended" in item.keywords:
                item.add_marker(pytest.mark.xdist_group("extended"))
        return
    skip = pytest.mark.skip(reason="an extended suite: run `bash scripts/test.sh --extended` (CI does)")
    for item in items:
        if "extended" in item.keywords:
            item.add_marker(skip)


# --- Tiny random-weight vision-language models, built once per session (seconds, no download) ---


@pytest.fixture(scope="session")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers", reason="the tiny models need transformers")
    from kobench.testing.tiny_models import build_tiny_llava

    return build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"))


@pytest.fixture(scope="session")
def tiny_qwen2_vl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers", reason="the tiny models need transformers")
    pytest.importorskip("torchvision", reason="the Qwen2-VL processor needs torchvision in transformers 5")
    from kobench.testing.tiny_models import build_tiny_qwen2_vl

    return build_tiny_qwen2_vl(tmp_path_factory.mktemp("tiny-qwen2-vl"))


@pytest.fixture(scope="session")
def tiny_qwen2_5_vl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers", reason="the tiny models need transformers")
    pytest.importorskip("torchvision", reason="the Qwen2.5-VL processor needs torchvision in transformers 5")
    from kobench.testing.tiny_models import build_tiny_qwen2_vl

    return build_tiny_qwen2_vl(tmp_path_factory.mktemp("tiny-qwen2-5-vl"), variant="qwen2_5_vl")


@pytest.fixture(scope="session")
def tiny_qwen3_vl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers", reason="the tiny models need transformers")
    pytest.importorskip("torchvision", reason="the Qwen3-VL processor needs torchvision in transformers 5")
    from kobench.testing.tiny_models import build_tiny_qwen2_vl

    return build_tiny_qwen2_vl(tmp_path_factory.mktemp("tiny-qwen3-vl"), variant="qwen3_vl")
