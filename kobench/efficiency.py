"""The efficiency results schema (versioned): what `kobench tokens` and `kobench speed` measure for one
model, in a file of its own beside a run's results.json (`tokens.json`, `speed.json`), so `kobench table`
and `kobench plot` can show an Efficiency category next to the accuracy benchmarks.

Every value says which way is better (fewer tokens, more tokens per second) and the conditions it was
measured under (corpus, image size, batch size, device, dtype), so only like is compared with like.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kobench.errors import BadInputError
from kobench.files.text import read_utf8

EFFICIENCY_SCHEMA_VERSION = "1"
READABLE_EFFICIENCY_VERSIONS = ("1",)
Kind = Literal["tokens", "speed"]
FILE_NAMES: dict[str, str] = {"tokens": "tokens.json", "speed": "speed.json"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EfficiencyValue(_Model):
    """One measured number. `metric` is its kind (tokens_per_1k_characters, tokens_per_1k_morphemes,
    visual_tokens_per_image, ttft_ms, decode_tokens_per_second, latency_p50_ms, latency_p90_ms,
    latency_p99_ms, requests_per_second, peak_memory_mb); `benchmark` the row it is in a table (the metric
    and its condition in words, e.g. "Tokens / 1k chars (constitution)", "Visual tokens (448×448)",
    "Decode tokens/s (batch 1)"), the same words for the same conditions whichever model was measured."""

    metric: str
    benchmark: str
    value: float | None  # None: not measurable for this model (said in `note`)
    unit: str
    direction: Literal["higher", "lower"]
    n: int  # what the value is over: texts, images, requests
    conditions: dict[str, Any] = {}
    note: str | None = None


class EfficiencyResult(_Model):
    schema_version: str = EFFICIENCY_SCHEMA_VERSION
    kind: Kind
    model: str  # the display name, as a run's results name the model (table columns match on it)
    spec: str  # the --model argument
    kobench_version: str
    created_at: str
    environment: dict[str, Any]  # device, dtype, package versions: what makes numbers comparable
    values: list[EfficiencyValue]


def save_efficiency(result: EfficiencyResult, folder: Path) -> Path:
    from kobench.results import write_json_atomic

    path = folder / FILE_NAMES[result.kind]
    write_json_atomic(path, result.model_dump(mode="json"))
    return path


def load_efficiency(path: Path) -> EfficiencyResult:
    import json

    try:
        data = json.loads(read_utf8(path))
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{path}: cannot read it as JSON ({exc})") from exc
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version not in READABLE_EFFICIENCY_VERSIONS:
        raise BadInputError(
            f"{path}: efficiency schema version {version!r}; this kobench reads"
            f" {', '.join(READABLE_EFFICIENCY_VERSIONS)}"
        )
    try:
        return EfficiencyResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInputError(f"{path}: field {where}: {first['msg']}") from exc


def efficiency_files(folder: Path) -> list[Path]:
    """The efficiency files in a results folder."""
    return [folder / name for name in FILE_NAMES.values() if (folder / name).is_file()]


def model_folder(root: Path, model: str) -> Path:
    """ROOT/<model>/ for a model's efficiency file: "Qwen/Qwen2-VL-2B-Instruct" is
    "Qwen--Qwen2-VL-2B-Instruct" (as Hugging Face's cache names repositories); anything but letters,
    digits, ".", "_" and "-" becomes "_"."""
    import re

    name = re.sub(r"[^\w.-]", "_", model.replace("/", "--"), flags=re.ASCII).strip(".")
    return root / (name or "model")
