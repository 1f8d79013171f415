"""A judge's chat messages for one answer, rendered byte-exact from the task's judge spec. The system
message is a template too (Ko-MT-Bench's differs by turn and category); one without Jinja syntax renders
as it is written."""

from __future__ import annotations

from typing import Any

from kobench.tasks.prompt import render_text
from kobench.tasks.spec import JudgeSpec


def judge_messages(spec: JudgeSpec, context: dict[str, Any], prediction: str) -> list[dict[str, str]]:
    """OpenAI-format messages: the spec's system message (if any), then the rendered user message."""
    variables = {k: v for k, v in context.items() if k.isidentifier()}
    variables.update(spec.variables)
    variables["row"] = context
    variables["prediction"] = prediction
    # TemplateFailed (naming the template) if either fails; every row's are tried before any work (judged)
    content = render_text(spec.template, variables, "judge template")
    system = render_text(spec.system, variables, "judge system message") if spec.system else ""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": content})
    return messages
