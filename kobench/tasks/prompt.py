"""Render a task's prompt template for one row: Jinja2, sandboxed, undefined names are errors; and the
prompt version's hash, which signatures carry."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, meta

from kobench.tasks.sandbox import TemplateLimit, bounded, environment
from kobench.tasks.spec import PromptVersion

# What a prompt version sends the model, and so what its hash covers: not `source` (a citation) nor what
# only scores the answers. A field added here changes every version's hash, and so every signature.
PROMPT_HASH_FIELDS = ("system", "template", "max_new_tokens", "stop")
# What a log-likelihood version sends besides: hashed only where a version sets them (not their defaults),
# so the hashes of the generating versions, which cannot set them, are the ones they always were.
LOGLIKELIHOOD_HASH_FIELDS = (
    "method",
    "choices",
    "target",
    "target_delimiter",
    "fewshot",
    "fewshot_delimiter",
    "fewshot_seed",
    "fewshot_within",
)
PROMPT_HASH_LENGTH = 8


def _lines(value: Any) -> str:
    # lmms-eval's K-LLaVA-W judge context: "\n".join(captions) if a list, else the value as it is.
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


class TemplateFailed(Exception):
    """A task file's template or expression raised on a row (or would cost more than a render may): the
    task file's fault, or the row's it cannot read, so bad input stopped before any work with the file, key
    and row named (kobench.run.prepare), never one row's counted failure. `source` is the template or
    expression text, by which the caller finds the task-file key that holds it. Not a ValueError, so the
    families' row-level `except ValueError` (a value that is no option, a target that is no choice) leaves it
    alone."""

    def __init__(self, source: str, why: str, row: int | None = None, row_id: str | None = None) -> None:
        super().__init__(why)
        self.source, self.why, self.row, self.row_id = source, why, row, row_id

    def at(self, row: int, row_id: str) -> TemplateFailed:
        """The same failure, told the row (1-based, among the task's rows) and its id."""
        return TemplateFailed(self.source, self.why, row, row_id)


_ENV = environment()  # sandboxed, StrictUndefined, every render on a budget (kobench.tasks.sandbox)
_ENV.filters["lines"] = _lines
_ENV.filters["first_answer"] = _first


@lru_cache(maxsize=64)
def compile_template(template: str):
    """Model prompts and judge messages alike: sandboxed, undefined names are errors."""
    return _ENV.from_string(template)


@lru_cache(maxsize=64)
def compile_expression(expression: str):
    """A Jinja expression over a row that gives a value, not text (a list of choices, an index)."""
    return _ENV.compile_expression(expression, undefined_to_none=False)


def row_context(row: dict[str, Any]) -> dict[str, Any]:
    """What templates and expressions see: columns with identifier names as names, and `row[...]`."""
    context: dict[str, Any] = {k: v for k, v in row.items() if k.isidentifier()}
    context["row"] = row
    return context


def _failed(source: str, what: str, exc: Exception) -> TemplateFailed:
    why = str(exc) if isinstance(exc, TemplateLimit) else f"{type(exc).__name__}: {exc}"
    return TemplateFailed(source, f"{what} failed: {why}")


def evaluate(expression: str, row: dict[str, Any]) -> Any:
    """The value of a Jinja expression over the row (TemplateFailed naming the expression if it fails)."""
    try:
        with bounded():
            return compile_expression(expression)(**row_context(row))
    except Exception as exc:  # whatever a task file's expression raises is the task file's (or row's) fault
        raise _failed(expression, f"expression {expression!r}", exc) from exc


def holds(expression: str, row: dict[str, Any]) -> bool:
    """Whether a Jinja expression over the row is true, as Python's `if` reads its value (TemplateFailed
    naming the expression if it fails)."""
    value = evaluate(expression, row)
    try:
        return bool(value)
    except TemplateError as exc:  # an undefined value has no truth
        raise _failed(expression, f"expression {expression!r}", exc) from exc


def template_names(template: str) -> set[str]:
    """The top-level names a template reads (columns, `options`, `row`, ...), found without rendering it."""
    return set(meta.find_undeclared_variables(_ENV.parse(template)))


def render(template: str, row: dict[str, Any], options: list[tuple[str, str]]) -> str:
    """Columns with identifier names are top-level variables; every column is also `row[...]`;
    `options` is the list of {letter, text} actually present (missing options left out)."""
    context = row_context(row)
    context["options"] = [{"letter": letter, "text": text} for letter, text in options]
    return render_text(template, context, "prompt template")


def render_text(template: str, variables: dict[str, Any], what: str = "template") -> str:
    """`template` rendered with `variables`, on one render's budget: written a piece at a time and stopped
    as soon as it passes the characters a prompt may have. TemplateFailed if it raises or passes a limit."""
    try:
        with bounded() as budget:
            pieces, size = [], 0
            for piece in compile_template(template).generate(**variables):
                size += len(piece)
                budget.allow(size, "the rendered text")
                pieces.append(piece)
            return "".join(pieces)
    except Exception as exc:  # whatever a task file's template raises is the task file's (or row's) fault
        raise _failed(template, what, exc) from exc


def prompt_hash(version: PromptVersion) -> str:
    """A short hash (8 hex digits of sha256) of what the prompt version sends: its system message, template
    and its own generation settings (max_new_tokens, stop), as canonical JSON. Two runs with the same
    version name but different hashes did not ask the same thing (tests/snapshots/prompts keeps every
    version's rendering and fails a changed one)."""
    data = {name: getattr(version, name) for name in PROMPT_HASH_FIELDS}
    defaults = type(version).model_fields
    data.update(
        (name, getattr(version, name))
        for name in LOGLIKELIHOOD_HASH_FIELDS
        if getattr(version, name) != defaults[name].default
    )
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:PROMPT_HASH_LENGTH]
