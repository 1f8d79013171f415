"""An output folder: results.json, samples/<task>.jsonl, and the settings that made them.

Re-running into the same folder with the same settings resumes (finished rows are kept, failed
rows are tried again); other settings are refused unless --overwrite. Before any work the folder is
checked: one that cannot be written, or whose settings, results or samples cannot be read (a line that
is not a sample record; only a last line cut off by a crash is passed over, its row answered again), is
refused naming the file and the line, and nothing in it is touched.

In a data parallel run each rank appends its answers to samples/ranks/<task>.<rank>.jsonl, a file no other
rank writes; rank 0 merges them into samples/<task>.jsonl once every rank is done with the task, and
removes them. Until then (a rank killed, the run stopped) they hold finished rows like the main file does,
and a resumed run reads them all, whatever its number of ranks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kobench.errors import BadInputError, IncompleteRunError, NotComparableError, where
from kobench.files.temporaries import clear_stale_temporaries
from kobench.files.text import read_utf8
from kobench.results import TaskResult, write_json_atomic
from kobench.run.records import SampleRecord

SETTINGS_FILE = "settings.json"
LOCK_FILE = ".kobench.lock"


class OutputLock:
    """An output folder held by one kobench process at a time, from `acquire` to the end of the `with`
    block: a second run into it meanwhile (another terminal, a CI job started twice) is refused before it
    touches anything, instead of interleaving its samples and results with the first's. An advisory lock
    (flock) on a file in the folder that the kernel lets go of when the process ends, so a killed run
    leaves no stale lock behind (only the empty file, which the next run takes over); a run that ends
    removes it. `path` None: nothing to hold (no --output, or a rank other than 0, which writes only its
    own files)."""

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self._file: Any = None

    def __enter__(self) -> OutputLock:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None and self.path is not None:
            # Removed while still held: a run that opened it meanwhile sees, once it holds it, that the
            # name no longer leads to it, and starts again on a new file (acquire's check).
            with contextlib.suppress(OSError):
                (self.path / LOCK_FILE).unlink()
            self._file.close()
            self._file = None

    def acquire(self) -> None:
        if self.path is None or self._file is not None:
            return
        import fcntl

        name = self.path / LOCK_FILE
        while True:
            with _writing(self.path):
                self.path.mkdir(parents=True, exist_ok=True)
                lock = open(name, "a+", encoding="utf-8")  # noqa: SIM115 (held past this call)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "unknown"
                lock.close()
                raise BadInputError(
                    f"{self.path} is being written by another kobench run (process {holder}): wait for it"
                    " to end, or give this run another --output"
                ) from None
            try:
                current = os.stat(name).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(lock.fileno()).st_ino:
                break
            lock.close()  # the run that held it removed it as this one opened it: take the new one
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._file = lock


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
        """Check (or record) the settings this folder's samples were made with; refuse, before any work, a
        folder made with other settings (NotComparableError), or one that cannot be read or written
        (BadInputError naming the file)."""
        settings_path = self.path / SETTINGS_FILE
        if overwrite and self.path.exists():
            with _writing(self.path):
                for name in ("results.json", SETTINGS_FILE):
                    (self.path / name).unlink(missing_ok=True)
                if self.samples_dir.exists():
                    shutil.rmtree(self.samples_dir)
        running = list(task_settings)
        old = _read_settings(settings_path)
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
        self._check_readable(running)
        with _writing(self.path):  # every folder written as answers arrive, tried first
            self.samples_dir.mkdir(parents=True, exist_ok=True)
            for folder in (
                self.path,
                self.samples_dir,
                *([self.ranks_dir] if self.ranks_dir.is_dir() else []),
            ):
                _probe(folder)
            for name in ("results.json", SETTINGS_FILE):  # what a killed process was writing, left half done
                clear_stale_temporaries(self.path / name)
            write_json_atomic(settings_path, {"model": model_settings, "tasks": task_settings})

    def _check_readable(self, tasks: Iterable[str]) -> None:
        """The results and every sample file of the tasks about to run can be read (or an error names the
        file and line to fix): a damaged folder is never resumed on a guess."""
        previous = self.previous_results()
        if previous is not None:
            for name, data in (previous.get("tasks") or {}).items():
                try:
                    TaskResult.model_validate(data)
                except ValidationError as exc:
                    raise _damaged(self.results_path, f"task {name!r}: {_first_problem(exc)}") from None
        for task in tasks:
            for path in [self.samples_path(task), *self._rank_files(task)]:
                _scored(path)
                if path.exists() and not os.access(path, os.W_OK):
                    raise BadInputError(f"--output {self.path}: {path} is read-only; choose another --output")

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
                with _writing(self.path, started=True):
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
        with _writing(self.path, started=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write("".join(_line(r) for r in records))
                fh.flush()

    def rewrite_samples(self, task: str, records: Mapping[str, SampleRecord]) -> None:
        """Once a task is complete, its samples file is rewritten in dataset order (easier to diff)."""
        path = self.samples_path(task)
        tmp = path.with_suffix(".jsonl.tmp")
        ordered = sorted(records.values(), key=lambda r: r.index)
        with _writing(self.path, started=True):
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
        """The folder's results.json as it is (None: there is none); damaged, it is refused (exit 4)."""
        if not self.results_path.exists():
            return None
        try:
            data = json.loads(read_utf8(self.results_path))
        except (OSError, ValueError) as exc:
            raise _damaged(self.results_path, str(exc)) from None
        if not isinstance(data, dict):
            raise _damaged(self.results_path, "not a JSON object")
        return data


@contextmanager
def _writing(folder: Path, *, started: bool = False) -> Iterator[None]:
    """Writing into the folder: an OSError (a read-only folder, a full disk) ends the command with one
    line naming the file, exit 4 before any work; once answers are coming (`started`), exit 5: what was
    answered is in the response cache, and the same command resumes once the folder can be written."""
    try:
        yield
    except OSError as exc:
        name = Path(exc.filename) if exc.filename else folder
        name = name.parent if name.name.startswith(".") else name  # a temporary file: its folder
        what = f"--output {folder}: cannot write {name} ({exc.strerror or exc})"
        if started:
            raise IncompleteRunError(
                f"{what}; the run stopped. Answers so far are in the response cache: re-run the same"
                " command once the folder can be written"
            ) from None
        raise BadInputError(f"{what}; choose another --output") from None


def _probe(folder: Path) -> None:
    """Create and remove a file in `folder`: samples are written there as answers arrive."""
    fd, name = tempfile.mkstemp(prefix=".kobench-probe.", dir=folder)
    os.close(fd)
    os.unlink(name)


def _read_settings(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        data = json.loads(read_utf8(path))
    except (OSError, ValueError) as exc:
        raise _damaged(path, str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("tasks", {}), dict):
        raise _damaged(path, "not the settings kobench writes")
    return data


def _damaged(path: Path, problem: str) -> BadInputError:
    return BadInputError(
        f"{path}: unreadable ({problem}); kobench cannot tell how this folder's results were made. Restore"
        " the file, pass --overwrite to start the folder afresh, or choose another --output"
    )


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error["loc"]) or "(the record)"
    return f"field {field!r}: {error['msg']}"


def _identity(model: Any) -> Any:
    """What makes a model the same model: all but the spec as typed and the display name (`hf:./m` and
    `hf:/abs/m` are one model; folders written before specs were portable, or before one naming rule
    gave every model its name, still resume)."""
    return {k: v for k, v in model.items() if k not in ("spec", "name")} if isinstance(model, dict) else model


def _scored(path: Path) -> dict[str, SampleRecord]:
    """The scored records of a samples file. The last line, when a crash cut it off (no newline at its
    end, not whole JSON), is passed over: its row is answered again. Any other line that is not a sample
    record means the file was changed or damaged: BadInputError naming the file, line and field."""
    if not path.exists():
        return {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: unreadable ({exc.strerror or exc})") from None
    lines = data.split(b"\n")
    kept: dict[str, SampleRecord] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        cut_off = number == len(lines)  # the only line that can lack its newline: the last one written
        try:
            record = SampleRecord.model_validate_json(raw)
        except ValidationError as exc:
            if cut_off and _not_json(raw):
                continue
            raise _bad_line(path, number, exc) from None
        if record.scored:
            kept[record.id] = record
    return kept


def _not_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return True
    return False


def _bad_line(path: Path, number: int, exc: ValidationError) -> BadInputError:
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error["loc"]) or None
    problem = "not JSON" if error["type"] == "json_invalid" else error["msg"]
    return BadInputError(
        f"{where(path, number, field)}: not a kobench sample record ({problem}); the file was changed or"
        " damaged. Fix or delete that line (its row is then answered again), or pass --overwrite to start"
        " the folder afresh"
    )


def _line(record: SampleRecord) -> str:
    return json.dumps(record.to_json(), ensure_ascii=False) + "\n"
