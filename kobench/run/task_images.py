"""The images of a results folder's rows, for the HTML report's thumbnails (`kobench report --with-images`).

Sample records hold no images (they would make samples files as large as the data, and many benchmarks'
images may not be redistributed): they hold each row's id. The images are found again the way the run
found its rows: the task's spec, its data options (the report's own --data-dir / --data-path / --task-dir
where given, else those the run recorded), the prompt version and the Hub commit the run read. Rows read
again are used only when they are the same data: their canonical identity must be the one the results
record, or no image is shown for that task and the report says why.

It lives beside prepare.py, which it calls (report/ sits beside run/ in the layers and may not import
it); kobench.report.thumbnails.ImageSource is the shape it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kobench.config import DataOptions, JudgeOptions, ScoringOptions, validated
from kobench.errors import BadInputError
from kobench.families import load_tasks
from kobench.results import RunResult
from kobench.run.prepare import prepare_task
from kobench.types import ImageRef


@dataclass(frozen=True)
class TaskImages:
    """An image source for kobench.report.html_report.write_report. Options left None / empty take what
    the run recorded."""

    cache_dir: Path
    data_dir: Path | None = None
    data_paths: tuple[str, ...] = ()
    task_dirs: tuple[Path, ...] = ()

    def __call__(self, run: RunResult, task: str) -> dict[str, Sequence[ImageRef]]:
        result = run.tasks[task]
        recorded: dict[str, Any] = run.run.arguments
        task_dirs = self.task_dirs or tuple(Path(p) for p in recorded.get("task_dirs") or ())
        spec = load_tasks(task_dirs).get(task)
        if spec is None:
            raise BadInputError(f"task {task!r} is not known here (its task file: --task-dir)")
        recorded_dir = recorded.get("data_dir")
        data = validated(
            DataOptions,
            "data",
            task_dirs=task_dirs,
            data_dir=self.data_dir or (Path(recorded_dir) if recorded_dir else None),
            data_revision=result.dataset.revision,
            data_paths=self.data_paths or tuple(recorded.get("data_paths") or ()),
            split_files=tuple(recorded.get("split_files") or ()),
        )
        scoring = validated(ScoringOptions, "scoring", prompt_versions=(f"{task}={result.prompt_version}",))
        prepared = prepare_task(spec, data, scoring, JudgeOptions(), self.cache_dir, for_scoring=False)
        if prepared.dataset.identity != result.dataset.identity:
            found = prepared.dataset
            raise BadInputError(
                f"the data found for {task} here ({found.hub_id or 'local'} {found.split}, {found.identity})"
                f" is not the data the run read ({result.dataset.identity});"
                " pass --data-dir or --data-path TASK=DIR with the run's copy"
            )
        return {item.id: item.request.images for item in prepared.items if item.request is not None}
