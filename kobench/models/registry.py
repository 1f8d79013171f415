"""Model adapters by name: `--model ADAPTER:TARGET` (e.g. `hf:./my-model`, `hf:org/name`), or
`--model ADAPTER` for an adapter that needs no target (the baselines `tesseract`, `ocr-match`,
`chance`; an optional target such as `tesseract:kor` or `chance:1` sets their language or seed), or
`--model "constant:TEXT"`, the same answer to everything (captioning's blind baseline), or
`--model openai:MODEL@BASE_URL` for any OpenAI-compatible server (vLLM, GPT-4o), or `--model
vllm:MODEL_OR_PATH` for a vLLM server that kobench starts and stops itself.

An adapter entry knows how to name and fingerprint a model without loading it (so a finished run that is
served entirely from the cache never loads the model, and is named as a fresh run is) and how to load it.
Third-party adapters register an `AdapterEntry` under the `kobench.models` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from kobench.config import ModelOptions
from kobench.errors import BadInputError
from kobench.models import device as devices
from kobench.models.base import Model
from kobench.models.fingerprint import hf_name

ENTRY_POINT_GROUP = "kobench.models"


@dataclass(frozen=True)
class AdapterEntry:
    """`needs_target`: `--model ADAPTER` alone is an error (the target is then ""); `kinds`: the request
    kinds the adapter answers (None: all), so a run can refuse other tasks before any work."""

    fingerprint: Callable[[str, ModelOptions], str]
    load: Callable[[str, ModelOptions], Model]
    needs_target: bool = True
    kinds: frozenset[str] | None = None
    # The output-relevant settings as they will take effect (e.g. "auto" resolved to the device and
    # dtype this machine gives), so cached answers never cross from a GPU run to a CPU run.
    settings: Callable[[ModelOptions], dict[str, Any]] | None = None
    # The model's one display name (tables, results), from the target alone; default: the target's last
    # path component, or the adapter's name when there is no target.
    name: Callable[[str], str] | None = None
    # What its requests may carry: "text", "image", "loglikelihood" (a run refuses others before any work);
    # a set, or a function of the target and options for adapters where it depends on the model.
    accepts: frozenset[str] | Callable[[str, ModelOptions], frozenset[str]] = frozenset({"text", "image"})


def accepted(entry: AdapterEntry, target: str, options: ModelOptions) -> frozenset[str]:
    """What this adapter accepts for this model, known before it is loaded."""
    return entry.accepts(target, options) if callable(entry.accepts) else entry.accepts


def model_name(adapter: str, target: str, entry: AdapterEntry) -> str:
    """What tables and results call the model: the same on a fresh run and on a cached re-run that never
    loads it."""
    if entry.name is not None:
        return entry.name(target)
    return target.rstrip("/\\").replace("\\", "/").split("/")[-1] or adapter


def _variant_name(adapter: str, default: str) -> Callable[[str], str]:
    """`tesseract` for the default language, `tesseract:kor` for another (likewise ocr-match, chance)."""
    return lambda target: adapter if target in ("", default) else f"{adapter}:{target}"


def _openai_name(target: str) -> str:
    from kobench.llm.endpoint import Endpoint

    return Endpoint.parse(target).model


def _hf_fingerprint(target: str, options: ModelOptions) -> str:
    from kobench.models.compat import fingerprint_suffix
    from kobench.models.fingerprint import model_fingerprint
    from kobench.models.modalities import config_model_type

    # A compatibility layer kobench applies to the model's own code is part of what made the answers.
    model_type = config_model_type(target, options.revision) if options.trust_remote_code else None
    suffix = fingerprint_suffix(model_type) if model_type else ""
    return model_fingerprint(target, options.revision) + suffix


def _hf_accepts(target: str, options: ModelOptions) -> frozenset[str]:
    from kobench.models.modalities import hf_accepts

    # Any transformers causal LM scores continuations (kobench.models.loglikelihood).
    return hf_accepts(target, options.revision) | {"loglikelihood"}


def _hf_settings(options: ModelOptions) -> dict[str, Any]:
    """The device and dtype that "auto" gives on this machine, found without importing torch where that can
    be told for sure (so a re-run served from the cache never imports it). The model is loaded with exactly
    these (`_hf_load`), so the cache key names the device the answers really came from: a CPU run's answers
    never serve a GPU run, whatever the probe gets wrong."""
    device = devices.auto_device() if options.device == "auto" else options.device
    dtype = options.dtype
    if dtype == "auto":  # as the --dtype help says; torch can make bf16 tensors on every GPU it supports
        dtype = "bfloat16" if device.startswith("cuda") else "float32"
    return {**options.output_settings(), "device": device, "dtype": dtype}


def _hf_load(target: str, options: ModelOptions) -> Model:
    from kobench.models.hf import HFModel

    # The device and dtype the cache key names, never the adapter's own reading of "auto".
    settings = _hf_settings(options)
    if options.device == "auto" and settings["device"] == "cuda":
        import torch  # the model's loading imports it anyway

        if not torch.cuda.is_available():
            raise BadInputError(
                "--device auto chose cuda (the NVIDIA driver reports a GPU), but torch cannot use it"
                " (a driver older than its CUDA build?); pass --device cpu"
            )
    return HFModel(
        target,
        dtype=settings["dtype"],
        device=settings["device"],
        trust_remote_code=options.trust_remote_code,
        batch_size=options.batch_size,
        revision=options.revision,
        device_map=options.device_map,
        min_pixels=options.min_pixels,
        max_pixels=options.max_pixels,
        max_tiles=options.max_tiles,
        system_prompt=options.system_prompt,
        generation_defaults=options.generation_defaults,
    )


def _lang(target: str) -> str:
    from kobench.models.ocr import DEFAULT_LANG, check_lang

    lang = target or DEFAULT_LANG
    check_lang(lang)
    return lang


def _tesseract_fingerprint(target: str, options: ModelOptions) -> str:
    from kobench.models.ocr import tesseract_fingerprint

    return tesseract_fingerprint(_lang(target))


def _tesseract_load(target: str, options: ModelOptions) -> Model:
    from kobench.models.ocr import TesseractModel

    return TesseractModel(_lang(target))


def _ocr_match_fingerprint(target: str, options: ModelOptions) -> str:
    from kobench.models.ocr_match import ocr_match_fingerprint

    return ocr_match_fingerprint(_lang(target))


def _ocr_match_load(target: str, options: ModelOptions) -> Model:
    from kobench.models.ocr_match import OCRMatchModel

    return OCRMatchModel(_lang(target))


def _chance_fingerprint(target: str, options: ModelOptions) -> str:
    from kobench.models.chance import chance_fingerprint, parse_seed

    return chance_fingerprint(parse_seed(target))


def _chance_load(target: str, options: ModelOptions) -> Model:
    from kobench.models.chance import ChanceModel, parse_seed

    return ChanceModel(parse_seed(target))


def _constant_fingerprint(target: str, options: ModelOptions) -> str:
    from kobench.models.constant import constant_fingerprint

    return constant_fingerprint(target)


def _constant_load(target: str, options: ModelOptions) -> Model:
    from kobench.models.constant import ConstantModel

    return ConstantModel(target)


def _openai_fingerprint(target: str, options: ModelOptions) -> str:
    from kobench.models.openai_api import openai_fingerprint

    return openai_fingerprint(target)


def _openai_settings(options: ModelOptions) -> dict[str, Any]:
    return {"revision": options.revision, **options.extra}


def _concurrency(options: ModelOptions, replicas: int = 1):
    """The API adapters' requests in flight: --concurrency auto (up to --max-concurrency, by default the
    default maximum for each of the server's `replicas`) or fixed."""
    from kobench.llm.concurrency import DEFAULT_MAXIMUM, Concurrency

    if options.concurrency == "auto":
        return Concurrency.auto(options.max_concurrency or DEFAULT_MAXIMUM * replicas)
    return Concurrency.fixed(options.concurrency)


def _openai_load(target: str, options: ModelOptions) -> Model:
    from kobench.models.openai_api import OpenAIModel

    return OpenAIModel(
        target,
        api_key_env=options.api_key_env,
        concurrency=_concurrency(options),
        timeout=options.request_timeout,
        max_retry_after=options.max_retry_after,
    )


def _vllm_settings(options: ModelOptions) -> dict[str, Any]:
    from kobench.models.vllm_engine import engine_settings

    # The device kind "auto" finds here (vLLM's CPU and GPU builds answer alike only by chance).
    device = devices.auto_device() if options.device == "auto" else options.device
    return {**engine_settings(options.vllm, options.dtype, options.trust_remote_code), "device": device}


def _vllm_accepts(target: str, options: ModelOptions) -> frozenset[str]:
    from kobench.models.modalities import hf_accepts

    return hf_accepts(target, options.revision)  # what its config says it reads; no log-likelihoods (yet)


def _vllm_load(target: str, options: ModelOptions) -> Model:
    from kobench.models.vllm_engine import VLLMModel

    return VLLMModel(
        target,
        options=options.vllm,
        dtype=options.dtype,
        trust_remote_code=options.trust_remote_code,
        fingerprint=_hf_fingerprint(target, options),
        # vLLM balances the requests over its data-parallel replicas: each keeps its own batch full.
        concurrency=_concurrency(options, replicas=options.vllm.data_parallel_size),
        timeout=options.request_timeout,
        max_retry_after=options.max_retry_after,
    )


BUILTIN_ADAPTERS: dict[str, AdapterEntry] = {
    "hf": AdapterEntry(_hf_fingerprint, _hf_load, settings=_hf_settings, name=hf_name, accepts=_hf_accepts),
    "tesseract": AdapterEntry(
        _tesseract_fingerprint,
        _tesseract_load,
        needs_target=False,
        kinds=frozenset({"read", "ground"}),
        name=_variant_name("tesseract", "kor+eng"),
    ),
    "ocr-match": AdapterEntry(
        _ocr_match_fingerprint,
        _ocr_match_load,
        needs_target=False,
        kinds=frozenset({"choice", "open", "read"}),
        name=_variant_name("ocr-match", "kor+eng"),
    ),
    "chance": AdapterEntry(
        _chance_fingerprint, _chance_load, needs_target=False, name=_variant_name("chance", "0")
    ),
    "constant": AdapterEntry(_constant_fingerprint, _constant_load, name=lambda target: "constant"),
    # An OpenAI-compatible server (vLLM, GPT-4o, ...): `openai:MODEL@BASE_URL`.
    # A server does not say what it accepts: --modalities does (default text and image).
    "openai": AdapterEntry(
        _openai_fingerprint,
        _openai_load,
        settings=_openai_settings,
        name=_openai_name,
        accepts=lambda target, options: frozenset(options.modalities),
    ),
    # A vLLM server kobench starts and stops itself (kobench.models.vllm_engine): `vllm:MODEL_OR_PATH`.
    "vllm": AdapterEntry(
        _hf_fingerprint, _vllm_load, settings=_vllm_settings, name=hf_name, accepts=_vllm_accepts
    ),
}


def resolved_settings(entry: AdapterEntry, options: ModelOptions) -> dict[str, Any]:
    """The adapter's output-relevant settings as they take effect (plugins may give no `settings`)."""
    return entry.settings(options) if entry.settings else options.output_settings()


def adapters() -> dict[str, AdapterEntry]:
    found = dict(BUILTIN_ADAPTERS)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            raise BadInputError(f"model adapter {ep.name!r} is registered twice (entry point {ep.value})")
        entry = ep.load()
        if not isinstance(entry, AdapterEntry):
            raise BadInputError(
                f"model adapter {ep.name!r} (entry point {ep.value}) is a {type(entry).__name__}, not a "
                "kobench.models.registry.AdapterEntry(fingerprint=..., load=...); see README 'Adding a model'"
            )
        found[ep.name] = entry
    return found


def parse_model_spec(spec: str) -> tuple[str, str, AdapterEntry]:
    """'hf:PATH' -> ('hf', 'PATH', entry); 'tesseract' -> ('tesseract', '', entry) for an adapter
    that needs no target. Unknown adapters and missing targets stop before any work."""
    adapter, _, target = spec.partition(":")
    known = adapters()
    names = ", ".join(sorted(known))
    if not adapter:
        raise BadInputError(
            f"--model {spec!r}: expected ADAPTER:TARGET (e.g. hf:./model) or ADAPTER (adapters: {names})"
        )
    if adapter not in known:
        raise BadInputError(f"--model {spec!r}: unknown model adapter {adapter!r} (known: {names})")
    entry = known[adapter]
    if not target and entry.needs_target:
        bare = ", ".join(sorted(n for n, e in known.items() if not e.needs_target))
        example = "hf:./model or hf:org/name" if adapter == "hf" else f"{adapter}:TARGET"
        raise BadInputError(
            f"--model {spec!r}: the {adapter!r} adapter needs a target: ADAPTER:TARGET, e.g. {example}"
            + (f" (adapters that need none: {bare})" if bare else "")
        )
    return adapter, target, entry
