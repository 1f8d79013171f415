"""Model adapters by name: `--model ADAPTER:TARGET` (e.g. `hf:./my-model`, `hf:org/name`).

An adapter entry knows how to fingerprint a model without loading it (so a finished run that is
served entirely from the cache never loads the model) and how to load it. Third-party adapters
register through the `kobench.models` entry-point group: an object with `fingerprint` and `load`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from kobench.errors import BadInputError
from kobench.models.base import Model

ENTRY_POINT_GROUP = "kobench.models"


@dataclass(frozen=True)
class ModelOptions:
    """Adapter options from the command line; `output_settings` are the ones that change outputs."""

    dtype: str = "auto"
    device: str = "auto"
    trust_remote_code: bool = False
    revision: str | None = None
    batch_size: int = 8
    extra: dict[str, Any] = field(default_factory=dict)

    def output_settings(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "device": self.device,
            "revision": self.revision,
            "trust_remote_code": self.trust_remote_code,
            **self.extra,
        }


@dataclass(frozen=True)
class AdapterEntry:
    fingerprint: Callable[[str, ModelOptions], str]
    load: Callable[[str, ModelOptions], Model]


def _hf_fingerprint(target: str, options: ModelOptions) -> str:
    from kobench.models.fingerprint import model_fingerprint

    return model_fingerprint(target, options.revision)


def _hf_load(target: str, options: ModelOptions) -> Model:
    from kobench.models.hf import HFModel

    return HFModel(
        target,
        dtype=options.dtype,
        device=options.device,
        trust_remote_code=options.trust_remote_code,
        batch_size=options.batch_size,
        revision=options.revision,
    )


BUILTIN_ADAPTERS: dict[str, AdapterEntry] = {"hf": AdapterEntry(_hf_fingerprint, _hf_load)}


def adapters() -> dict[str, AdapterEntry]:
    found = dict(BUILTIN_ADAPTERS)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            raise BadInputError(f"model adapter {ep.name!r} is registered twice (entry point {ep.value})")
        found[ep.name] = ep.load()
    return found


def parse_model_spec(spec: str) -> tuple[str, str, AdapterEntry]:
    """'hf:PATH' -> ('hf', 'PATH', entry). Unknown adapters stop before any work."""
    adapter, sep, target = spec.partition(":")
    known = adapters()
    if not sep or not target:
        raise BadInputError(
            f"--model {spec!r}: expected ADAPTER:TARGET, e.g. hf:./model (adapters: "
            f"{', '.join(sorted(known))})"
        )
    if adapter not in known:
        raise BadInputError(
            f"--model {spec!r}: unknown model adapter {adapter!r} (known: {', '.join(sorted(known))})"
        )
    return adapter, target, known[adapter]
