"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

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
