"""`kobench speed`'s numbers beside a hand-timed `model.generate`, in one run: are they what they claim?

    python bench/speed_check.py [--model PATH] [--batch-sizes 1,8] [--n 16] [--max-new-tokens 16] [--repeat 5]

For each batch size, the same --n demo requests (kobench's generated Korean questions with their images)
are timed two ways with the same model (a tiny random LLaVA built here, or --model):

- kobench: `kobench.speed.hf_timing.hf_batch_runner` as `kobench speed` runs it (inputs built, a
  prefill-only pass, the full generation; the device synchronised before each clock read);
- by hand: the processor then `model.generate` with exactly --max-new-tokens new tokens (min_new_tokens set
  too), and a one-token `generate` for the first token, each between `torch.cuda.synchronize()` and
  `time.perf_counter()`.

Every generate call on both sides is forced to --max-new-tokens tokens, so both decode the same number of
tokens. After one warm-up batch per side, the sides take turns for --repeat rounds; the medians are printed
with their ratios (kobench / by hand: 1.00 = the same measurement). Times are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from transformers.generation.utils import GenerationMixin

from kobench.data.demo import demo_rows
from kobench.models.hf import HFModel
from kobench.speed.clock import device_clock
from kobench.speed.hf_timing import hf_batch_runner
from kobench.speed.timings import summarise
from kobench.testing.tiny_models import build_tiny_llava
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart


def force_length(tokens: int) -> None:
    """Every generate call makes exactly `tokens` new tokens (or 1 where it asks for 1: the prefill pass)."""
    original = GenerationMixin.generate

    def generate(self, *args, **kwargs):
        wanted = kwargs.get("max_new_tokens", tokens)
        kwargs["min_new_tokens"] = wanted
        return original(self, *args, **kwargs)

    GenerationMixin.generate = generate  # type: ignore[method-assign]


def requests(n: int, max_new_tokens: int) -> list[Request]:
    settings = GenerationSettings(max_new_tokens=max_new_tokens)
    out = []
    for i, row in enumerate(demo_rows(n=n, seed=0)):
        text = f"{row['question']}\nA. {row['choice_a']}\nB. {row['choice_b']}\n답:"
        parts = (ImagePart(ImageRef(data=row["image"]["bytes"])), TextPart(text))
        out.append(Request(id=str(i), messages=(Message("user", parts),), generation=settings))
    return out


def by_hand(model: HFModel, batch: list[Request], max_new_tokens: int) -> tuple[float, float, int]:
    """(first-token seconds, latency seconds, tokens decoded after the first) for one batch."""
    sync = torch.cuda.synchronize if model.device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    prompts = [model.format.render(r) for r in batch]
    images = [[ref.load() for ref in r.images] for r in batch]
    inputs = model.format.encode(batch, prompts, images)
    inputs = {k: model._on_device(v) for k, v in inputs.items()}
    common = {"pad_token_id": model.tokenizer.pad_token_id, "do_sample": False, "use_cache": True}
    sync()
    built = time.perf_counter()
    model.model.generate(**inputs, max_new_tokens=1, **common)
    sync()
    prefilled = time.perf_counter()
    model.model.generate(**inputs, max_new_tokens=max_new_tokens, **common)
    sync()
    done = time.perf_counter()
    return (
        built - start + prefilled - built,
        built - start + done - prefilled,
        len(batch) * (max_new_tokens - 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path)
    parser.add_argument("--batch-sizes", default="1,8")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    force_length(args.max_new_tokens)
    path = args.model or build_tiny_llava(Path(tempfile.mkdtemp()) / "tiny-llava")
    model = HFModel(str(path), device="auto")
    runner = hf_batch_runner(model, device_clock(model.device))
    reqs = requests(args.n, args.max_new_tokens)
    print(f"{path.name} on {model.device} ({model.torch_dtype}), {args.n} requests,", end=" ")
    print(f"{args.max_new_tokens} tokens each")
    print(f"{'batch':>5} {'side':>8} {'TTFT ms':>9} {'latency ms':>11} {'decode tok/s':>13}")
    for size in [int(b) for b in args.batch_sizes.split(",")]:
        batches = [reqs[i : i + size] for i in range(0, len(reqs), size)]
        runner(batches[0])
        by_hand(model, batches[0], args.max_new_tokens)  # warm-up, both sides
        ours: dict[str, list[float]] = {"ttft": [], "latency": [], "decode": []}
        hand: dict[str, list[float]] = {"ttft": [], "latency": [], "decode": []}
        for round_ in range(args.repeat):
            sides = ("kobench", "hand") if round_ % 2 == 0 else ("hand", "kobench")
            for side in sides:
                if side == "kobench":
                    s = summarise(size, [runner(b) for b in batches])
                    ours["ttft"].append(s.ttft_ms or 0.0)
                    ours["latency"].append(s.latency_ms["p50"] or 0.0)
                    ours["decode"].append(s.decode_tokens_per_second or 0.0)
                else:
                    timed = [by_hand(model, b, args.max_new_tokens) for b in batches]
                    hand["ttft"].append(1000 * statistics.median(t[0] for t in timed))
                    hand["latency"].append(1000 * statistics.median(t[1] for t in timed))
                    tokens = sum(t[2] for t in timed)
                    hand["decode"].append(tokens / sum(t[1] - t[0] for t in timed))
        row = {
            side: {k: statistics.median(v) for k, v in d.items()}
            for side, d in (("kobench", ours), ("hand", hand))
        }
        for side in ("kobench", "hand"):
            r = row[side]
            print(f"{size:>5} {side:>8} {r['ttft']:>9.1f} {r['latency']:>11.1f} {r['decode']:>13.1f}")
        ratios = {k: row["kobench"][k] / row["hand"][k] for k in ("ttft", "latency", "decode")}
        cells = f"{ratios['ttft']:>9.2f} {ratios['latency']:>11.2f} {ratios['decode']:>13.2f}"
        print(f"{size:>5} {'ratio':>8} {cells}")


if __name__ == "__main__":
    main()
