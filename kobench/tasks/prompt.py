"""Render a task's prompt template for one row: Jinja2, sandboxed, undefined names are errors."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment


def _lines(value: Any) -> str:
    # lmms-eval's K-LLaVA-W judge context: "\n".join(captions) if a list, else the value as it is.
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


# keep_trailing_newline: protocol strings are byte-exact, and Jinja drops a final newline by default
# (the K-LLaVA-W judge message ends with two newlines).
_ENV = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
_ENV.filters["lines"] = _lines
_ENV.filters["first_answer"] = _first


@lru_cache(maxsize=64)
def compile_template(template: str):
    """Model prompts and judge messages alike: sandboxed, undefined names are errors."""
    return _ENV.from_string(template)


def render(template: str, row: dict[str, Any], options: list[tuple[str, str]]) -> str:
    """Columns with identifier names are top-level variables; every column is also `row[...]`;
    `options` is the list of {letter, text} actually present (missing options left out)."""
    context: dict[str, Any] = {k: v for k, v in row.items() if k.isidentifier()}
    context["row"] = row
    context["options"] = [{"letter": letter, "text": text} for letter, text in options]
    try:
        return compile_template(template).render(**context)
    except TemplateError as exc:
        raise ValueError(f"prompt template failed: {exc}") from exc
