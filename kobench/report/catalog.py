"""`kobench tasks`: one row per known task, image tasks before text tasks, by category."""

from __future__ import annotations

from collections.abc import Mapping

from kobench.families import primary_metric
from kobench.report.leaderboard import MODALITY_ORDER
from kobench.tasks.spec import PromptVersion, TaskSpec

HEADERS = ["task", "modality", "category", "source", "split", "size", "metric", "prompt versions"]


def _version(name: str, version: PromptVersion, spec: TaskSpec) -> str:
    """A version's name and what sets it apart: the default, log-likelihood scoring and its shots, its own
    published parser (K-MMStar's lmms-eval-0.7.2)."""
    notes = ["default"] if name == spec.prompt.default else []
    if version.method == "loglikelihood":
        notes.append(f"log-likelihood, {version.fewshot}-shot")
    elif version.protocol_parser and version.protocol_parser != spec.scoring.protocol_parser:
        notes.append(f"protocol: {version.protocol_parser}")
    return name + (f" ({'; '.join(notes)})" if notes else "")


def _metric(spec: TaskSpec) -> str:
    """The primary metric of the default version, and how its answers are read."""
    default = spec.prompt.versions[spec.prompt.default]
    how = (
        "log-likelihood"
        if default.method == "loglikelihood"
        else (f"protocol: {p}" if (p := default.protocol_parser or spec.scoring.protocol_parser) else None)
    )
    return f"{primary_metric(spec)} ({spec.scoring.aggregate}" + (f"; {how})" if how else ")")


def task_rows(registry: Mapping[str, TaskSpec]) -> list[list[object]]:
    order = {m: i for i, m in enumerate(MODALITY_ORDER)}
    rows = []
    for name, spec in sorted(registry.items(), key=lambda kv: (order[kv[1].modality], kv[1].category, kv[0])):
        source = (
            spec.dataset.hub_id
            or (f"your data (DATA_DIR/{spec.dataset.local_dir}/)" if spec.dataset.local_dir else None)
            or "your data (--data-path)"
        )
        versions = ", ".join(_version(v, p, spec) for v, p in spec.prompt.versions.items())
        rows.append(
            [
                name,
                spec.modality,
                spec.category,
                source,
                spec.dataset.split,
                spec.dataset.size or "?",
                _metric(spec),
                versions,
            ]
        )
    return rows
