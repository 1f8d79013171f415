"""The caption in a response: what is scored against the references.

The published protocol scores the response as it is (whitespace trimmed). kobench's reading also
drops what is not the caption: reasoning blocks, a leading label ("설명:", "Caption:"), wrapping quotes
and markdown emphasis. Both keep every word of the caption itself.
"""

from __future__ import annotations

import re

from kobench.extract.thinking import strip_thinking
from kobench.normalize import QUOTE_PAIRS, collapse_spaces, nfc

CAPTION_CLEANER_VERSION = "1"

_LABEL = re.compile(
    r"^\s*(?:이미지\s*)?(?:설명|캡션|답변|답|caption|description|answer)\s*[:：]\s*", re.IGNORECASE
)
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_QUOTES = dict(QUOTE_PAIRS)


def protocol_caption(response: str) -> str:
    return collapse_spaces(nfc(response))


def clean_caption(response: str) -> str:
    """The caption with reasoning, labels, quotes and emphasis removed; "" when nothing is left
    (or a reasoning block never closed: the caption was cut off)."""
    text = strip_thinking(response)
    if text is None:
        return ""
    text = collapse_spaces(nfc(text))
    text = _LABEL.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    while len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text
