"""RunConfig: every setting of a run in one object (the CLI and the Python API both build one)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelOptions:
    """Adapter options from the command line; `output_settings` are the ones that change outputs."""

    dtype: str = "auto"
    device: str = "auto"
    trust_remote_code: bool = False
    revision: str | None = None
    batch_size: int = 8
    extra: dict[str, Any] = field(default_factory=dict)
    # API adapters: how to reach the server; none of these changes an answer, so none is in the cache key.
    concurrency: int = 8
    api_key_env: str = "OPENAI_API_KEY"
    request_timeout: float = 120.0

    def output_settings(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "device": self.device,
            "revision": self.revision,
            "trust_remote_code": self.trust_remote_code,
            **self.extra,
        }


def default_cache_dir() -> Path:
    base = os.environ.get("KOBENCH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kobench"
    )
    return Path(base)


@dataclass(frozen=True)
class RunConfig:
    model: str  # ADAPTER:TARGET
    tasks: tuple[str, ...]
    output: Path | None = None  # None: results are returned, nothing is written
    task_dirs: tuple[Path, ...] = ()
    data_dir: Path | None = None
    data_revision: str | None = None
    data_paths: tuple[str, ...] = ()  # "TASK=DIR": run TASK on the user's own data in DIR
    limit: int | None = None
    model_options: ModelOptions = field(default_factory=ModelOptions)
    max_new_tokens: int | None = None  # overrides the prompt version's; recorded in signatures
    prompt_versions: tuple[str, ...] = ()  # "VERSION" for every task that has it, or "TASK=VERSION"
    box_convention: str | None = None  # how the model writes boxes; default: each task's own
    split_files: tuple[str, ...] = ()  # "TASK=FILE": only the rows whose image FILE lists (Karpathy test)
    embedder: str | None = None  # captioning's sentence-embedding model; default: KR-SBERT
    judge: str | None = None  # MODEL@BASE_URL of the LLM judge for judged tasks (never a default)
    judge_api_key_env: str = "OPENAI_API_KEY"  # the judge's key is read from this variable, never stored
    judge_concurrency: int = 16
    max_failed_judgements: float = 0.05  # a judged task with a larger failed share is incomplete
    cache_dir: Path = field(default_factory=default_cache_dir)
    use_cache: bool = True
    overwrite: bool = False
    max_failed_share: float = 0.05
    progress: bool = True

    def arguments(self) -> dict:
        """What the results record as the run's arguments (paths as strings)."""
        return {
            "model": self.model,
            "tasks": list(self.tasks),
            "output": str(self.output) if self.output else None,
            "task_dirs": [str(p) for p in self.task_dirs],
            "data_dir": str(self.data_dir) if self.data_dir else None,
            "data_revision": self.data_revision,
            "data_paths": list(self.data_paths),
            "limit": self.limit,
            "batch_size": self.model_options.batch_size,
            "model_options": self.model_options.output_settings(),
            "max_new_tokens": self.max_new_tokens,
            "prompt_versions": list(self.prompt_versions),
            "split_files": list(self.split_files),
            "embedder": self.embedder,
            "judge": self.judge,
            "judge_api_key_env": self.judge_api_key_env,
            "max_failed_judgements": self.max_failed_judgements,
            "use_cache": self.use_cache,
            "max_failed_share": self.max_failed_share,
        }
