"""The results schema (versioned) and its atomic read/write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kobench.errors import BadInputError
from kobench.files.temporaries import atomic_file
from kobench.files.text import read_utf8

# 2: a task records why its answers ended (`truncation`) and samples their `finish_reason`.
# 3: a task records its modality (image or text; earlier files had image tasks only), and log-likelihood
# rows their `loglikelihoods`.
# 4: a task records its token accounting (`tokens`), samples their image tokens (`n_image_tokens`).
# Files of every version listed in READABLE_VERSIONS load (fields they lack take their defaults).
SCHEMA_VERSION = "4"
READABLE_VERSIONS = ("1", "2", "3", "4")

Pipeline = Literal["protocol", "kobench"]
PIPELINES: tuple[Pipeline, ...] = ("protocol", "kobench")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricValue(_Model):
    value: float | None  # in the task's scale (percent)
    ci_low: float | None
    ci_high: float | None
    n: int  # scoring units behind the value
    direction: Literal["higher", "lower"] = "higher"


class GroupValue(_Model):
    value: float | None
    n: int


class PipelineResult(_Model):
    parser: str  # name@version of the extractor that turned text into an answer
    label: str  # what this pipeline is, in words (e.g. "published protocol (mmbench-heuristic)")
    metrics: dict[str, MetricValue]  # the task's primary metric first
    n_unparsed: int  # rows whose answer could not be parsed (scored wrong, counted)
    unparsed_share: float
    breakdown: dict[str, dict[str, GroupValue]]  # column -> group -> value
    unit_scores: list[float]  # primary metric per scoring unit, aligned with TaskResult.units.ids
    unit_weights: list[float] | None = None  # for corpus statistics: value = weighted mean of unit_scores
    signature: str


class Units(_Model):
    kind: Literal["row", "question-group"]
    ids: list[str]
    strata: list[str] | None = None  # macro-averaged tasks: the stratum of each unit


class DatasetInfo(_Model):
    hub_id: str
    split: str
    origin: str
    identity: str
    revision: str | None = None


class JudgeInfo(_Model):
    """Who judged a judged task, how, and how many judgements failed (left out of every mean)."""

    model: str | None  # the judge's model id (None: not judged yet)
    prompt_version: str
    temperature: float
    parse: str
    n_judged: int  # rows with a verdict in both pipelines
    n_failed: int  # rows whose judgement failed after every attempt
    failed_share: float
    failure_reasons: dict[str, int]
    max_failed_share: float


class Truncation(_Model):
    """Why each row's answer ended, and how many were cut off: an answer cut at max_new_tokens is scored as
    it is (often unparsed or wrong), so a high share means the number says more about the token budget than
    about the model."""

    finish_reasons: dict[str, int]  # stop / length / error / filtered / unknown (older caches), all rows
    n_truncated: int  # answers that ran to max_new_tokens ("length")
    truncated_share: float  # of the answered rows
    n_unclosed_thinking: int  # answers ending inside an unclosed <think> block, whatever the reason


class TokenUsage(_Model):
    """A task's tokens over its answered rows, as the adapter counted them (a cached answer keeps its call's
    counts): prompt tokens (images' included), of them the image (visual) tokens, and generated tokens.
    An adapter that does not say (an API's usage block splits no image tokens; an older cache kept no
    prompt tokens) leaves rows out of a mean, counted in `n_*_known`, never filled in with a guess."""

    n: int  # answered rows
    generated_tokens: int
    mean_generated_tokens: float | None
    n_prompt_known: int  # rows whose prompt tokens the adapter reported
    prompt_tokens: int  # over those rows
    mean_prompt_tokens: float | None
    n_image_known: int  # rows whose image tokens the adapter reported
    image_tokens: int  # over those rows
    images: int  # images in those rows
    mean_image_tokens: float | None  # per row
    image_tokens_per_image: float | None
    mean_text_tokens: float | None  # prompt minus image tokens, over rows where both are known


class TaskResult(_Model):
    task: str
    family: str
    modality: Literal["image", "text"] = "image"  # tables group by it above the category
    category: str
    primary_metric: str
    direction: Literal["higher", "lower"]
    scale: Literal["percent", "raw"]
    dataset: DatasetInfo
    prompt_version: str
    generation: dict[str, Any]
    generation_overridden: list[str]  # keys the command line changed from the prompt version
    n_rows: int  # rows asked for (after --limit)
    n: int  # rows scored (n_rows - n_failed)
    n_failed: int
    failed_share: float
    failure_reasons: dict[str, int]
    units: Units
    pipelines: dict[str, PipelineResult]
    complete: bool  # every row was answered or failed (not interrupted), judged tasks judged enough
    judge: JudgeInfo | None = None
    truncation: Truncation | None = None  # None in results written before schema 2
    tokens: TokenUsage | None = None  # None in results written before schema 4


class ModelInfo(_Model):
    spec: str
    name: str
    adapter: str
    fingerprint: str
    settings: dict[str, Any]


class RunInfo(_Model):
    kobench_version: str
    model: ModelInfo
    arguments: dict[str, Any]
    settings_hash: str
    packages: dict[str, str]
    git_commit: str | None
    started_at: str
    ended_at: str
    model_calls: int
    cache_hits: int
    generated_tokens: int
    generation_seconds: float
    tokens_per_second: float | None
    prompt_tokens: int = 0  # input tokens, where the adapter reports them (APIs)
    # API adapters: requests in flight, fixed or adaptive (its bounds, and where the limit went); None for
    # other adapters and in results written before it was recorded.
    concurrency: dict[str, Any] | None = None
    # hf: the batch size, fixed or --batch-size auto (its start, where out-of-memory halvings took it).
    batch: dict[str, Any] | None = None
    # hf: how the model was driven: the interface family whose calls kobench made (models/chat_formats.py)
    # and the compatibility layers it applied (kobench.models.compat); None for other adapters.
    loading: dict[str, Any] | None = None
    # torchrun data parallel: world_size, the sharding rule, and each rank's own counts (the counts above
    # are the ranks' sums; generation_seconds is the slowest rank's); None for a single process.
    data_parallel: dict[str, Any] | None = None
    judge_calls: int = 0  # LLM judge calls made (cache hits excluded)
    judge_cache_hits: int = 0
    # The limits a dataset image was refused beyond (kobench.images: $KOBENCH_MAX_IMAGE_BYTES,
    # $KOBENCH_MAX_IMAGE_PIXELS): max_bytes, max_pixels. None in results written before they were recorded.
    image_limits: dict[str, int] | None = None


class RunResult(_Model):
    schema_version: str = SCHEMA_VERSION
    status: Literal["complete", "incomplete"]
    run: RunInfo
    tasks: dict[str, TaskResult]

    def primary(self, task: str, pipeline: str = "kobench") -> MetricValue:
        result = self.tasks[task]
        return result.pipelines[pipeline].metrics[result.primary_metric]


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename, line ends as given (a README's stay)."""
    with atomic_file(path, newline="") as fh:
        fh.write(text)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write via a temporary file in the same folder and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.write("\n")


def save_results(result: RunResult, path: Path) -> None:
    write_json_atomic(path, result.model_dump(mode="json"))


def load_results(path: Path) -> RunResult:
    try:
        data = json.loads(read_utf8(Path(path)))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read results: {exc}") from exc
    if isinstance(data, dict) and data.get("schema_version") not in READABLE_VERSIONS:
        raise BadInputError(
            f"{path}: results schema version {data.get('schema_version')!r} is not one this kobench reads"
            f" ({', '.join(READABLE_VERSIONS)}); a newer kobench wrote it"
        )
    try:
        return RunResult.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(f"{path}: not a kobench results file: {exc}") from exc
