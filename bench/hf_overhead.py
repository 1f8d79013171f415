"""kobench's hf adapter against a bare `model.generate` loop on the same batches, in one run.

    python bench/hf_overhead.py [--model PATH] [--n 64] [--batch-size 8] [--max-new-tokens 16]

Without --model a tiny random LLaVA is built locally (CPU-friendly). Prints seconds and the ratio
kobench / bare (1.00 = no overhead), batched vs one-at-a-time, and a cache-served re-run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from kobench.data.demo import demo_rows
from kobench.models.hf import HFModel
from kobench.run.cache import ResponseCache, request_key
from kobench.testing.tiny_models import build_tiny_llava
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart


def requests(n: int, max_new_tokens: int) -> list[Request]:
    rows = (demo_rows(n=max(n, 40)) * (n // 40 + 1))[:n]
    settings = GenerationSettings(max_new_tokens=max_new_tokens)
    return [
        Request(
            id=str(i),
            generation=settings,
            messages=(
                Message(
                    "user",
                    (
                        ImagePart(ImageRef(data=r["image"]["bytes"])),
                        TextPart(r["question"] + "\nA. " + r["choice_a"]),
                    ),
                ),
            ),
        )
        for i, r in enumerate(rows)
    ]


def bare_loop(model: HFModel, reqs: list[Request], batch_size: int, max_new_tokens: int) -> float:
    """What a hand-written script does: same processor, same left padding, same greedy generate."""
    start = time.perf_counter()
    for i in range(0, len(reqs), batch_size):
        batch = reqs[i : i + batch_size]
        prompts = [model._render(r) for r in batch]
        images = [[img.load() for img in r.images] for r in batch]
        inputs = model.processor(text=prompts, images=images, padding=True, return_tensors="pt")
        with torch.inference_mode():
            model.model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=model.tokenizer.pad_token_id,
            )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.model or str(build_tiny_llava(Path(tmp) / "tiny"))
        reqs = requests(args.n, args.max_new_tokens)
        batched = HFModel(
            path, batch_size=args.batch_size, device="cpu" if not torch.cuda.is_available() else "auto"
        )
        single = HFModel(path, batch_size=1, device=str(batched.device))
        batched.generate(reqs[: args.batch_size])  # warm-up
        bare = bare_loop(batched, reqs, args.batch_size, args.max_new_tokens)
        start = time.perf_counter()
        responses = batched.generate(reqs)
        kob = time.perf_counter() - start
        start = time.perf_counter()
        single.generate(reqs)
        one = time.perf_counter() - start
        cache = ResponseCache(Path(tmp) / "c.sqlite")
        keys = [request_key("hf", batched.fingerprint, batched.settings, r) for r in reqs]
        cache.put_many(zip(keys, responses, strict=True))
        start = time.perf_counter()
        hits = cache.get_many([request_key("hf", batched.fingerprint, batched.settings, r) for r in reqs])
        cached = time.perf_counter() - start
    print(f"{args.n} requests, batch {args.batch_size}, {args.max_new_tokens} new tokens, {batched.device}")
    print(f"bare generate loop      {bare:8.3f} s")
    print(f"kobench hf adapter      {kob:8.3f} s   ratio kobench/bare = {kob / bare:.2f}")
    print(f"kobench, batch size 1   {one:8.3f} s   ratio batch1/batched = {one / kob:.2f}")
    print(
        f"cache-served re-run     {cached:8.4f} s   ({len(hits)} hits; cache/generate = {cached / kob:.4f})"
    )


if __name__ == "__main__":
    main()
