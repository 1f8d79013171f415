"""Log-likelihoods of continuations under a causal language model, batched: what the hf adapter answers a
log-likelihood request with.

The numbers are lm-evaluation-harness's (v0.4.9.2 lm_eval/models/huggingface.py, HFLM): a pair is encoded
as `_encode_pair` does (the context's trailing whitespace moves to the continuation; the continuation's
tokens are those of context + continuation after the context's own tokens; no special tokens), truncated
from the left to the model's length + 1, the last token dropped; a continuation's log-likelihood is the sum
of its tokens' log-probabilities.

How it is batched: every (context, continuation) pair is a row, except that where all of a request's
continuations are one token (the letters of KMMLU, CLIcK, HAE-RAE) the request is one row, the context
alone, whose last position scores every choice at once (lm-eval's one-token-continuation grouping). Rows
run longest first in right-padded batches; only the positions that score something go through the
output layer's softmax, and, where the model's forward takes `logits_to_keep`, only the batch's last
positions through the output layer at all.
"""

from __future__ import annotations

import inspect
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from kobench.models.batching import BatchSize, free_accelerator_memory, out_of_memory
from kobench.types import Request, Response


@dataclass(frozen=True)
class _Row:
    request: int  # index into the requests
    tokens: list[int]  # the model's input (context + continuation, last token dropped, truncated)
    targets: list[list[int]]  # per scored continuation: its tokens
    choices: list[int]  # which continuation each of `targets` is


def max_length(model: Any, tokenizer: Any) -> int:
    """The longest input, as HFLM.max_length finds it: the config's, else the tokenizer's, else 2048."""
    config = model.config
    text_config = getattr(config, "get_text_config", lambda: config)()
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        for holder in (config, text_config):
            value = getattr(holder, attr, None)
            if isinstance(value, int):
                return value
    limit = getattr(tokenizer, "model_max_length", None)
    return limit if isinstance(limit, int) and limit < 10**9 else 2048


# Requests whose texts go to the tokenizer in one call: a fast tokenizer encodes a batch on every core, and
# one call instead of one per text saves the per-call overhead; chunks keep the token lists of a 35k-question
# set from all being alive at once (only the rows' are kept).
ENCODE_CHUNK = 256


def _texts(request: Request) -> list[str]:
    """What encoding a request takes: its context without trailing whitespace (unless empty), then context +
    continuation for each continuation (lm-eval's `_encode_pair`, the whitespace moved back: the prompt)."""
    text = request.prompt_text
    return ([text.rstrip()] if text else []) + [text + c for c in request.continuations]


def _encode_one(tokenizer: Any, request: Request) -> list[list[int]]:
    return [tokenizer.encode(t, add_special_tokens=False) for t in _texts(request)]


def _rows(
    index: int, request: Request, encoded: list[list[int]], limit: int, prefix: int | None
) -> list[_Row]:
    """A request's rows from its texts' tokens (see `_texts`), as lm-eval's `_encode_pair` pairs them."""
    if request.prompt_text:
        context, wholes = encoded[0], encoded[1:]
        continuations = [whole[len(context) :] for whole in wholes]
    else:  # lm-eval scores an empty context after its prefix token (EOS here)
        if prefix is None:
            raise ValueError("an empty context needs the tokenizer's EOS token as prefix")
        context, continuations = [prefix], encoded
    if any(not cont for cont in continuations):
        raise ValueError("a continuation encodes to no tokens")
    if all(len(cont) == 1 for cont in continuations):
        tokens = (context + continuations[0])[-(limit + 1) :][:-1]
        rows = [_Row(index, tokens, continuations, list(range(len(continuations))))]
    else:
        rows = [
            _Row(index, (context + cont)[-(limit + 1) :][:-1], [cont], [number])
            for number, cont in enumerate(continuations)
        ]
    if any(len(row.tokens) < len(row.targets[0]) for row in rows):
        # A whitespace-only context (no tokens) or a continuation longer than the model's length.
        raise ValueError("a continuation's first token has no input before it")
    return rows


class LoglikelihoodScorer:
    """Scores log-likelihood requests with a loaded causal LM; `batch.value` rows per forward pass."""

    def __init__(self, model: Any, tokenizer: Any, batch: BatchSize | int) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.batch = batch if isinstance(batch, BatchSize) else BatchSize(batch)
        self.limit = max_length(model, tokenizer)
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.prefix = tokenizer.eos_token_id
        self.keeps = "logits_to_keep" in inspect.signature(model.forward).parameters

    def score(self, requests: Sequence[Request]) -> Iterator[Response]:
        """Each request's Response (scores: one log-likelihood per continuation), as its last row is done."""
        rows: list[_Row] = []
        for start in range(0, len(requests), ENCODE_CHUNK):
            for index, found in self._encode(requests, start, min(start + ENCODE_CHUNK, len(requests))):
                if isinstance(found, Exception):
                    yield Response(text=None, error=f"cannot encode: {found}", request_id=requests[index].id)
                else:
                    rows += found
        left = Counter(r.request for r in rows)  # rows still to run, per request (one pass: 35k KMMLU rows)
        scores: dict[int, list[float | None]] = {i: [None] * len(requests[i].continuations) for i in left}
        seconds: dict[int, float] = dict.fromkeys(left, 0.0)
        failed: dict[int, str] = {}
        rows.sort(key=lambda r: len(r.tokens), reverse=True)  # similar lengths pad little; OOM shows at once
        at = 0
        while at < len(rows):  # cut at the batch size as it is (auto: halved on out-of-memory)
            batch = rows[at : at + self.batch.value]
            at += len(batch)
            began = time.perf_counter()
            for row, values in zip(batch, self._batch_or_each(batch), strict=True):
                if isinstance(values, str):
                    failed.setdefault(row.request, values)
                else:
                    for choice, value in zip(row.choices, values, strict=True):
                        scores[row.request][choice] = value
            share = (time.perf_counter() - began) / len(batch)
            for row in batch:
                seconds[row.request] += share
                left[row.request] -= 1
                if left[row.request]:
                    continue
                request = requests[row.request]
                if row.request in failed:
                    yield Response(text=None, error=failed[row.request], request_id=request.id)
                    continue
                yield Response(
                    text=None,
                    scores=tuple(float(v) for v in scores[row.request] if v is not None),
                    seconds=seconds[row.request],
                    prompt_tokens=len(row.tokens),
                    finish_reason="stop",
                    request_id=request.id,
                )

    def _encode(self, requests: Sequence[Request], start: int, end: int) -> list[tuple[int, Any]]:
        """(index, its rows or the exception encoding it raised) for requests[start:end]: all their texts in
        one tokenizer call; should that raise, request by request, so one bad request fails alone."""
        texts = [_texts(requests[i]) for i in range(start, end)]
        try:
            flat = [t for ts in texts for t in ts]
            ids = self.tokenizer(flat, add_special_tokens=False)["input_ids"] if flat else []
            encoded, at = [], 0
            for ts in texts:
                encoded.append(ids[at : at + len(ts)])
                at += len(ts)
        except Exception:
            encoded = [None] * len(texts)
        out: list[tuple[int, Any]] = []
        for index, tokens in zip(range(start, end), encoded, strict=True):
            try:
                if tokens is None:
                    tokens = _encode_one(self.tokenizer, requests[index])
                out.append((index, _rows(index, requests[index], tokens, self.limit, self.prefix)))
            except Exception as exc:
                out.append((index, exc))
        return out

    def _batch_or_each(self, batch: list[_Row]) -> list[list[float] | str]:
        """Each row's log-likelihoods; a batch that raises is retried row by row, so one bad row fails
        alone (its error text in place of its numbers)."""
        try:
            return self._forward(batch)
        except Exception as exc:
            if len(batch) == 1:
                return [f"{type(exc).__name__}: {exc}"]
            if self.batch.auto and out_of_memory(exc):  # in parts at the halved size, each part as a batch
                self.batch.shrink(len(batch))
                free_accelerator_memory()
                out: list[list[float] | str] = []
                at = 0
                while at < len(batch):
                    part = batch[at : at + self.batch.value]
                    at += len(part)
                    out += self._batch_or_each(part)
                return out
            return [self._batch_or_each([row])[0] for row in batch]

    @torch.inference_mode()
    def _forward(self, batch: list[_Row]) -> list[list[float]]:
        width = max(len(r.tokens) for r in batch)
        device = self.model.device
        ids = torch.tensor([r.tokens + [self.pad] * (width - len(r.tokens)) for r in batch], dtype=torch.long)
        mask = torch.tensor([[1] * len(r.tokens) + [0] * (width - len(r.tokens)) for r in batch])
        # The positions whose next-token distribution scores a continuation: the last len(cont) inputs.
        spans = [(len(r.tokens) - len(r.targets[0]), len(r.tokens)) for r in batch]
        kwargs: dict[str, Any] = {}
        first = min(s for s, _ in spans)
        if self.keeps:  # only the last `width - first` positions reach the output layer
            kwargs["logits_to_keep"] = width - first
        logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device), **kwargs).logits
        offset = width - logits.shape[1]  # logits[:, j] is position offset + j
        # All the batch's scoring positions through one log_softmax, every target token picked in one
        # gather, and one copy back: no per-row kernels, no per-continuation device sync.
        rows, positions, picks, tokens, lengths = [], [], [], [], []
        for n, (row, (begin, end)) in enumerate(zip(batch, spans, strict=True)):
            base = len(positions)
            rows += [n] * (end - begin)
            positions += range(begin - offset, end - offset)
            for target in row.targets:
                picks += range(base, base + len(target))
                tokens += target
                lengths.append(len(target))
        where = logits.device
        scoring = logits[torch.tensor(rows, device=where), torch.tensor(positions, device=where)]
        logprobs = torch.log_softmax(scoring.float(), dim=-1)
        picked = logprobs[torch.tensor(picks, device=where), torch.tensor(tokens, device=where)].cpu()
        # Each continuation's float32 sum over its own tokens, as lm-eval's (one token: the value itself).
        one = max(lengths) == 1
        sums = picked.tolist() if one else [float(part.sum()) for part in picked.split(lengths)]
        out, at = [], 0
        for row in batch:
            out.append(sums[at : at + len(row.targets)])
            at += len(row.targets)
        return out
