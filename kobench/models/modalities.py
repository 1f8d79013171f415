"""What a transformers model accepts, read from its config files without loading it (or torch): images when
its config has a vision tower or its processor an image processor, else text only. So a text-only model is
refused an image task before any work, instead of answering questions about images it never sees.

Remote-code VLMs loaded through AutoModelForCausalLM (HyperCLOVAX-SEED-Vision, Qwen-VL) are found the same
way: their configs name a vision tower too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEXT = frozenset({"text"})
TEXT_AND_IMAGE = frozenset({"text", "image"})

# Config keys that mean a vision tower: transformers' multimodal configs (`vision_config`: LLaVA, Qwen2-VL,
# Idefics, PaliGemma, Gemma 3, InternVL, and most remote-code VLMs), original LLaVA repos
# (`mm_vision_tower`), Qwen-VL's remote code (`visual`).
VISION_CONFIG_KEYS = ("vision_config", "mm_vision_tower", "vision_tower", "visual")
# Keys only an image processor's config has (an audio feature extractor shares the file name, not these).
IMAGE_PROCESSOR_KEYS = ("image_processor_type", "image_mean", "crop_size", "patch_size", "image_size")
PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")


def hf_accepts(path_or_id: str, revision: str | None = None) -> frozenset[str]:
    """{"text", "image"} or {"text"} for a local folder or a Hub model (its files from the Hub or its cache);
    a model whose config cannot be read is assumed to take both (loading it will say what is wrong)."""
    config = _read(path_or_id, "config.json", revision)
    if config is None:
        return TEXT_AND_IMAGE
    if _has_vision_tower(config):
        return TEXT_AND_IMAGE
    for name in PROCESSOR_FILES:
        processor = _read(path_or_id, name, revision)
        if processor is not None and _has_image_processor(processor):
            return TEXT_AND_IMAGE
    return TEXT


def config_model_type(path_or_id: str, revision: str | None = None) -> str | None:
    """The `model_type` its config.json names, None where it cannot be read."""
    config = _read(path_or_id, "config.json", revision)
    model_type = config.get("model_type") if config else None
    return model_type if isinstance(model_type, str) else None


def config_architectures(path_or_id: str, revision: str | None = None) -> list[str]:
    """The `architectures` its config.json names ([] where it cannot be read)."""
    config = _read(path_or_id, "config.json", revision)
    names = config.get("architectures") if config else None
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _has_vision_tower(config: dict[str, Any]) -> bool:
    return any(config.get(key) for key in VISION_CONFIG_KEYS)


def _has_image_processor(processor: dict[str, Any]) -> bool:
    nested = processor.get("image_processor")  # processor_config.json of newer transformers
    return any(key in processor for key in IMAGE_PROCESSOR_KEYS) or isinstance(nested, dict)


def _read(path_or_id: str, name: str, revision: str | None) -> dict[str, Any] | None:
    folder = Path(path_or_id).expanduser()
    path: Path | None = folder / name if folder.is_dir() else _hub_file(path_or_id, name, revision)
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _hub_file(repo_id: str, name: str, revision: str | None) -> Path | None:
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id, name, revision=revision))
    except Exception:  # not in the repo, offline and not cached, no such model: nothing to read
        return None
