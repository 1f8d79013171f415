"""Render a task's prompt template for one row: Jinja2, sandboxed, undefined names are errors."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

# keep_trailing_newline: protocol strings are byte-exact, and Jinja drops a final newline by default.
_ENV = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


@lru_cache(maxsize=64)
def _compile(template: str):
    return _ENV.from_string(template)


def render(template: str, row: dict[str, Any], options: list[tuple[str, str]]) -> str:
    """Columns with identifier names are top-level variables; every column is also `row[...]`;
    `options` is the list of {letter, text} actually present (missing options left out)."""
    context: dict[str, Any] = {k: v for k, v in row.items() if k.isidentifier()}
    context["row"] = row
    context["options"] = [{"letter": letter, "text": text} for letter, text in options]
    try:
        return _compile(template).render(**context)
    except TemplateError as exc:
        raise ValueError(f"prompt template failed: {exc}") from exc
