"""`kobench score`: score answers produced elsewhere (another harness, an API batch job).

Into an output folder it works as `run` does: a folder made with other settings is refused (exit 3) unless
--overwrite, and nothing in it is deleted; scored under the same --model-name, each task joins the folder's
others, and the same predictions again resume. The model is the name, the predictions file (its content
hash) is part of its task's settings: another file for a task already scored is other settings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from kobench.config import build_config, default_cache_dir
from kobench.data.formats import json_lines
from kobench.errors import BadInputError, where
from kobench.families import resolve_tasks
from kobench.families.items import id_text
from kobench.provenance import portable
from kobench.results import ModelInfo, RunResult
from kobench.run import RunReport, _hash, _now, answer_items, score_task
from kobench.run.cache import ResponseCache
from kobench.run.output import OutputDir, OutputLock
from kobench.run.prepare import prepare_task
from kobench.run.progress import Progress
from kobench.run.records import SampleRecord
from kobench.run.rescore import with_new_metrics
from kobench.run.respond import Responder
from kobench.types import FinishReason, Request, Response

# What a predictions line may say about why its answer ended (other harnesses' words for the same).
_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "eos": "stop",
    "length": "length",
    "max_tokens": "length",
    "error": "error",
    "content_filter": "filtered",
    "filtered": "filtered",
}


class Prediction(NamedTuple):
    text: str | None
    finish: FinishReason | None
    line: int  # in the predictions file, for messages


def read_predictions(path: Path) -> dict[str, Prediction]:
    """JSONL lines with `id` and `prediction`, and optionally `finish_reason` (stop, length, ...; without
    it the ending is unknown); errors name the file, line and field."""
    predictions: dict[str, Prediction] = {}
    for number, record in json_lines(path):
        if not isinstance(record, dict):
            raise BadInputError(f"{where(path, number)}: expected a JSON object")
        for name in ("id", "prediction"):
            if name not in record:
                raise BadInputError(f"{where(path, number, name)}: missing")
        prediction = record["prediction"]
        if prediction is not None and not isinstance(prediction, str):
            raise BadInputError(f"{where(path, number, 'prediction')}: expected a string or null")
        rid = id_text(record["id"])
        if rid in predictions:
            raise BadInputError(f"{where(path, number, 'id')}: id {rid!r} appears twice")
        finish = record.get("finish_reason")
        if finish is not None and (not isinstance(finish, str) or finish.lower() not in _FINISH_REASONS):
            raise BadInputError(
                f"{where(path, number, 'finish_reason')}: {finish!r} is not one of"
                f" {', '.join(sorted(_FINISH_REASONS))} (or leave it out)"
            )
        predictions[rid] = Prediction(prediction, _FINISH_REASONS[finish.lower()] if finish else None, number)
    return predictions


class Predictions:
    """Answers made elsewhere, served as a model would serve them (a row without one fails)."""

    name = adapter = "predictions"
    fingerprint = "predictions"

    def __init__(self, predictions: dict[str, Prediction]) -> None:
        self.predictions = predictions
        self.settings: dict = {}

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        responses = []
        for request in requests:
            text, finish, _ = self.predictions.get(request.id, Prediction(None, None, 0))
            if text is None:
                missing = "no prediction for this id"
                responses.append(Response(text=None, error=missing, request_id=request.id))
            else:
                responses.append(Response(text=text, finish_reason=finish, request_id=request.id))
        return responses


def score_predictions(
    task: str,
    predictions_path: str | Path,
    *,
    output: str | Path | None = None,
    data_dir: str | Path | None = None,
    task_dirs: tuple[Path, ...] = (),
    limit: int | None = None,
    prompt_versions: tuple[str, ...] = (),
    model_name: str | None = None,
    progress: bool = False,
    data_paths: tuple[str, ...] = (),
    split_files: tuple[str, ...] = (),
    embedder: str | None = None,
    max_prompt_chars: int | None = None,
    max_failed_share: float = 0.05,
    overwrite: bool = False,
) -> RunResult:
    """Score `predictions_path` as the answers to `task`; with `output`, write results and samples there
    (see the module's docstring). Every prediction must name a row: an id matching none is refused (exit
    4) unless `limit` or a split file leaves rows out."""
    path = Path(predictions_path)
    cache_dir = default_cache_dir()
    config = build_config(
        model=portable(f"predictions:{path}", cache_dir),
        tasks=(task,),
        output=Path(output) if output else None,
        data={
            "task_dirs": task_dirs,
            "data_dir": Path(data_dir) if data_dir else None,
            "data_paths": data_paths,
            "split_files": split_files,
            "limit": limit,
        },
        scoring={
            "prompt_versions": prompt_versions,
            "embedder": embedder,
            "max_prompt_chars": max_prompt_chars,
        },
        policy={
            "cache_dir": cache_dir,
            "use_cache": False,
            "max_failed_share": max_failed_share,
            "overwrite": overwrite,
        },
    )
    spec = resolve_tasks([task], config.data.task_dirs)[0]
    config.scoring.check_prompt_versions({spec.name: spec.prompt.versions})
    predictions = read_predictions(path)
    prepared = prepare_task(spec, config.data, config.scoring, config.judge, cache_dir)
    every_row = config.data.limit is None and not split_files
    refuse_unmatched(path, task, predictions, [i.id for i in prepared.items], every_row)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    model = ModelInfo(
        spec=config.model,
        name=model_name or path.stem,
        adapter="predictions",
        fingerprint=f"file:{digest}",
        settings={},
    )
    with OutputLock(config.output) as lock:
        out = OutputDir(config.output) if config.output else None
        if out:
            lock.acquire()
            # The model is the name it is scored under; which answers, its task's settings (see above).
            claimed = {**model.model_dump(), "fingerprint": f"predictions:{model.name}"}
            settings = {**prepared.settings(), "predictions": model.fingerprint}
            out.claim(claimed, {spec.name: settings}, overwrite=config.policy.overwrite)

        responder = Responder(
            lambda: Predictions(predictions), "predictions", model.fingerprint, {}, ResponseCache(None)
        )
        report = RunReport(config, model, _hash({"model": model.model_dump()}), _now(), responder.stats, out)
        records: dict[str, SampleRecord] = (
            with_new_metrics(prepared, out.finished_samples(spec.name)) if out else {}
        )
        with Progress(progress) as bar:
            answer_items(prepared, records, responder, bar, out)
        scored = score_task(prepared, records, complete=True)
        report.results[spec.name] = scored.result
        if out and scored.result.complete:  # in dataset order, with the whole set's scores (CIDEr)
            out.rewrite_samples(spec.name, scored.records)
        return report.save()


def refuse_unmatched(
    path: Path, task: str, predictions: dict[str, Prediction], row_ids: Sequence[str], every_row: bool
) -> None:
    """Predictions whose id names no row of the task are a mistake (another task's file, ids of another
    form), not to be passed over: refused naming the first lines. With `every_row` False (--limit, a
    split file) rows were left out on purpose, and only a file matching no row at all is refused."""
    known = set(row_ids)
    unmatched = [(rid, p.line) for rid, p in predictions.items() if rid not in known]
    if not unmatched or (not every_row and len(unmatched) < len(predictions)):
        return
    shown = "; ".join(f"{where(path, line, 'id')}: {rid!r}" for rid, line in unmatched[:3])
    more = f" (and {len(unmatched) - 3} more)" if len(unmatched) > 3 else ""
    if len(unmatched) == len(predictions):
        what = f"no prediction id matches a row id of {task}"
    else:
        what = f"{len(unmatched)} of {len(predictions)} prediction ids match no row of {task}"
    raise BadInputError(f"{path}: {what}: {shown}{more}. Row ids look like {', '.join(sorted(known)[:3])}")
