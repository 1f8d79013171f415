"""An output folder: results.json, samples/<task>.jsonl, and the settings that made them.

Re-running into the same folder with the same settings resumes (finished rows are kept, failed
rows are tried again); other settings are refused unless --overwrite.

In a data parallel run each rank appends its answers to samples/ranks/<task>.<rank>.jsonl, a file no other
rank writes; rank 0 merges them into samples/<task>.jsonl once every rank is done with the task, and
removes them. Until then (a rank killed, the run stopped) they hold finished rows like the main file does,
and a resumed run reads them all, whatever its number of ranks.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kobench.errors import NotComparableError
from kobench.results import write_json_atomic
from kobench.run.records import SampleRecord

SETTINGS_FILE = "settings.json"


class OutputDir:
    def __init__(self, path: Path, rank: int | None = None):
        """`rank`: this process's rank in a data parallel run (its answers go to its own file)."""
        self.path = Path(path)
        self.results_path = self.path / "results.json"
        self.samples_dir = self.path / "samples"
        self.ranks_dir = self.samples_dir / "ranks"
        self.rank = rank

    def claim(
        self, model_settings: dict[str, Any], task_settings: dict[str, dict[str, Any]], overwrite: bool
    ) -> None:
        """Check (or record) the settings this folder's samples were made with."""
        settings_path = self.path / SETTINGS_FILE
        if overwrite and self.path.exists():
            for name in ("results.json", SETTINGS_FILE):
                (self.path / name).unlink(missing_ok=True)
            shutil.rmtree(self.samples_dir, ignore_errors=True)
        old = json.loads(settings_path.read_text(encoding="utf-8")) if settings_path.exists() else None
        if old is not None:
            differences = []
            if _identity(old.get("model")) != _identity(model_settings):
                differences.append(f"model: {old.get('model')} -> {model_settings}")
            for task, settings in task_settings.items():
                previous = old.get("tasks", {}).get(task)
                if previous is not None and previous != settings:
                    differences.append(f"{task}: {previous} -> {settings}")
            if differences:
                raise NotComparableError(
                    f"{self.path} holds results made with other settings; pass --overwrite to replace "
                    "them or choose another --output.\n  " + "\n  ".join(differences)
                )
            task_settings = {**old.get("tasks", {}), **task_settings}
        write_json_atomic(settings_path, {"model": model_settings, "tasks": task_settings})

    def samples_path(self, task: str) -> Path:
        return self.samples_dir / f"{task}.jsonl"

    def rank_samples_path(self, task: str, rank: int) -> Path:
        return self.ranks_dir / f"{task}.{rank}.jsonl"

    def finished_samples(self, task: str) -> dict[str, SampleRecord]:
        """Rows already answered, from the task's file and any rank's; failed rows are dropped from the
        files this process writes (the main file for rank 0 or a single process, else its own rank file)
        so they are tried again. Another rank's file is only read: that rank may be writing it."""
        own = self._writes(task)
        kept: dict[str, SampleRecord] = {}
        for path in [self.samples_path(task), *self._rank_files(task)]:
            found = _scored(path)
            for record_id, record in found.items():
                kept.setdefault(record_id, record)
            if path in own and path.exists():
                tmp = path.with_suffix(".jsonl.tmp")
                tmp.write_text("".join(_line(r) for r in found.values()), encoding="utf-8")
                tmp.replace(path)
        return kept

    def _writes(self, task: str) -> set[Path]:
        if self.rank is None:
            return {self.samples_path(task)}
        own = {self.rank_samples_path(task, self.rank)}
        return own | {self.samples_path(task)} if self.rank == 0 else own

    def append_samples(self, task: str, records: Iterable[SampleRecord]) -> None:
        path = self.samples_path(task) if self.rank is None else self.rank_samples_path(task, self.rank)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write("".join(_line(r) for r in records))
            fh.flush()

    def rewrite_samples(self, task: str, records: Mapping[str, SampleRecord]) -> None:
        """Once a task is complete, its samples file is rewritten in dataset order (easier to diff)."""
        path = self.samples_path(task)
        tmp = path.with_suffix(".jsonl.tmp")
        ordered = sorted(records.values(), key=lambda r: r.index)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("".join(_line(r) for r in ordered), encoding="utf-8")
        tmp.replace(path)
        # The ranks' answers are all in it now (only called once every rank is done with the task).
        for rank_file in self._rank_files(task):
            rank_file.unlink(missing_ok=True)

    def _rank_files(self, task: str) -> list[Path]:
        """The ranks' files of this task, in rank order (not those of a task named `task.x`)."""
        if not self.ranks_dir.is_dir():
            return []
        pattern = re.compile(re.escape(task) + r"\.(\d+)\.jsonl")
        found = [(m, p) for p in self.ranks_dir.iterdir() if (m := pattern.fullmatch(p.name))]
        return [p for m, p in sorted(found, key=lambda mp: int(mp[0].group(1)))]

    def previous_results(self) -> dict | None:
        if not self.results_path.exists():
            return None
        try:
            return json.loads(self.results_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return None


def _identity(model: Any) -> Any:
    """What makes a model the same model: all but the spec as typed and the display name (`hf:./m` and
    `hf:/abs/m` are one model; folders written before specs were portable, or before one naming rule
    gave every model its name, still resume)."""
    return {k: v for k, v in model.items() if k not in ("spec", "name")} if isinstance(model, dict) else model


def _scored(path: Path) -> dict[str, SampleRecord]:
    if not path.exists():
        return {}
    kept: dict[str, SampleRecord] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = SampleRecord.model_validate_json(line)
        except ValueError:
            continue  # a line cut off by a crash: that row is simply answered again
        if record.scored:
            kept[record.id] = record
    return kept


def _line(record: SampleRecord) -> str:
    return json.dumps(record.to_json(), ensure_ascii=False) + "\n"
