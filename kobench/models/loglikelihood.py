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

from kobench.types import Request, Response


@dataclass(frozen=True)
class _Row:
    request: int  # index into the requests
    tokens: list[int]  # the model's input (context + continuation, last token dropped, truncated)
    targets: list[list[int]]  # per scored continuation: its tokens
    choices: list[int]  # which continuation each of `targets` is


def encode_pair(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """(context tokens, continuation tokens) as lm-eval's HFLM._encode_pair makes them."""
    spaces = len(context) - len(context.rstrip())
    if spaces:
        continuation = context[-spaces:] + continuation
        context = context[:-spaces]
    whole = tokenizer.encode(context + continuation, add_special_tokens=False)
    context_tokens = tokenizer.encode(context, add_special_tokens=False)
    return context_tokens, whole[len(context_tokens) :]


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


def _rows(index: int, request: Request, tokenizer: Any, limit: int, prefix: int | None) -> list[_Row]:
    text = request.prompt_text
    pairs = [encode_pair(tokenizer, text, c) for c in request.continuations]
    if not text:  # lm-eval scores an empty context after its prefix token (EOS here)
        if prefix is None:
            raise ValueError("an empty context needs the tokenizer's EOS token as prefix")
        pairs = [([prefix], tokenizer.encode(c, add_special_tokens=False)) for c in request.continuations]
    if any(not cont for _, cont in pairs):
        raise ValueError("a continuation encodes to no tokens")
    contexts = {tuple(ctx) for ctx, _ in pairs}
    if len(contexts) == 1 and all(len(cont) == 1 for _, cont in pairs):
        context = pairs[0][0]
        tokens = (context + pairs[0][1])[-(limit + 1) :][:-1]
        return [_Row(index, tokens, [cont for _, cont in pairs], list(range(len(pairs))))]
    return [
        _Row(index, (ctx + cont)[-(limit + 1) :][:-1], [cont], [number])
        for number, (ctx, cont) in enumerate(pairs)
    ]


class LoglikelihoodScorer:
    """Scores log-likelihood requests with a loaded causal LM; `batch_size` rows per forward pass."""

    def __init__(self, model: Any, tokenizer: Any, batch_size: int) -> None:
        self.model, self.tokenizer, self.batch_size = model, tokenizer, batch_size
        self.limit = max_length(model, tokenizer)
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.prefix = tokenizer.eos_token_id
        self.keeps = "logits_to_keep" in inspect.signature(model.forward).parameters

    def score(self, requests: Sequence[Request]) -> Iterator[Response]:
        """Each request's Response (scores: one log-likelihood per continuation), as its last row is done."""
        rows: list[_Row] = []
        for index, request in enumerate(requests):
            try:
                rows += _rows(index, request, self.tokenizer, self.limit, self.prefix)
            except Exception as exc:
                yield Response(text=None, error=f"cannot encode: {exc}", request_id=request.id)
        left = Counter(r.request for r in rows)  # rows still to run, per request (one pass: 35k KMMLU rows)
        scores: dict[int, list[float | None]] = {i: [None] * len(requests[i].continuations) for i in left}
        seconds: dict[int, float] = dict.fromkeys(left, 0.0)
        failed: dict[int, str] = {}
        rows.sort(key=lambda r: len(r.tokens), reverse=True)  # similar lengths pad little; OOM shows at once
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
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

    def _batch_or_each(self, batch: list[_Row]) -> list[list[float] | str]:
        """Each row's log-likelihoods; a batch that raises is retried row by row, so one bad row fails
        alone (its error text in place of its numbers)."""
        try:
            return self._forward(batch)
        except Exception as exc:
            if len(batch) == 1:
                return [f"{type(exc).__name__}: {exc}"]
            return [self._batch_or_each([row])[0] for row in batch]

    @torch.inference_mode()
    def _forward(self, batch: list[_Row]) -> list[list[float]]:
        width = max(len(r.tokens) for r in batch)
        device = self.model.device
        ids = torch.full((len(batch), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for n, row in enumerate(batch):
            ids[n, : len(row.tokens)] = torch.tensor(row.tokens)
            mask[n, : len(row.tokens)] = 1
        # The positions whose next-token distribution scores a continuation: the last len(cont) inputs.
        spans = [(len(r.tokens) - len(r.targets[0]), len(r.tokens)) for r in batch]
        kwargs: dict[str, Any] = {}
        first = min(s for s, _ in spans)
        if self.keeps:  # only the last `width - first` positions reach the output layer
            kwargs["logits_to_keep"] = width - first
        logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device), **kwargs).logits
        offset = width - logits.shape[1]  # logits[:, j] is position offset + j
        out = []
        for n, (row, (begin, end)) in enumerate(zip(batch, spans, strict=True)):
            logprobs = torch.log_softmax(logits[n, begin - offset : end - offset].float(), dim=-1)
            values = []
            for target in row.targets:
                picked = logprobs[torch.arange(len(target)), torch.tensor(target, device=logprobs.device)]
                values.append(float(picked.sum()))
            out.append(values)
        return out
