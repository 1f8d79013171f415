"""Reasoning blocks (`<think>…</think>`) are not the answer: every extractor reads what is outside them."""

from __future__ import annotations

import re

_THINK_BLOCK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.IGNORECASE | re.DOTALL)
_THINK_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)


def strip_thinking(text: str) -> str | None:
    """The text outside think blocks; None when a think block never closes (the answer was cut off).
    A lone closing tag means the opening one was in the chat template: everything before it is thinking."""
    text = _THINK_BLOCK.sub("\n", text)
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    return None if _THINK_OPEN.search(text) else text
