"""kobench's side of the model: `--model myvlm:CHECKPOINT`, registered by pyproject.toml's entry point

    [project.entry-points."kobench.models"]
    myvlm = "kobench_myvlm.plugin:ENTRY"

`ENTRY` names, fingerprints and describes a checkpoint without loading it (this module imports no torch:
a re-run that the response cache answers whole never pays for it); `ENTRY.load` builds `MyVLMAdapter`,
whose one method, `generate`, turns kobench's requests into the model's prompts and its tokens back into
`Response`s.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kobench.config import ModelOptions, default_cache_dir
from kobench.errors import BadInputError
from kobench.models.registry import AdapterEntry
from kobench.types import GenerationSettings, ImagePart, Request, Response
from kobench_myvlm.checkpoint import checkpoint_digest

if TYPE_CHECKING:
    from kobench_myvlm.modeling import MyVLM

ADAPTER = "myvlm"
# --batch-size auto: where to start (halved whenever a batch runs out of memory).
AUTO_BATCH_START = {"cuda": 32, "cpu": 8}
# This code decides answers as much as the weights do (the prompt layout, preprocessing, decoding): its
# source is part of the fingerprint, so editing it never lets the cache answer with the old code's output.
CODE_FILES = ("plugin.py", "modeling.py")


# --- What kobench knows before (and often instead of) loading the model ---


def fingerprint(target: str, options: ModelOptions) -> str:
    """'myvlm:<16 hex of the checkpoint's bytes>:code=<8 hex>'; the files' digests are remembered in
    kobench's cache folder ($KOBENCH_CACHE_DIR), so only changed files are read again."""
    try:
        weights = checkpoint_digest(
            Path(target).expanduser(), cache=default_cache_dir() / "myvlm-digests.json"
        )
    except (OSError, ValueError) as exc:  # no checkpoint there: the run stops before any work
        raise BadInputError(f"--model myvlm:{target}: {exc}") from exc
    return f"{ADAPTER}:{weights[:16]}:code={_code_digest()[:8]}"


def settings(options: ModelOptions) -> dict[str, Any]:
    """The output-relevant settings as they take effect here: "auto" resolved to this machine's device and
    dtype, so answers cached on a CPU never serve a GPU run. The model loads with exactly these."""
    # kobench's probe answers without importing torch wherever it can (not in the README's API: if it
    # goes, `"cuda" if torch.cuda.is_available() else "cpu"` does the same, a torch import later).
    from kobench.models.device import auto_device

    device = auto_device() if options.device == "auto" else options.device
    dtype = options.dtype
    if dtype == "auto":
        dtype = "bfloat16" if device.startswith("cuda") else "float32"
    return {**options.output_settings(), "device": device, "dtype": dtype}


def name(target: str) -> str:
    """The results' model name: the checkpoint folder's name (`myvlm:./runs/step-900` is `step-900`)."""
    return Path(target.rstrip("/\\")).name or target


def load(target: str, options: ModelOptions) -> MyVLMAdapter:
    """The model on the device and in the dtype `settings` names (what the cache keys say)."""
    import torch
    from transformers.utils import logging as transformers_logging

    from kobench_myvlm.modeling import MyVLM

    transformers_logging.disable_progress_bar()  # kobench shows its own progress
    resolved = settings(options)
    device = resolved["device"]
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BadInputError(f"--device {options.device} means {device} here, but torch sees no CUDA device")
    try:
        model = MyVLM.from_checkpoint(target, device=device, dtype=getattr(torch, resolved["dtype"]))
    except (OSError, ValueError, KeyError) as exc:
        raise BadInputError(f"cannot load myvlm checkpoint {target}: {exc}") from exc
    batch_size = options.batch_size
    if batch_size == "auto":
        batch_size = AUTO_BATCH_START.get(model.device.type, AUTO_BATCH_START["cpu"])
    return MyVLMAdapter(
        model,
        name=name(target),
        fingerprint=fingerprint(target, options),
        settings=resolved,
        batch_size=batch_size,
        auto_batch=options.batch_size == "auto",
    )


# --- The adapter: kobench's requests in, the model's answers out ---


@dataclass
class _Item:
    request: Request
    ids: list[int]  # the prompt's tokens, one `<image>` placeholder per image
    length: int  # the LM positions it takes (each placeholder widened to the image's tokens)


class MyVLMAdapter:
    """kobench's Model protocol (README, "Adding a model") around MyVLM."""

    adapter = ADAPTER

    def __init__(
        self,
        model: MyVLM,
        *,
        name: str,
        fingerprint: str,
        settings: dict[str, Any],
        batch_size: int,
        auto_batch: bool = False,
    ) -> None:
        self.model = model
        self.name = name
        self.fingerprint = fingerprint
        self.settings = settings
        self.batch_size = batch_size
        self.auto_batch = auto_batch

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        """Requests grouped by generation settings, longest first (rows of a batch then pad little), in
        left-padded batches; each batch's answers yielded as soon as it is done."""
        groups: dict[GenerationSettings, list[_Item]] = {}
        for request in requests:
            try:
                item = self._prepare(request)
            except Exception as exc:  # this request fails alone, with the reason in its row
                yield _failed(request, _describe(exc))
                continue
            groups.setdefault(request.generation, []).append(item)
        for generation, items in groups.items():
            items.sort(key=lambda item: item.length, reverse=True)
            at = 0
            while at < len(items):  # the batch size as it is now (an out-of-memory halving applies at once)
                batch = items[at : at + self.batch_size]
                at += len(batch)
                yield from self._answer(batch, generation)

    def close(self) -> None:
        """Called by kobench when the run ends, however it ends: the GPU memory goes back at once (a
        script that evaluates several checkpoints in one process needs it). Idempotent."""
        import gc

        import torch

        vars(self).pop("model", None)
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _prepare(self, request: Request) -> _Item:
        """The prompt's tokens; what can be refused before any image is decoded is refused here."""
        if request.continuations:
            raise ValueError("the myvlm adapter generates text; it does not score continuations")
        if request.generation.temperature > 0:
            raise ValueError(
                f"the myvlm adapter decodes greedily only; temperature {request.generation.temperature} asked"
            )
        tokenizer = self.model.tokenizer
        conversation = [{"role": m.role, "content": self._content(m.content)} for m in request.messages]
        prompt = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        # As apply_chat_template(tokenize=True) does, and as chat models are trained: the template writes
        # any BOS itself.
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        images = len(request.images)
        placeholders = ids.count(self.model.image_token_id)
        if placeholders != images:  # e.g. a question that itself contains the text "<image>"
            raise ValueError(
                f"the prompt holds {placeholders} {self.model.config.image_token} for {images} images"
            )
        return _Item(request, ids, len(ids) + images * (self.model.config.image_tokens - 1))

    def _content(self, parts: Sequence[Any]) -> str:
        """A message's parts as one string, each image as the placeholder where it stands (kobench puts
        images before the question, LLaVA's `<image>\\nquestion`). A string, so any text LM's chat template
        renders it."""
        token = self.model.config.image_token
        return "".join(f"{token}\n" if isinstance(part, ImagePart) else part.text for part in parts)

    def _answer(self, batch: list[_Item], generation: GenerationSettings) -> Iterator[Response]:
        """One batch's responses. A batch that raises is retried in halves where it ran out of memory
        under --batch-size auto, else one request at a time, so only a request that fails alone fails."""
        ready, images = [], []
        for item in batch:  # decoded now, not up front: a task's images need not all be in memory at once
            try:
                images.append([ref.load() for ref in item.request.images])
            except Exception as exc:
                yield _failed(item.request, f"an image could not be decoded: {_describe(exc)}")
                continue
            ready.append(item)
        if not ready:
            return
        started = time.perf_counter()
        rows: list[list[int]] | None = None
        try:
            rows = self.model.generate(
                [item.ids for item in ready],
                images,
                generation.max_new_tokens,
                stop=_stop_check(self.model.tokenizer, generation.stop),
            )
        except Exception as exc:
            if len(ready) == 1:
                yield _failed(ready[0].request, _describe(exc))
                return
            halved = self.auto_batch and _out_of_memory(exc)
            if halved:
                self.batch_size = max(1, min(self.batch_size, len(ready) // 2))
        if rows is None:  # retried outside the except block: the exception's frames and tensors are gone
            at = 0
            while at < len(ready):  # cut at the size as it is when each part starts (it may halve again)
                part = ready[at : at + (self.batch_size if halved else 1)]
                at += len(part)
                yield from self._answer(part, generation)
            return
        seconds = (time.perf_counter() - started) / len(ready)
        for item, tokens in zip(ready, rows, strict=True):
            yield self._response(item, tokens, generation, seconds)

    def _response(
        self, item: _Item, tokens: list[int], generation: GenerationSettings, seconds: float
    ) -> Response:
        ended = bool(tokens) and tokens[-1] in self.model.eos_ids
        answer_tokens = tokens[:-1] if ended else tokens
        text = self.model.tokenizer.decode(answer_tokens, skip_special_tokens=True)
        answer = _cut(text, generation.stop)
        # "length": it ran to max_new_tokens with neither an end token nor a stop string.
        stopped = ended or len(answer) < len(text) or len(tokens) < generation.max_new_tokens
        return Response(
            text=answer,
            n_tokens=len(answer_tokens),
            seconds=seconds,
            prompt_tokens=item.length,
            finish_reason="stop" if stopped else "length",
            request_id=item.request.id,
        )


def _stop_check(tokenizer: Any, stop: Sequence[str]) -> Any:
    """For MyVLM.generate: True once a row's text holds a stop string. Only the row's last few tokens are
    decoded each step (every token holds at least one byte, so the last `bytes + 2` tokens hold any stop
    string that has just completed, with one to spare for a tokenizer that drops a leading space)."""
    stop = [s for s in stop if s]
    if not stop:
        return None
    tail = max(len(s.encode("utf-8")) for s in stop) + 2

    def stopped(tokens: list[int]) -> bool:
        text = tokenizer.decode(tokens[-tail:], skip_special_tokens=True)
        return any(s in text for s in stop)

    return stopped


def _cut(text: str, stop: Sequence[str]) -> str:
    """`text` up to the first stop string."""
    return text[: min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=len(text))]


def _failed(request: Request, error: str) -> Response:
    return Response(text=None, error=error, finish_reason="error", request_id=request.id)


def _out_of_memory(exc: BaseException) -> bool:
    """torch's OutOfMemoryError (CUDA or another accelerator's), told by name: no torch import needed."""
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()


def _describe(exc: BaseException) -> str:
    """'Type: message', without object addresses (PIL puts them in its messages), so errors reproduce."""
    return re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "<data>", f"{type(exc).__name__}: {exc}").strip()


def _code_digest() -> str:
    digest = hashlib.sha256()
    for file in CODE_FILES:
        digest.update(Path(__file__).with_name(file).read_bytes())
    return digest.hexdigest()


ENTRY = AdapterEntry(
    fingerprint=fingerprint,
    load=load,
    settings=settings,
    name=name,
    accepts=frozenset({"text", "image"}),
)
