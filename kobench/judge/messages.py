"""A judge's chat messages for one answer, rendered byte-exact from the task's judge spec."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from kobench.tasks.spec import JudgeSpec


def _lines(value: Any) -> str:
    # lmms-eval's K-LLaVA-W: "\n".join(captions) if a list, else the value as it is.
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


# keep_trailing_newline: the K-LLaVA-W message ends with two newlines, which Jinja would otherwise drop.
_ENV = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
_ENV.filters["lines"] = _lines
_ENV.filters["first_answer"] = _first


@lru_cache(maxsize=32)
def _compile(template: str):
    return _ENV.from_string(template)


def judge_messages(spec: JudgeSpec, context: dict[str, Any], prediction: str) -> list[dict[str, str]]:
    """OpenAI-format messages: the spec's system message (if any), then the rendered user message."""
    variables = {k: v for k, v in context.items() if k.isidentifier()}
    variables.update(spec.variables)
    variables["row"] = context
    variables["prediction"] = prediction
    try:
        content = _compile(spec.template).render(**variables)
    except TemplateError as exc:
        raise ValueError(str(exc)) from exc
    messages = [{"role": "system", "content": spec.system}] if spec.system else []
    messages.append({"role": "user", "content": content})
    return messages
