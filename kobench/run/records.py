"""One line of samples/<task>.jsonl as a typed, frozen record: input, output, both pipelines' verdicts, and
why a row failed. Stages never edit a record: the set-level scores of captioning and the LLM judge's
verdicts come back as new records (`with_pipeline`).

The JSON is what every kobench version has written (same keys, same order), with `finish_reason` added
at the end since results schema 2 (older samples load without it: unknown), and `loglikelihoods` after it
on log-likelihood rows only; keys a record does not know (written by a newer kobench) are kept as they
are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from kobench.families import FAMILIES, primary_metric
from kobench.families.base import ScoringSettings, metrics_of
from kobench.families.items import Item
from kobench.tasks.spec import TaskSpec
from kobench.types import Response

Pipeline = Literal["protocol", "kobench"]


class SampleRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    index: int
    prompt: str
    target: Any
    options: dict[str, str]
    fields: dict[str, Any]
    group: str | None
    status: Literal["scored", "failed"]
    error: str | None
    prediction: str | None
    parsed: Any
    score: float | None  # the kobench pipeline's primary metric (None until a set-level metric is scored)
    protocol: dict[str, Any] | None  # parser, parsed and one value per metric field (judged: the judgement)
    kobench: dict[str, Any] | None
    n_tokens: int = 0
    n_prompt_tokens: int = 0  # 0: the adapter did not say
    # Of the prompt tokens, the image (visual) ones; None where the adapter cannot tell (APIs) and in samples
    # written before kobench counted them.
    n_image_tokens: int | None = None
    cached: bool = False
    # Why the answer ended: stop, length, error, filtered; None in samples written before kobench recorded
    # it and for answers cached before then (both counted as unknown).
    finish_reason: str | None = None
    # A log-likelihood version's answer: each choice's log-likelihood, in option order (None otherwise).
    loglikelihoods: list[float] | None = None

    @property
    def scored(self) -> bool:
        return self.status == "scored"

    def verdict(self, pipeline: Pipeline) -> Mapping[str, Any]:
        """What `pipeline` made of the answer (empty for a failed row)."""
        return (self.protocol if pipeline == "protocol" else self.kobench) or {}

    def with_pipeline(self, pipeline: Pipeline, values: Mapping[str, Any], primary_field: str | None = None):
        """A new record whose `pipeline` verdict also holds `values`; with `primary_field`, the kobench
        pipeline's value of it becomes the record's `score`."""
        merged = {**self.verdict(pipeline), **values}
        update: dict[str, Any] = {pipeline: merged}
        if pipeline == "kobench" and primary_field is not None and primary_field in merged:
            update["score"] = merged[primary_field]
        return self.model_copy(update=update)

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if data.get("loglikelihoods") is None:  # only log-likelihood rows carry the key
            data.pop("loglikelihoods", None)
        return data


def sample_record(
    task: TaskSpec, item: Item, response: Response | None, settings: ScoringSettings
) -> SampleRecord:
    """The record of one row: the model's answer scored by both pipelines, or why the row failed."""
    base = {
        "id": item.id,
        "index": item.index,
        "prompt": item.prompt,
        "target": item.target,
        "options": dict(item.options),
        "fields": item.fields,
        "group": item.group,
    }
    if response is None or not response.ok or item.failure is not None:
        error = item.failure or (response.error if response is not None else "no response")
        return SampleRecord(
            **base,
            status="failed",
            error=error,
            prediction=None,
            parsed=None,
            score=None,
            protocol=None,
            kobench=None,
            finish_reason="error",
        )
    family = FAMILIES[task.family]
    if response.scores is not None:
        if len(response.scores) != len(item.options):
            return sample_record(
                task,
                item,
                Response(
                    text=None,
                    error=f"{len(response.scores)} log-likelihoods for {len(item.options)} choices",
                    request_id=response.request_id,
                ),
                settings,
            )
        verdicts = family.score_loglikelihoods(task, item, response.scores)  # type: ignore[attr-defined]
    else:
        verdicts = family.score_answer(task, item, response.text or "", settings)
    parsers = family.parser_names(task)
    primary = next(m for m in metrics_of(family, task) if m.name == primary_metric(task))
    return SampleRecord(
        **base,
        status="scored",
        error=None,
        prediction=response.text,
        parsed=verdicts["kobench"]["parsed"],
        score=verdicts["kobench"].get(primary.field),  # None until a corpus family scores the set
        protocol={"parser": parsers["protocol"], **verdicts["protocol"]},
        kobench={"parser": parsers["kobench"], **verdicts["kobench"]},
        n_tokens=response.n_tokens,
        n_prompt_tokens=response.prompt_tokens,
        n_image_tokens=response.image_tokens,
        cached=response.cached,
        finish_reason=response.finish_reason,
        **({"loglikelihoods": [float(x) for x in response.scores]} if response.scores is not None else {}),
    )
