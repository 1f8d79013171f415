"""A model adapter that answers from a script: it lets tests know the right score in advance.

It is registered exactly as a third-party adapter would be (an AdapterEntry), so the runner,
cache and output code paths are the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from kobench.models.registry import AdapterEntry, ModelOptions
from kobench.types import Request, Response


@dataclass
class ScriptedModel:
    script: Callable[[Request], str | None]
    name: str = "scripted"
    adapter: str = "scripted"
    fingerprint: str = "scripted:1"
    settings: dict = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    interrupt_after: int | None = None  # raise KeyboardInterrupt once this many requests were answered

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        for request in requests:
            if self.interrupt_after is not None and len(self.calls) >= self.interrupt_after:
                raise KeyboardInterrupt
            self.calls.append(request.id)
            text = self.script(request)
            yield (
                Response(text=text, n_tokens=len(text or ""), request_id=request.id)
                if text is not None
                else Response(text=None, error="scripted failure", request_id=request.id)
            )


def register(monkeypatch, model: ScriptedModel, loads: list | None = None) -> None:
    from kobench.models import registry

    def load(target: str, options: ModelOptions) -> ScriptedModel:
        if loads is not None:
            loads.append(target)
        return model

    monkeypatch.setitem(
        registry.BUILTIN_ADAPTERS,
        "scripted",
        AdapterEntry(fingerprint=lambda target, options: model.fingerprint, load=load),
    )
