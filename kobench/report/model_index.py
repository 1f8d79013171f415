"""The `model-index` block of a Hugging Face model card, from kobench results: the Hub's evaluation widgets
read a card's numbers from it (the A.X 4.0 Light card carries one).

One result per task, from its primary metric in one pipeline:

    model-index:
    - name: MODEL
      results:
      - task: {type: visual-question-answering, name: General}     # HF task type; kobench's category
        dataset: {name: k-mmbench, type: NCSOFT/K-MMBench, split: dev, revision: <commit>}
        metrics:
        - {type: accuracy, value: 71.3, name: accuracy (kobench Korean-aware extraction),
           config: kobench, args: {n: 4329, signature: ...}}
        source: {name: kobench, url: ...}

Values are kobench's points (×100), as its tables show them. Each result is made by huggingface_hub's own
EvalResult (which checks it) and eval_results_to_model_index, one task at a time: that helper merges results
that share task type, dataset, split and revision, and two kobench tasks on one dataset are two results.
An incomplete task is left out (a card publishes finished numbers), and said so.

merge_into_card puts the block into a README's YAML front matter: the `model-index` key alone is rewritten
(its entries for other models, and its results from other sources, are kept as they were); every other
line of the file stays byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from kobench.errors import BadInputError
from kobench.files.output_file import writing
from kobench.files.text import read_utf8
from kobench.report.leaderboard import columns_of
from kobench.results import PIPELINES, RunResult, TaskResult

SOURCE_NAME = "kobench"
# Used when the installed kobench's metadata names no project URL (pyproject's [project.urls]).
FALLBACK_SOURCE_URL = "https://pypi.org/project/kobench/"
PIPELINE_LABELS = {"kobench": "kobench Korean-aware extraction", "protocol": "published protocol parser"}
# kobench family -> Hugging Face task type, for image tasks and for text-only ones.
IMAGE_TASK_TYPES = {
    "multiple_choice": "visual-question-answering",
    "text_vqa": "visual-question-answering",
    "doc_vqa": "document-question-answering",
    "ocr_read": "image-to-text",
    "ocr_read_ccocr": "image-to-text",
    "caption": "image-to-text",
}
TEXT_TASK_TYPES = {"multiple_choice": "multiple-choice"}
DEFAULT_TASK_TYPE = {"image": "image-text-to-text", "text": "text-generation"}
# The same front matter the Hub finds (huggingface_hub.repocard.REGEX_YAML_BLOCK).
FRONT_MATTER = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
KEY = "model-index"


@dataclass(frozen=True)
class ModelIndex:
    model: str
    entries: list[dict[str, Any]]  # the model-index list: one entry, this model's
    skipped: dict[str, str]  # task -> why it is not in the block

    def to_yaml(self) -> str:
        return dump_model_index(self.entries)


def source_url() -> str:
    """The installed kobench's project URL (its metadata), else FALLBACK_SOURCE_URL."""
    try:
        urls = metadata.metadata("kobench").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    return next((u.split(",", 1)[1].strip() for u in urls if "," in u), FALLBACK_SOURCE_URL)


def task_type(task: TaskResult) -> str:
    table = IMAGE_TASK_TYPES if task.modality == "image" else TEXT_TASK_TYPES
    return table.get(task.family, DEFAULT_TASK_TYPE.get(task.modality, "image-text-to-text"))


def _eval_result(task: TaskResult, pipeline: str, url: str) -> Any:
    from huggingface_hub.repocard_data import EvalResult

    piped = task.pipelines[pipeline]
    metric = piped.metrics[task.primary_metric]
    return EvalResult(
        task_type=task_type(task),
        task_name=task.category,
        dataset_type=task.dataset.hub_id,
        dataset_name=task.task,
        dataset_split=task.dataset.split,
        dataset_revision=task.dataset.revision,
        metric_type=task.primary_metric,
        metric_value=round(metric.value, 2),
        metric_name=f"{task.primary_metric} ({PIPELINE_LABELS[pipeline]})",
        metric_config=pipeline,
        metric_args={"n": metric.n, "signature": piped.signature},
        source_name=SOURCE_NAME,
        source_url=url,
    )


def build_model_index(
    results: Sequence[RunResult],
    *,
    model_name: str | None = None,
    pipeline: str = "kobench",
    url: str | None = None,
) -> ModelIndex:
    """One model's block: its runs merged (each task from the newest run that has it, as `kobench table`
    does), named `model_name` (default: the runs' model name)."""
    from huggingface_hub.repocard_data import eval_results_to_model_index

    if pipeline not in PIPELINES:
        raise BadInputError(f"pipeline must be one of {', '.join(PIPELINES)}, not {pipeline!r}")
    columns = columns_of(results, merge=True)
    if len(columns) != 1:
        names = ", ".join(c.name for c in columns) or "none"
        raise BadInputError(f"a model-index describes one model; these results hold {len(columns)}: {names}")
    column = columns[0]
    name = model_name or column.name
    url = url or source_url()
    skipped: dict[str, str] = {}
    found = []
    for task_name, task in column.tasks.items():
        piped = task.pipelines.get(pipeline)
        if not task.complete:
            skipped[task_name] = "incomplete run"
        elif piped is None or piped.metrics.get(task.primary_metric) is None:
            skipped[task_name] = f"no {pipeline} pipeline"
        elif piped.metrics[task.primary_metric].value is None:
            skipped[task_name] = "no value"
        else:
            found.append(_eval_result(task, pipeline, url))
    if not found:
        why = "; ".join(f"{t}: {w}" for t, w in skipped.items()) or "no tasks"
        raise BadInputError(f"nothing to put in a model-index ({why})")
    entry_results = [r for one in found for r in eval_results_to_model_index(name, [one])[0]["results"]]
    return ModelIndex(name, [{"name": name, "results": entry_results}], skipped)


def dump_model_index(entries: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({KEY: entries}, sort_keys=False, allow_unicode=True, width=1000)


def _merged_entries(existing: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The card's model-index with ours in: our model's results from other sources kept, kobench's
    replaced; other models' entries as they were."""
    if existing is None:
        return entries
    if not isinstance(existing, list) or not all(isinstance(e, dict) for e in existing):
        raise BadInputError(f"the card's {KEY} is not a list of entries; fix or remove it first")
    out = [dict(e) for e in existing]
    for entry in entries:
        mine = next((e for e in out if e.get("name") == entry["name"]), None)
        if mine is None:
            out.append(entry)
            continue
        kept = [
            r
            for r in mine.get("results") or []
            if not (isinstance(r, dict) and (r.get("source") or {}).get("name") == SOURCE_NAME)
        ]
        mine["results"] = kept + entry["results"]
    return out


def _key_span(lines: list[str]) -> tuple[int, int] | None:
    """The lines of the top-level `model-index:` key: from it to the next top-level key."""
    start = next((n for n, line in enumerate(lines) if re.match(rf"{KEY}\s*:", line)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and not re.match(r"[^\s#-]", lines[end]):
        end += 1
    return start, end


def merge_into_card(text: str, index: ModelIndex) -> str:
    """`text` (a README) with the model-index merged into its front matter (one is added at the top when
    it has none); BadInputError when its front matter is not YAML, or other keys would change."""
    match = FRONT_MATTER.match(text)
    if match is None:
        return f"---\n{dump_model_index(index.entries)}---\n{text}"
    body = match.group(2)
    try:
        before = yaml.safe_load(body) or {}
    except yaml.YAMLError as exc:
        raise BadInputError(f"the card's front matter is not YAML: {exc}") from exc
    if not isinstance(before, dict):
        raise BadInputError("the card's front matter is not a YAML mapping")
    block = dump_model_index(_merged_entries(before.get(KEY), index.entries))
    lines = body.splitlines(keepends=True)
    newline = "\r\n" if "\r\n" in match.group(1) else "\n"
    block = block.replace("\n", newline)
    span = _key_span(lines)
    if span is None:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines.append(block.rstrip("\r\n"))
    else:
        start, end = span
        trailing = lines[end - 1][len(lines[end - 1].rstrip("\r\n")) :] if end == len(lines) else newline
        lines[start:end] = [block.rstrip("\r\n") + trailing]
    new_body = "".join(lines)
    after = yaml.safe_load(new_body)
    if {k: v for k, v in after.items() if k != KEY} != {k: v for k, v in before.items() if k != KEY}:
        raise BadInputError(f"merging {KEY} would change the card's other keys; the card is left as it was")
    return text[: match.start(2)] + new_body + text[match.end(2) :]


def update_card(path: Path, index: ModelIndex) -> bool:
    """Merge into the README at `path` in place (atomically); True when the file changed."""
    path = Path(path)
    try:
        text = read_utf8(path)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc}") from exc
    new = merge_into_card(text, index)
    if new == text:
        return False
    from kobench.results import write_text_atomic

    with writing(path, "--readme"):
        write_text_atomic(path, new)
    return True
