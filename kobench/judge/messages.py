"""A judge's chat messages for one answer, rendered byte-exact from the task's judge spec."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError

from kobench.tasks.prompt import compile_template
from kobench.tasks.spec import JudgeSpec


def judge_messages(spec: JudgeSpec, context: dict[str, Any], prediction: str) -> list[dict[str, str]]:
    """OpenAI-format messages: the spec's system message (if any), then the rendered user message."""
    variables = {k: v for k, v in context.items() if k.isidentifier()}
    variables.update(spec.variables)
    variables["row"] = context
    variables["prediction"] = prediction
    try:
        content = compile_template(spec.template).render(**variables)
    except TemplateError as exc:
        raise ValueError(str(exc)) from exc
    messages = [{"role": "system", "content": spec.system}] if spec.system else []
    messages.append({"role": "user", "content": content})
    return messages
