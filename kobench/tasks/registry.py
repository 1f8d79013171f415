"""Where tasks come from: the built-in tasks/ folder, --task-dir folders, and plugin entry points."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

from kobench.errors import BadInputError
from kobench.tasks.spec import TaskSpec, load_task_file

ENTRY_POINT_GROUP = "kobench.tasks"  # each entry point returns a folder of task YAML files


def builtin_task_dir() -> Path:
    # In a source checkout the YAML sits at the top-level tasks/; an installed wheel carries it
    # as the package kobench.builtin_tasks.
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "tasks"
    if checkout.is_dir() and (package.parent / "pyproject.toml").is_file():
        return checkout
    return package / "builtin_tasks"


def _plugin_dirs() -> list[Path]:
    dirs = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        target = ep.load()
        dirs.append(Path(target() if callable(target) else target))
    return dirs


def _task_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise BadInputError(f"task folder not found: {directory}")
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_registry(task_dirs: Sequence[Path] = ()) -> dict[str, TaskSpec]:
    """All known tasks by name; a name defined twice is an error naming both files."""
    tasks: dict[str, TaskSpec] = {}
    for directory in [builtin_task_dir(), *_plugin_dirs(), *task_dirs]:
        for path in _task_files(Path(directory)):
            spec = load_task_file(path)
            if spec.name in tasks:
                raise BadInputError(
                    f"task {spec.name!r} is defined twice: {tasks[spec.name].path} and {path}"
                )
            tasks[spec.name] = spec
    return tasks


def resolve_tasks(names: Iterable[str], task_dirs: Sequence[Path] = ()) -> list[TaskSpec]:
    """The specs for the requested names, in order; unknown names stop before any work."""
    registry = load_registry(task_dirs)
    wanted = [n.strip() for n in names if n.strip()]
    if not wanted:
        raise BadInputError("no task given: pass --tasks NAME[,NAME...] (see `kobench tasks`)")
    unknown = [n for n in wanted if n not in registry]
    if unknown:
        raise BadInputError(f"unknown task(s): {', '.join(unknown)}. Known: {', '.join(sorted(registry))}")
    return [registry[n] for n in dict.fromkeys(wanted)]
