"""What a task family is: the columns it needs, how a row becomes an Item, how a response is judged
by each pipeline, and which metrics summarise the verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from kobench.families.columns import Columns
from kobench.families.items import Item
from kobench.tasks.spec import TaskSpec
from kobench.types import GenerationSettings

AnswerScore = dict[str, Any]  # "parsed" (None = unparseable) plus one value per metric field


@dataclass(frozen=True)
class MetricDef:
    """A per-row value averaged over scoring units; with `weight`, a weighted mean, which is how a
    corpus statistic is kept bootstrappable (corpus CER = sum(row CER * length) / sum(length))."""

    name: str
    field: str
    direction: Literal["higher", "lower"]
    version: str
    weight: str | None = None


@dataclass(frozen=True)
class ScoringSettings:
    """Run-level scoring options: the box convention a model answers in; the sentence-embedding model
    of captioning's embedding cosine; the LLM judge of judged tasks."""

    box_convention: str = "normalized"
    embedder: str | None = None
    judge_model: str | None = None  # the LLM judge's model id, for judged tasks
    judge_max_failed_share: float = 0.05  # more failed judgements than this: the task is incomplete


class Family(Protocol):
    name: str
    roles: tuple[str, ...]  # column roles every task of the family must name
    metrics: tuple[MetricDef, ...]  # the first is the default primary metric
    default_kind: str

    def prepare(
        self,
        task: TaskSpec,
        rows: list[dict[str, Any]],
        cols: Columns,
        version: str,
        generation: GenerationSettings,
        shots: Sequence[Sequence[dict[str, Any]]] | None = None,  # each row's few-shot examples
    ) -> list[Item]: ...

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]: ...

    def parser_names(self, task: TaskSpec) -> dict[str, str]: ...  # pipeline -> "name@version"

    def signature_extra(self, task: TaskSpec, settings: ScoringSettings) -> Sequence[str]: ...

    def check_ready(self, task: TaskSpec, settings: ScoringSettings) -> None: ...  # raise before any work

    # Verdict fields counted per pipeline in the results' breakdown (the stage that decided a row).
    def verdict_breakdown(self, task: TaskSpec) -> tuple[str, ...]: ...


@runtime_checkable
class CorpusFamily(Family, Protocol):
    """A family whose metrics need the whole scored set at once (CIDEr's IDF comes from it; corpus
    BLEU and METEOR sum counts over it). `score_corpus` gets each scored row with its `pipeline`
    verdict and returns each row's scores (field -> one value per row, in order) and the metrics whose
    corpus value is not the mean of those row scores, with their value and bootstrap interval (0-1)."""

    def score_corpus(
        self,
        task: TaskSpec,
        scored: list[tuple[Item, Mapping[str, Any]]],
        pipeline: str,
        settings: ScoringSettings,
    ) -> tuple[dict[str, list[float]], dict[str, tuple[float, float, float]]]: ...


def metrics_of(family: Family, task: TaskSpec) -> tuple[MetricDef, ...]:
    """The task's metrics: a family's fixed list, or what the task's own spec selects (the judged
    family's metrics follow how its judge's verdict is read)."""
    per_task = getattr(family, "metrics_for", None)
    return tuple(per_task(task)) if per_task else family.metrics
