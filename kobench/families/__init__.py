"""Task families by name: how rows become requests and responses become scores; and the tasks as runs
use them (loaded, and checked against their family: the spec itself knows no family)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from kobench.errors import BadInputError
from kobench.extract.protocol import PROTOCOL_PARSERS
from kobench.families.base import Family, metrics_of
from kobench.families.captioning import Captioning
from kobench.families.ccocr import CCOCRReading
from kobench.families.docvqa import DocVQA
from kobench.families.grounding import Grounding
from kobench.families.instruction_following import InstructionFollowing
from kobench.families.judged import Judged
from kobench.families.math import MathAnswer
from kobench.families.multiple_choice import MultipleChoice
from kobench.families.reading import Reading
from kobench.families.textvqa import TextVQA
from kobench.tasks import registry
from kobench.tasks.spec import TaskSpec, key_line

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        MultipleChoice(),
        Reading(),
        Grounding(),
        DocVQA(),
        Captioning(),
        Judged(),
        TextVQA(),
        CCOCRReading(),
        InstructionFollowing(),
        MathAnswer(),
    )
}


def primary_metric(task: TaskSpec) -> str:
    """The task's primary metric: the one it names, else its family's first."""
    return task.primary_metric or metrics_of(FAMILIES[task.family], task)[0].name


def check_fits(task: TaskSpec) -> TaskSpec:
    """The task names every column role its family needs and a metric the family has; BadInputError
    naming the file, line and key otherwise."""
    family = FAMILIES[task.family]
    problems = []
    # A task whose every version scores choices by log-likelihood reads its choices and target from its
    # own expressions, not from question/answer columns.
    generates = any(v.method == "generate" for v in task.prompt.versions.values())
    roles = family.roles if generates else ()
    missing = [role for role in roles if getattr(task.columns, role) is None]
    if missing:
        problems.append((("columns",), f"family {task.family} needs columns.{', columns.'.join(missing)}"))
    if task.family == "multiple_choice":  # a parser name is checked here, not at the first answer
        known = ", ".join(PROTOCOL_PARSERS)
        where = [(("scoring", "protocol_parser"), task.scoring.protocol_parser)] + [
            (("prompt", "versions", name, "protocol_parser"), v.protocol_parser)
            for name, v in task.prompt.versions.items()
        ]
        problems += [
            (loc, f"{p!r} is not a protocol parser ({known})")
            for loc, p in where
            if p and p not in PROTOCOL_PARSERS
        ]
    names = [m.name for m in metrics_of(family, task)]
    if task.primary_metric is not None and task.primary_metric not in names:
        problems.append((("primary_metric",), f"{task.primary_metric!r} is not one of {names}"))
    if problems:
        lines = [
            f"{task.path}:{key_line(task.path, loc) or '?'}: {'.'.join(loc)}: {msg}" for loc, msg in problems
        ]
        raise BadInputError("invalid task file\n" + "\n".join(lines))
    return task


def load_tasks(task_dirs: Sequence[Path] = ()) -> dict[str, TaskSpec]:
    """Every known task by name (built-in, plugins, `task_dirs`), each checked against its family."""
    return {name: check_fits(task) for name, task in registry.load_registry(task_dirs).items()}


def resolve_tasks(names: Iterable[str], task_dirs: Sequence[Path] = ()) -> list[TaskSpec]:
    """The requested tasks in order, each checked against its family; unknown names stop before any work."""
    return [check_fits(task) for task in registry.resolve_tasks(names, task_dirs)]
