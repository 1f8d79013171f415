"""The `hf` adapter: a transformers vision-language model on a local GPU or CPU.

Requests are grouped by generation settings, sorted by prompt length and run in left-padded batches;
while the model runs, a background thread decodes the next batch's images and, on an accelerator, runs the
processor on them too (see `generate`).
A request that fails (unreadable image, a batch that raises) gets a Response with `error` set; a failed
batch is retried one request at a time so only the bad request fails.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any

import torch
import transformers
from transformers import StoppingCriteriaList

from kobench.errors import BadInputError
from kobench.images import ImageError
from kobench.models.batching import BatchSize, free_accelerator_memory, out_of_memory
from kobench.models.chat_formats import chat_format
from kobench.models.compat import apply_layers, fingerprint_suffix
from kobench.models.cpu_threads import CpuThreads
from kobench.models.family_settings import apply_image_settings, image_kwargs
from kobench.models.family_settings import generation_defaults as generation_defaults_for
from kobench.models.fingerprint import hf_name, model_fingerprint, pinned_commit
from kobench.models.loglikelihood import LoglikelihoodScorer
from kobench.models.modalities import config_model_type
from kobench.models.stops import StopStrings
from kobench.models.token_counts import image_token_id, prompt_token_counts
from kobench.parallel import Ranks
from kobench.types import GenerationSettings, Message, Request, Response, TextPart

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# Tried in order; the first whose mapping knows the config's class (or, with remote code, that the
# config's auto_map names) loads the model. AutoModelForVision2Seq is gone from transformers 5.
# --batch-size auto on an accelerator: the first batch size tried (halved on out-of-memory).
AUTO_BATCH_START = 64
AUTO_CLASSES = ("AutoModelForImageTextToText", "AutoModelForVision2Seq", "AutoModelForCausalLM")


@dataclass
class _Item:
    index: int
    request: Request
    prompt: str


@dataclass(frozen=True)
class _Prepared:
    """A batch on its way to the model: the items whose images decoded, those images, the processor's
    inputs once it has run (or its error), and the requests that failed already."""

    items: list[_Item]
    images: list[list[Any]]
    failed: dict[int, Response] = field(default_factory=dict)
    inputs: Any = None
    error: BaseException | None = None

    @property
    def processed(self) -> bool:
        return self.inputs is not None or self.error is not None or not self.items


class HFModel:
    """A transformers image-text-to-text model loaded from a local folder or a Hub id."""

    adapter = "hf"

    def __init__(
        self,
        path_or_id: str,
        *,
        dtype: str = "auto",
        device: str = "auto",
        trust_remote_code: bool = False,
        batch_size: int | str = 8,
        revision: str | None = None,
        device_map: str | None = None,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        max_tiles: int | None = None,
        system_prompt: str | None = None,
        generation_defaults: str = "greedy",
    ) -> None:
        if batch_size != "auto" and not (isinstance(batch_size, int) and batch_size >= 1):
            raise BadInputError(f"batch size must be at least 1 (or auto), got {batch_size}")
        if dtype != "auto" and dtype not in DTYPES:
            raise BadInputError(f"unknown dtype {dtype!r}; expected auto, {', '.join(DTYPES)}")
        self.path_or_id = path_or_id
        self.name = hf_name(path_or_id)
        identity = model_fingerprint(path_or_id, revision)
        # A compatibility layer applied to the model's own code is part of what made the answers.
        suffix = fingerprint_suffix(config_model_type(path_or_id, revision)) if trust_remote_code else ""
        self.fingerprint = identity + suffix
        self.device = _resolve_device(device)
        # "auto": start large on an accelerator and halve on out-of-memory (the size reached is reported).
        start = (
            (AUTO_BATCH_START if self.device.type == "cuda" else 8) if batch_size == "auto" else batch_size
        )
        self.batch = BatchSize(int(start), auto=batch_size == "auto")
        self.torch_dtype = _resolve_dtype(dtype, self.device)
        self.cpu_threads = CpuThreads.detect() if self.device.type == "cpu" else None
        if self.cpu_threads is not None:
            self.cpu_threads.set_for_batch(decoding_beside=False)
        self._stops: dict[tuple[str, ...], StoppingCriteriaList] = {}
        self._decode_seconds = self._generate_seconds = 0.0  # the last batch's, for `_overlap_pays`
        # As given (so they are known without loading the model, like the registry's cache keys);
        # the resolved ones are `self.device` and `self.torch_dtype`.
        self.settings: dict[str, Any] = {
            "dtype": dtype,
            "device": device,
            "revision": revision,
            "trust_remote_code": trust_remote_code,
        }
        image_options = {"min_pixels": min_pixels, "max_pixels": max_pixels, "max_tiles": max_tiles}
        self.settings.update({k: v for k, v in image_options.items() if v is not None})
        if system_prompt is not None:
            self.settings["system_prompt"] = system_prompt
        if generation_defaults != "greedy":
            self.settings["generation_defaults"] = generation_defaults
        self.system_prompt = system_prompt
        self.generation_mode = generation_defaults
        # A Hub model loads the very commit its fingerprint names.
        load_revision = pinned_commit(identity)
        # --device-map: the model sharded over the GPUs by accelerate (one too large for one GPU); inputs go
        # to its first device.
        self.processor, self.tokenizer, self.model, self.compat, self.card_generation = _load(
            path_or_id,
            load_revision,
            trust_remote_code,
            self.torch_dtype,
            device_map or str(self.device),
            image_options=image_options,
            generation_defaults=generation_defaults,
        )
        if device_map is not None:
            self.device = self.model.device
        self.format = chat_format(self.processor, self.tokenizer, self.model, max_tiles)
        self.image_token = image_token_id(self.model.config)
        if self.format.max_batch is not None and self.batch.value > self.format.max_batch:
            self.batch = BatchSize(self.format.max_batch)
        self.tokenizer.padding_side = "left"  # right padding changes what a batch generates
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # A base model without one can still score log-likelihood requests (the raw text, as lm-eval does).
        self.chat = (
            hasattr(self.format, "respond")  # the model's own chat method builds its prompts
            or getattr(self.processor, "chat_template", None) is not None
            or bool(getattr(self.tokenizer, "chat_template", None))
        )
        self._scorer: LoglikelihoodScorer | None = None

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        """Every request of a task: log-likelihood requests scored in batches of (context, continuation)
        rows (kobench.models.loglikelihood); the others grouped by generation settings, sorted by length,
        run in left-padded batches, each batch's answers yielded as soon as it is done, while the next
        batch's images are decoded and preprocessed in a background thread."""
        scored = [r for r in requests if r.continuations]
        if scored:
            if self._scorer is None:
                self._scorer = LoglikelihoodScorer(self.model, self.tokenizer, self.batch)
            yield from self._scorer.score(scored)
        requests = [r for r in requests if not r.continuations]
        if requests and not self.chat:
            raise BadInputError(
                f"model {self.path_or_id} has no chat template; the hf adapter generates with chat models"
                " only (a base model runs log-likelihood prompt versions)"
            )
        # By generation settings and, where the interface says which requests may share a call, that too.
        groups: dict[tuple[GenerationSettings, Any], list[_Item]] = {}
        batch_key = getattr(self.format, "batch_key", None)
        for index, request in enumerate(map(self._with_system_prompt, requests)):
            try:
                prompt = self._render(request)
            except Exception as exc:
                yield Response(
                    text=None, error=f"chat template failed: {_describe(exc)}", request_id=request.id
                )
                continue
            key = (request.generation, batch_key(request) if batch_key else None)
            groups.setdefault(key, []).append(_Item(index, request, prompt))

        for items in groups.values():
            # Longest first: similar lengths pad little, and an out-of-memory batch shows up at once.
            items.sort(key=lambda item: len(item.prompt), reverse=True)
        plan = self._batches(groups)
        current = next(plan, None)
        if current is None:
            return
        ids = {item.index: item.request.id for items in groups.values() for item in items}
        # What the background thread does for the next batch while this one generates. On an accelerator,
        # decoding and the processor: the main thread mostly waits on the device meanwhile. On the CPU,
        # decoding only, which releases the GIL, while the processor's Python would take turns with
        # generate's. Measured on two cores, 200 rows of a tiny LLaVA: the processor in the background made
        # generate 1.2x slower to save 5% of the run; decoding alone left generate as fast, and with 1024x768
        # JPEGs it took the run to 2.1 s from 3.4 s (nothing in the background) or 2.9 s (both).
        ahead_work = self._decode if self.device.type == "cpu" else self._prepare
        with ExitStack() as stack:
            pool: ThreadPoolExecutor | None = None

            def in_background(items: list[_Item]) -> Future[_Prepared]:
                # Started on first use: on the CPU a worker thread merely alive beside torch's two OpenMP
                # threads made generate 1.07-1.09x slower (two cores, 200 rows of a tiny LLaVA, bench/
                # hf_overhead.py), and there it is only wanted where decoding is worth overlapping.
                nonlocal pool
                if pool is None:
                    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kobench-hf-prep")
                    stack.enter_context(pool)
                return pool.submit(ahead_work, items)

            def in_turn(items: list[_Item]) -> Future[_Prepared]:
                done: Future[_Prepared] = Future()
                done.set_result(ahead_work(items))
                return done

            # The first batch has nothing to overlap with on the CPU; on an accelerator its preparation
            # starts the pipeline.
            ahead = in_turn(current[1]) if self.device.type == "cpu" else in_background(current[1])
            while current is not None:
                settings, batch = current
                prepared = self._process(ahead.result())
                following = next(plan, None)
                overlapped = following is not None and self._overlap_pays()
                if self.cpu_threads is not None:
                    self.cpu_threads.set_for_batch(decoding_beside=overlapped)
                if overlapped:
                    ahead = in_background(following[1])
                answers = self._answer(prepared, settings)
                if following is not None and not overlapped:
                    ahead = in_turn(following[1])
                for item in batch:
                    answer = answers.get(item.index) or Response(text=None, error="no response produced")
                    yield answer.answering(ids[item.index])
                current = following

    def _batches(
        self, groups: dict[tuple[GenerationSettings, Any], list[_Item]]
    ) -> Iterator[tuple[GenerationSettings, list[_Item]]]:
        """Each group's items in batches of the batch size as it is when each batch is cut (an
        out-of-memory halving applies from the next batch on)."""
        for (settings, _), items in groups.items():
            at = 0
            while at < len(items):
                batch = items[at : at + self.batch.value]
                at += len(batch)
                yield settings, batch

    def batch_report(self) -> dict[str, Any]:
        """What the results record: the batch size, and with auto where out-of-memory halvings took it; where
        the model's interface takes fewer requests per call than asked, that limit and why."""
        report = self.batch.report()
        if self.format.max_batch is not None:
            report.update(interface_limit=self.format.max_batch, why=self.format.why)
        return report

    def loading_report(self) -> dict[str, Any]:
        """How the model was driven: the interface family whose calls kobench makes
        (kobench.models.chat_formats), and the compatibility layers applied to its code (models/compat.py)."""
        report: dict[str, Any] = {"interface": self.format.name}
        if self.compat:
            report["compat"] = self.compat
        return report

    def _overlap_pays(self) -> bool:
        """Whether to decode the next batch's images while this one generates. Always on an accelerator. On
        the CPU only where decoding costs more than overlapping it would (`CpuThreads.overlap_cost`: the GIL
        turns, the core torch gives up); the demo's small images decode in a fraction of that. So the last
        batch's timings decide, and the first batches, with no timings yet, decode in turn."""
        if self.cpu_threads is None:
            return True
        cost = self.cpu_threads.overlap_cost()
        return self._generate_seconds > 0 and self._decode_seconds > cost * self._generate_seconds

    def _with_system_prompt(self, request: Request) -> Request:
        """--system-prompt: the request with that system message first, where the task's prompt has none
        (a task's own system message is part of its protocol and stays)."""
        if self.system_prompt is None or any(m.role == "system" for m in request.messages):
            return request
        system = Message("system", (TextPart(self.system_prompt),))
        return replace(request, messages=(system, *request.messages))

    def _render(self, request: Request) -> str:
        return self.format.render(request)

    def _prepare(self, items: list[_Item]) -> _Prepared:
        return self._process(self._decode(items))

    def _decode(self, items: list[_Item]) -> _Prepared:
        """Decode the images; an undecodable image fails its own request only."""
        start = time.perf_counter()
        decoded, images, failed = [], [], {}
        for item in items:
            refs = item.request.images
            try:
                loaded = []
                for number, ref in enumerate(refs, 1):
                    failing = number
                    loaded.append(ref.load())
            except Exception as exc:
                why = str(exc) if isinstance(exc, ImageError) else _describe(exc)  # ImageError: stable
                error = f"image {failing} of {len(refs)} could not be decoded: {why}"
                failed[item.index] = Response(text=None, error=error)
                continue
            decoded.append(item)
            images.append(loaded)
        self._decode_seconds = time.perf_counter() - start
        return _Prepared(items=decoded, images=images, failed=failed)

    def _process(self, prepared: _Prepared) -> _Prepared:
        """The processor's inputs (text and images) for a decoded batch, or the error it raised."""
        if prepared.processed:
            return prepared
        requests = [item.request for item in prepared.items]
        prompts = [item.prompt for item in prepared.items]
        try:
            inputs = self.format.encode(requests, prompts, prepared.images)
        except Exception as exc:
            return replace(prepared, error=exc)
        return replace(prepared, inputs=inputs)

    def _answer(self, prepared: _Prepared, settings: GenerationSettings) -> dict[int, Response]:
        """Responses by request index; a batch that raises is retried one request at a time."""
        out = dict(prepared.failed)
        if not prepared.items:
            return out
        try:
            if prepared.error is not None:
                raise prepared.error
            out.update(self._run(prepared, settings))
        except Exception as exc:
            if len(prepared.items) == 1:
                out[prepared.items[0].index] = Response(text=None, error=_describe(exc))
            elif self.batch.auto and out_of_memory(exc):
                # Half the batch size, the batch re-cut at whatever size it comes to while its parts run;
                # later batches are cut at it too.
                self.batch.shrink(len(prepared.items))
                free_accelerator_memory()
                at = 0
                while at < len(prepared.items):
                    part = prepared.items[at : at + self.batch.value]
                    at += len(part)
                    out.update(self._answer(self._prepare(part), settings))
            else:
                for item in prepared.items:
                    out.update(self._answer(self._prepare([item]), settings))
        return out

    @torch.inference_mode()
    def _run(self, prepared: _Prepared, settings: GenerationSettings) -> dict[int, Response]:
        start = time.perf_counter()
        inputs = {key: self._on_device(value) for key, value in prepared.inputs.items()}
        sampling = settings.temperature > 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": settings.max_new_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
            # The KV cache changes no answer, only the time: some checkpoints ship use_cache=false (A.X 4.0
            # VL Light's generation_config, reported to take minutes per image that way).
            "use_cache": True,
        }
        if sampling:  # the task's protocol samples: plain temperature, whatever top-k/top-p the model ships
            kwargs.update(do_sample=True, temperature=settings.temperature, top_k=0, top_p=1.0)
        elif self.card_generation is not None:  # --generation-defaults card
            kwargs.update(self.card_generation)
        elif self.generation_mode != "checkpoint":  # greedy; checkpoint: its generation_config.json decides
            kwargs["do_sample"] = False
        if any(settings.stop):
            kwargs["stopping_criteria"] = self._stop_criteria(settings.stop)
        if hasattr(self.format, "respond"):
            return self._respond(prepared, settings, inputs, kwargs, start)
        output = self.model.generate(**inputs, **kwargs)
        new_tokens = _new_tokens(output, inputs["input_ids"]).cpu()
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        self._generate_seconds = time.perf_counter() - start
        seconds = self._generate_seconds / len(prepared.items)
        ends = self._end_ids()
        out = {}
        counts = prompt_token_counts(prepared.inputs, self.image_token)
        for item, row, text, (prompt_tokens, image_tokens) in zip(
            prepared.items, new_tokens.tolist(), texts, counts, strict=True
        ):
            n_tokens = next((i for i, token in enumerate(row) if token in ends), len(row))
            answer = _cut(text, settings.stop)
            # Cut off only when it ran to the limit without an end token or a stop string.
            stopped = n_tokens < len(row) or len(answer) < len(text) or n_tokens < settings.max_new_tokens
            out[item.index] = Response(
                text=answer,
                n_tokens=n_tokens,
                seconds=seconds,
                finish_reason="stop" if stopped else "length",
                prompt_tokens=prompt_tokens,
                image_tokens=image_tokens if item.request.images else 0,
            )
        return out

    def _respond(
        self,
        prepared: _Prepared,
        settings: GenerationSettings,
        inputs: dict[str, Any],
        kwargs: dict[str, Any],
        start: float,
    ) -> dict[int, Response]:
        """A batch answered by the model's own chat method (InternVL): text only, so the token count is the
        answer re-tokenised, and one that long or longer than max_new_tokens has an unknown ending. The
        method builds its prompt itself: its prompt tokens are not known (0), its image tokens are (the
        format counts them from the tiles)."""
        texts = self.format.respond(inputs, kwargs)  # type: ignore[attr-defined]
        self._generate_seconds = time.perf_counter() - start
        seconds = self._generate_seconds / len(prepared.items)
        image_tokens = self.format.image_tokens(inputs)  # type: ignore[attr-defined]
        out = {}
        for item, text, visual in zip(prepared.items, texts, image_tokens, strict=True):
            answer = _cut(text, settings.stop)
            n_tokens = len(self.tokenizer(answer, add_special_tokens=False)["input_ids"])
            ended = "stop" if n_tokens < settings.max_new_tokens or len(answer) < len(text) else None
            out[item.index] = Response(
                text=answer, n_tokens=n_tokens, seconds=seconds, finish_reason=ended, image_tokens=visual
            )
        return out

    def _on_device(self, value: Any) -> Any:
        """A model input on the model's device, pixel values in its dtype (ids stay integers); the nested
        lists of tensors some remote-code models take (one list per sample) likewise."""
        if isinstance(value, torch.Tensor):
            value = value.to(self.model.device)
            return value.to(self.torch_dtype) if torch.is_floating_point(value) else value
        if isinstance(value, list | tuple):
            return type(value)(self._on_device(v) for v in value)
        return value

    def _stop_criteria(self, stop: tuple[str, ...]) -> StoppingCriteriaList:
        """The stop-string checker, built once per stop tuple: given `stop_strings`, generate() builds it anew
        on every call from the whole vocabulary (0.26 s at Qwen's 151k tokens even from transformers' own
        cache, 0.67 s the first time: minutes over a benchmark). It runs only on steps where a stop string
        can end (see `stops`)."""
        if stop not in self._stops:
            checker = StopStrings(self.tokenizer, [s for s in stop if s])
            self._stops[stop] = StoppingCriteriaList([checker])
        return self._stops[stop]

    def _end_ids(self) -> set[int]:
        """Token ids that end a generated row: EOS (model and tokenizer) and padding."""
        ends = {self.tokenizer.pad_token_id, self.tokenizer.eos_token_id}
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        ends.update(eos if isinstance(eos, list) else [eos])
        return {i for i in ends if i is not None}


def _load(
    path_or_id: str,
    revision: str | None,
    trust_remote_code: bool,
    dtype: torch.dtype,
    device_map: str,
    *,
    image_options: dict[str, int | None],
    generation_defaults: str,
) -> tuple[Any, Any, Any, list[dict[str, Any]], dict[str, Any] | None]:
    """(processor, tokenizer, model, the compatibility layers applied, the card's generation settings
    where --generation-defaults card asks for them). The per-family settings are checked against the model
    type before any weight is read."""
    from transformers import AutoConfig, AutoProcessor, PreTrainedConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    common = {"revision": revision, "trust_remote_code": trust_remote_code}
    transformers.utils.logging.disable_progress_bar()  # kobench shows its own progress bar
    try:
        raw, _ = PreTrainedConfig.get_config_dict(path_or_id, revision=revision)
    except (OSError, ValueError) as exc:
        raise BadInputError(f"cannot read the config of model {path_or_id}: {exc}") from exc
    model_type = raw.get("model_type")
    if model_type not in CONFIG_MAPPING and not trust_remote_code:
        if raw.get("auto_map"):
            raise BadInputError(
                f"model {path_or_id} (model type {model_type!r}) ships its own code; this transformers"
                " cannot load it without running that code. Pass --trust-remote-code if you trust it."
            )
        raise BadInputError(
            f"model {path_or_id} has model type {model_type!r}, which transformers"
            f" {transformers.__version__} does not know; upgrade transformers"
            " (or pass --trust-remote-code if the model ships its own code)"
        )
    processor_kwargs = image_kwargs(model_type, image_options)
    card_generation = generation_defaults_for(generation_defaults, model_type)
    compat = apply_layers(model_type) if trust_remote_code else []
    try:
        config = AutoConfig.from_pretrained(path_or_id, **common)
        auto_class = _auto_class(config, trust_remote_code)
        processor = AutoProcessor.from_pretrained(path_or_id, **common, **processor_kwargs)
        apply_image_settings(model_type, image_options, processor)
        tokenizer = _tokenizer(processor, path_or_id, common)
        model = auto_class.from_pretrained(
            path_or_id, config=config, dtype=dtype, device_map=device_map, **common
        )
    except ImportError as exc:
        raise BadInputError(_import_failure(path_or_id, raw, exc)) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise BadInputError(f"cannot load model {path_or_id}: {exc}") from exc
    return processor, tokenizer, model.eval(), compat, card_generation


def _tokenizer(processor: Any, path_or_id: str, common: dict[str, Any]) -> Any:
    """The processor's tokenizer, the processor itself where it is one (a text model), or, where the
    processor handles images only (HyperCLOVAX-SEED-Vision's preprocessor), the model's own tokenizer."""
    from transformers import AutoTokenizer, PreTrainedTokenizerBase

    if isinstance(processor, PreTrainedTokenizerBase):
        return processor
    tokenizer = getattr(processor, "tokenizer", None)
    return tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(path_or_id, **common)


def _new_tokens(output: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """The generated part of generate()'s output. Most models return the prompt and then the new tokens;
    a remote-code model that generates from embeddings (HyperCLOVAX-SEED-Vision with images) returns only
    the new ones, which never start with the whole prompt."""
    n = input_ids.shape[1]
    if output.shape[1] >= n and torch.equal(output[:, :n].to(input_ids.device), input_ids):
        return output[:, n:]
    return output


def _import_failure(path_or_id: str, config: dict[str, Any], exc: ImportError) -> str:
    """What to do when a model's own code fails to import: a name this transformers no longer has (the
    model was written for an older one, which its config names), or a package the code needs."""
    saved_with = config.get("transformers_version")
    name, module = getattr(exc, "name", None), str(exc)
    missing = re.search(r"cannot import name '([^']+)' from '(transformers[\w.]*)'", module)
    if missing:
        older = f"; it was saved with transformers {saved_with}" if saved_with else ""
        return (
            f"model {path_or_id}'s own code imports {missing.group(1)} from {missing.group(2)}, which"
            f" transformers {transformers.__version__} no longer has: the code was written for an older"
            f" transformers{older}. Run it with that version in an environment of its own, or use a"
            " revision of the model updated for this one."
        )
    return f"model {path_or_id}'s own code failed to import ({name or 'a module'}): {exc}"


def _auto_class(config: Any, trust_remote_code: bool) -> Any:
    """The first Auto class that can build a generating model for `config`."""
    auto_map = (getattr(config, "auto_map", None) or {}) if trust_remote_code else {}
    names = list(AUTO_CLASSES) + [name for name in auto_map if name not in AUTO_CLASSES]
    for name in names:
        cls = getattr(transformers, name, None)
        if cls is None:
            continue
        if name in auto_map or type(config) in cls._model_mapping:
            return cls
    raise BadInputError(
        f"model type {config.model_type!r} has no image-text-to-text or causal-LM class in transformers"
        f" {transformers.__version__}"
    )


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise BadInputError(f"unknown device {device!r}: {exc}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise BadInputError(f"device {device!r} asked for, but torch sees no CUDA device")
    ranks = Ranks.from_env()
    if resolved.type == "cuda" and resolved.index is None and ranks.parallel:
        # torchrun: one copy of the model per GPU, the one its LOCAL_RANK names
        if ranks.local_rank >= torch.cuda.device_count():
            raise BadInputError(
                f"torchrun rank {ranks.rank} has LOCAL_RANK {ranks.local_rank}, but torch sees "
                f"{torch.cuda.device_count()} CUDA devices: start at most that many processes per node"
            )
        resolved = torch.device("cuda", ranks.local_rank)
        torch.cuda.set_device(resolved)
    return resolved


def _resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype != "auto":
        return DTYPES[dtype]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _cut(text: str, stop: Sequence[str]) -> str:
    """`text` up to the first occurrence of any stop string."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=len(text))
    return text[:cut]


def _describe(exc: BaseException) -> str:
    """'Type: message', without the object addresses PIL puts in its messages (errors stay reproducible)."""
    return re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "<data>", f"{type(exc).__name__}: {exc}").strip()
