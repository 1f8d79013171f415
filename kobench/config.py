"""RunConfig: every setting of a run in one validated, frozen object (the CLI and the Python API both
build one). A bad value is refused here, before any work, naming the option (`--batch-size`); from then
on each setting travels as a typed value.

    RunConfig
      model, tasks, output
      data: DataOptions        where the rows come from, how many
      options: ModelOptions    how the adapter runs (dtype, device, batch size, concurrency)
      scoring: ScoringOptions  prompt version, generation length, box convention, embedder
      judge: JudgeOptions      the LLM judge of judged tasks (its endpoint parsed once)
      policy: Policy           cache, overwrite, the failed-row threshold, progress
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kobench.errors import BadInputError
from kobench.extract.boxes import CONVENTIONS
from kobench.llm.endpoint import Endpoint

Dtype = Literal["auto", "float32", "bfloat16", "float16"]
BoxConvention = Literal["normalized", "qwen2vl", "pixels"]
GenerationDefaults = Literal["greedy", "card", "checkpoint"]
DeviceMap = Literal["auto", "balanced", "balanced_low_0", "sequential"]
Modality = Literal["text", "image"]
assert set(BoxConvention.__args__) == set(CONVENTIONS), "the box conventions extract/boxes.py reads"


def default_cache_dir() -> Path:
    base = os.environ.get("KOBENCH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kobench"
    )
    return Path(base)


class _Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


def _folder(path: Path) -> Path:
    """--output and --cache-dir name folders (made when missing): an existing file there is refused."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file, not a folder")
    return path


def _pairs(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    """`TASK=VALUE` entries (--data-path, --split-file): the shape is checked where it enters."""
    for entry in values:
        name, sep, value = entry.partition("=")
        if not (name and sep and value):
            raise ValueError(f"{entry!r}: expected TASK={what}")
    return values


class DataOptions(_Options):
    task_dirs: tuple[Path, ...] = ()
    data_dir: Path | None = None
    data_revision: str | None = None
    data_paths: tuple[str, ...] = ()  # "TASK=DIR": run TASK on the user's own data in DIR
    split_files: tuple[str, ...] = ()  # "TASK=FILE": only the rows whose image FILE lists (Karpathy test)
    limit: int | None = Field(default=None, ge=1)

    _data_paths = field_validator("data_paths")(lambda v: _pairs(v, "DIR"))
    _split_files = field_validator("split_files")(lambda v: _pairs(v, "FILE"))


class VLLMOptions(_Options):
    """The `vllm:` adapter's engine (kobench.models.vllm_engine): vLLM's server options, passed through."""

    python: str | None = None  # a Python with vLLM (default: $KOBENCH_VLLM_PYTHON, else this one)
    tensor_parallel_size: int = Field(default=1, ge=1)
    pipeline_parallel_size: int = Field(default=1, ge=1)
    data_parallel_size: int = Field(default=1, ge=1)
    max_model_len: int | None = Field(default=None, ge=1)
    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    limit_mm_per_prompt: str | None = None  # vLLM's JSON, e.g. '{"image": 4}'
    chat_template_content_format: Literal["auto", "string", "openai"] | None = None
    engine_args: tuple[str, ...] = ()  # further `vllm serve` arguments, as they are
    start_timeout: float = Field(default=900.0, gt=0)


class ModelOptions(_Options):
    """Adapter options; `output_settings` are the ones that change outputs (recorded, and in cache keys)."""

    dtype: Dtype = "auto"
    device: str = "auto"
    trust_remote_code: bool = False
    revision: str | None = None
    batch_size: int | Literal["auto"] = 8  # auto: halved from 64 on out-of-memory (hf on CUDA)
    # hf: shard the model over the GPUs (accelerate's device maps); None: all of it on `device`.
    device_map: DeviceMap | None = None
    extra: dict[str, Any] = {}
    # hf, per model family (kobench.models.family_settings): image resolution, a system prompt for requests
    # that have none, the model card's generation settings. Unset: the checkpoint's processor as it ships,
    # no system prompt, kobench's greedy decoding.
    min_pixels: int | None = Field(default=None, ge=1)
    max_pixels: int | None = Field(default=None, ge=1)
    max_tiles: int | None = Field(default=None, ge=1)
    system_prompt: str | None = None
    generation_defaults: GenerationDefaults = "greedy"
    # API adapters: how to reach the server; none of these changes an answer, so none is in the cache key.
    # Requests in flight: "auto" adapts to the server (from 8, at most max_concurrency), a number is fixed.
    # Unset, the most is 64 a server: 64 for each of a vllm: engine's data-parallel replicas.
    concurrency: int | Literal["auto"] = "auto"
    max_concurrency: int | None = Field(default=None, ge=1)
    api_key_env: str = "OPENAI_API_KEY"
    request_timeout: float = Field(default=120.0, gt=0, allow_inf_nan=False)
    # The longest wait a server's Retry-After (429, 503) is granted; a longer one is capped (and logged).
    max_retry_after: float = Field(default=60.0, ge=0, allow_inf_nan=False)
    # API adapters: what the served model takes (a server does not declare it); recorded in the results.
    modalities: tuple[Modality, ...] = ("text", "image")
    vllm: VLLMOptions = VLLMOptions()

    @field_validator("batch_size", "concurrency", mode="before")
    @classmethod
    def _auto_or_count(cls, value: Any) -> Any:
        # The command line gives a string: "auto", or a number of requests.
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        elif isinstance(value, str) and value.strip() != "auto":
            raise ValueError("must be auto or a number of requests")
        if isinstance(value, int) and value < 1:
            raise ValueError(f"must be at least 1 (or auto), not {value}")
        return value

    @field_validator("modalities")
    @classmethod
    def _text_always(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "text" not in value:
            raise ValueError("every model takes text: give text or text,image")
        return tuple(dict.fromkeys(value))

    def output_settings(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "device": self.device,
            "revision": self.revision,
            "trust_remote_code": self.trust_remote_code,
            **self.family_settings(),
            **self.extra,
        }

    def family_settings(self) -> dict[str, Any]:
        """The per-family settings given (only those: a run without any keeps the cache keys it had)."""
        given: dict[str, Any] = {
            name: getattr(self, name)
            for name in ("min_pixels", "max_pixels", "max_tiles", "system_prompt")
            if getattr(self, name) is not None
        }
        if self.generation_defaults != "greedy":
            given["generation_defaults"] = self.generation_defaults
        return given


class ScoringOptions(_Options):
    prompt_versions: tuple[str, ...] = ()  # "VERSION" for every task that has it, or "TASK=VERSION"
    max_new_tokens: int | None = Field(default=None, ge=1)  # overrides the prompt version's; in signatures
    box_convention: BoxConvention | None = None  # how the model writes boxes; default: each task's own
    embedder: str | None = None  # captioning's sentence-embedding model; default: KR-SBERT
    # The most characters a rendered prompt may have (None: kobench.tasks.sandbox.MAX_PROMPT_CHARS, 200,000);
    # a longer one stops the run before any work, naming the row.
    max_prompt_chars: int | None = Field(default=None, ge=1)

    def check_prompt_versions(self, versions: Mapping[str, Iterable[str]]) -> None:
        """A bare `--prompt-version V` that none of the tasks run has (a typo) is refused, not quietly
        replaced by each task's default; `versions`: each task's prompt versions."""
        bare = [v for v in self.prompt_versions if "=" not in v]
        unknown = [v for v in bare if not any(v in vs for vs in versions.values())]
        if unknown:
            have = "; ".join(f"{task}: {', '.join(vs)}" for task, vs in versions.items())
            raise BadInputError(
                f"--prompt-version {', '.join(unknown)}: no task being run has this prompt version ({have})"
            )


class JudgeOptions(_Options):
    endpoint: Endpoint | None = None  # the LLM judge of judged tasks (never a default)
    concurrency: int = Field(default=16, ge=1)
    max_failed_share: float = Field(default=0.05, ge=0, le=1)  # more failed judgements: task incomplete
    max_retry_after: float = Field(
        default=60.0, ge=0, allow_inf_nan=False
    )  # as the model's (--max-retry-after)

    @property
    def model(self) -> str | None:
        """The judge's model id, as signatures record it."""
        return self.endpoint.model if self.endpoint else None


class Policy(_Options):
    cache_dir: Path = Field(default_factory=default_cache_dir)

    _cache_dir = field_validator("cache_dir")(lambda v: _folder(v))
    use_cache: bool = True
    overwrite: bool = False
    max_failed_share: float = Field(default=0.05, ge=0, le=1)  # more failed rows: the run is incomplete
    # More answers cut off at max_new_tokens than this share in a task: the run is incomplete (None: none).
    max_truncated_share: float | None = Field(default=None, ge=0, le=1)
    progress: bool = True


class RunConfig(_Options):
    model: str  # ADAPTER:TARGET
    tasks: tuple[str, ...]
    output: Path | None = None  # None: results are returned, nothing is written
    data: DataOptions = DataOptions()
    options: ModelOptions = ModelOptions()
    scoring: ScoringOptions = ScoringOptions()
    judge: JudgeOptions = JudgeOptions()
    policy: Policy = Field(default_factory=Policy)

    _output = field_validator("output")(lambda v: _folder(v) if v is not None else v)

    @model_validator(mode="after")
    def _names_tasks_run(self) -> RunConfig:
        """`TASK=...` entries (--data-path, --split-file, --prompt-version) must name a task being run: one
        for another task (or a misspelt one) would otherwise be ignored without a word."""
        running = {t.strip() for t in self.tasks}
        for option, entries in (
            ("--data-path", self.data.data_paths),
            ("--split-file", self.data.split_files),
            ("--prompt-version", self.scoring.prompt_versions),
        ):
            for entry in entries:
                name, sep, _ = entry.partition("=")
                if sep and name not in running:
                    raise ValueError(
                        f"{option} {entry}: {name!r} is not a task being run (--tasks {','.join(self.tasks)})"
                    )
        return self

    def arguments(self) -> dict:
        """What the results record as the run's arguments (a flat dict, as every results file has it)."""
        endpoint = self.judge.endpoint
        return {
            "model": self.model,
            "tasks": list(self.tasks),
            "output": str(self.output) if self.output else None,
            "task_dirs": [str(p) for p in self.data.task_dirs],
            "data_dir": str(self.data.data_dir) if self.data.data_dir else None,
            "data_revision": self.data.data_revision,
            "data_paths": list(self.data.data_paths),
            "limit": self.data.limit,
            "batch_size": self.options.batch_size,
            "model_options": self.options.output_settings(),
            "max_new_tokens": self.scoring.max_new_tokens,
            "prompt_versions": list(self.scoring.prompt_versions),
            "split_files": list(self.data.split_files),
            "embedder": self.scoring.embedder,
            "judge": endpoint.identity() if endpoint else None,
            "judge_api_key_env": endpoint.api_key_env if endpoint else "OPENAI_API_KEY",
            "max_failed_judgements": self.judge.max_failed_share,
            "use_cache": self.policy.use_cache,
            "max_failed_share": self.policy.max_failed_share,
            "max_truncated_share": self.policy.max_truncated_share,
            "modalities": list(self.options.modalities),
        }


# Where a setting is named differently on the command line than in the config.
_OPTION_NAMES = {
    ("judge", "endpoint"): "--judge",
    ("judge", "concurrency"): "--judge-concurrency",
    ("judge", "max_failed_share"): "--max-failed-judgements",
    ("data", "task_dirs"): "--task-dir",
    ("data", "data_paths"): "--data-path",
    ("data", "split_files"): "--split-file",
    ("scoring", "prompt_versions"): "--prompt-version",
    ("policy", "use_cache"): "--no-cache",
    ("options", "revision"): "--model-revision",
}


def option_name(loc: tuple[Any, ...]) -> str:
    """The command-line option a config field comes from: ('options', 'batch_size') -> '--batch-size'."""
    key = tuple(str(part) for part in loc[:2])
    if key in _OPTION_NAMES:
        return _OPTION_NAMES[key]
    field = next((str(p) for p in reversed(loc) if not isinstance(p, int)), "")
    return "--" + field.replace("_", "-")


def build_config(**sections: Any) -> RunConfig:
    """RunConfig from plain values (`data={...}`, `options={...}`, ...); BadInputError naming each bad
    option (the CLI's exit 4 for bad input; typer itself refuses most with exit 2 before this)."""
    try:
        return RunConfig.model_validate(sections)
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors()]
        raise BadInputError("bad settings: " + "; ".join(problems)) from None


def _problem(error: Any) -> str:
    """'--batch-size: must be ...'; a check across options (loc empty) names its options itself."""
    return f"{option_name(tuple(error['loc']))}: {_message(error)}" if error["loc"] else _message(error)


def validated(cls: type[_Options], section: str, **values: Any) -> Any:
    """One section of the settings (`JudgeOptions` for `kobench judge`), with build_config's errors."""
    try:
        return cls.model_validate(values)
    except ValidationError as exc:
        problems = [f"{option_name((section, *e['loc']))}: {_message(e)}" for e in exc.errors()]
        raise BadInputError("bad settings: " + "; ".join(problems)) from None


def _message(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    return message if isinstance(value, dict | BaseModel | Path) else f"{message} (got {value!r})"
