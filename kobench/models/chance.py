"""The `chance` adapter: what guessing scores, the floor every model must beat.

`--model chance` (seed 0) or `--model chance:SEED`. Each request draws from its own
`random.Random`, seeded by sha256 of "SEED:REQUEST_ID": answers depend on the seed and the row only,
never on order or batching. "choice": a letter drawn uniformly from the request's options;
"ground": a random box "[x1, y1, x2, y2]" (0-1, x1 < x2, y1 < y2); "read", "open" and others: "".
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any

from kobench.errors import BadInputError
from kobench.types import Request, Response

VERSION = "1"  # bump when what a seed draws changes


def parse_seed(target: str) -> int:
    if not target:
        return 0
    try:
        return int(target)
    except ValueError:
        raise BadInputError(f"chance:{target}: the target is a seed, an integer (e.g. chance:1)") from None


def chance_fingerprint(seed: int = 0) -> str:
    return f"chance:{seed}:{VERSION}"


class ChanceModel:
    adapter = "chance"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.name = "chance" if seed == 0 else f"chance:{seed}"
        self.fingerprint = chance_fingerprint(seed)
        self.settings: dict[str, Any] = {"seed": seed}

    def rng(self, request_id: str) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}:{request_id}".encode()).hexdigest()
        return random.Random(int(digest, 16))

    def answer(self, request: Request) -> str:
        rng = self.rng(request.id)
        if request.kind == "choice":
            return rng.choice(request.options)[0] if request.options else ""
        if request.kind == "ground":
            (x1, x2), (y1, y2) = _span(rng), _span(rng)
            return "[" + ", ".join(f"{v:.3f}" for v in (x1, y1, x2, y2)) + "]"
        return ""

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for request in requests:
            try:
                out.append(Response(text=self.answer(request), request_id=request.id, finish_reason="stop"))
            except Exception as exc:  # never raise for one request
                out.append(Response(text=None, error=f"{type(exc).__name__}: {exc}", request_id=request.id))
        return out


def _span(rng: random.Random) -> tuple[float, float]:
    """Two sorted draws that still differ at 3 decimals."""
    while True:
        a, b = sorted(round(rng.random(), 3) for _ in range(2))
        if a < b:
            return a, b
