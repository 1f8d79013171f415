"""One rank of a data parallel run, started by tests/test_data_parallel.py in a process of its own (the
environment torchrun would give it, a gloo group on loopback), answering with a scripted model so the
scores are known. Kept in a module of its own so multiprocessing's spawn can import it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from scripted_model import ScriptedModel

# K-SEED copies answer A, B, C, D, A, ... by row: the script is right on rows whose id is even.
LETTERS = "ABCD"


def answer(request) -> str:
    i = int(request.id) - 1000
    right = LETTERS[i % 4]
    return f"정답은 {right}입니다." if i % 2 == 0 else LETTERS[(i + 1) % 4]


class DyingModel(ScriptedModel):
    """Killed (os._exit, as a SIGKILL or a lost node would) once it has answered `die_after` requests."""

    die_after: int | None = None

    def generate(self, requests):
        for response in super().generate(requests):
            yield response
            if self.die_after is not None and len(self.calls) >= self.die_after:
                os._exit(9)


def rank_main(
    rank: int,
    world: int,
    port: int,
    evaluate_kwargs: dict,
    die_after: int | None,
    out: str,
    fingerprint_by_rank: bool = False,
) -> None:
    """`fingerprint_by_rank`: the model's fingerprint differs on each rank (as a Hub model's would where
    main moved between the ranks' lookups)."""
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_WORLD_SIZE=str(world),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    from kobench.api import evaluate
    from kobench.models import registry
    from kobench.models.registry import AdapterEntry

    model = DyingModel(answer)
    model.die_after = die_after
    fingerprint = f"{model.fingerprint}@rank{rank}" if fingerprint_by_rank else model.fingerprint
    registry.BUILTIN_ADAPTERS["scripted"] = AdapterEntry(
        fingerprint=lambda target, options: fingerprint, load=lambda target, options: model
    )
    result = evaluate("scripted:x", "k-seed", **evaluate_kwargs)
    Path(out).write_text(
        json.dumps({"result": result.model_dump(mode="json"), "calls": model.calls}), encoding="utf-8"
    )
