"""The `constant` adapter: the same answer to every request, whatever the image.

`--model "constant:TEXT"`. For captioning this is the blind baseline of the captioning literature: a
caption that fits the dataset's images in general and none in particular shows how much of a score
needs no looking at all (CIDEr-D punishes it hard; BLEU-1 and embedding cosine much less).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from kobench.types import Request, Response

VERSION = "1"


def constant_fingerprint(text: str) -> str:
    return f"constant:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}:{VERSION}"


class ConstantModel:
    adapter = "constant"

    def __init__(self, text: str) -> None:
        self.text = text
        self.name = "constant"
        self.fingerprint = constant_fingerprint(text)
        self.settings: dict[str, Any] = {"text": text}

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        return [Response(text=self.text, request_id=request.id, finish_reason="stop") for request in requests]
