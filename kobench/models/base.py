"""The model protocol: one class, one method."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from kobench.types import Request, Response


@runtime_checkable
class Model(Protocol):
    """A model adapter.

    `name` is what tables show, `adapter` the adapter's registry name, `fingerprint` a string that
    changes whenever the model's outputs may change (a new checkpoint at the same path included),
    `settings` the output-relevant constructor arguments (recorded in results and in cache keys).

    `generate` takes a batch of requests and returns one Response per request, in order. It must not
    raise for a single bad request: it returns a Response with `error` set for it instead.
    """

    name: str
    adapter: str
    fingerprint: str
    settings: dict[str, Any]

    def generate(self, requests: Sequence[Request]) -> list[Response]: ...
