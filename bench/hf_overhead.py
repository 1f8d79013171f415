"""`kobench run` with the hf adapter against a bare batched `model.generate` loop, side by side in one run.

    python bench/hf_overhead.py [--model PATH] [--n 200] [--batch-size 8] [--max-new-tokens 8] [--repeat 9]
                                [--busy N]

Both sides answer the same --n K-SEED-style rows (kobench's generated demo questions written as a local
K-SEED copy, so the task's real prompt and its stop string "ASSISTANT:" are used) with the same model (a
tiny random LLaVA built here, or --model) at the same batch size:

- kobench: `kobench.evaluate("hf:PATH", "k-seed", ...)`, the whole run: data, prompts, model load, the
  adapter's batches, scoring, results and samples written (no response cache);
- bare: what a hand-written script does: read the parquet, format the same prompt, load the processor
  and the model, left-padded batches in data order, greedy `model.generate` with torch's own thread count,
  decode, cut at the stop string.

Every `model.generate` call on either side is forced to exactly --max-new-tokens new tokens
(`min_new_tokens` set to the same value), so both sides generate the same n × max-new-tokens tokens
whatever the batches; and it is timed, which gives the generate phase alone. After a warm-up round that is
not counted, the sides run --repeat rounds, taking turns to go first; the best time of each is compared
(1.00 = no overhead), and so is the median of the rounds' own ratios. The outputs must be identical on
every row. Finally `kobench run` is timed twice in fresh processes sharing a cache, the second served entirely
from it: wall time, how long each process takes to exit after the command, whether the re-run imported
torch. --busy N runs N busy-looping processes alongside, as on a shared machine. Timings are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch
import transformers
from transformers.generation.utils import GenerationMixin

import kobench
from kobench.data.demo import demo_rows
from kobench.testing.tiny_models import build_tiny_llava

TEMPLATE = "{question}\nA. {choice_a}\nB. {choice_b}\nC. {choice_c}\nD. {choice_d}\n"
INSTRUCTION = "주어진 선택지 중 해당 옵션의 문자로 바로 답하세요."  # K-SEED's prompt version 2025-07
STOP = "ASSISTANT:"


class GenerateClock:
    """Wraps `GenerationMixin.generate`: forces every call to its max_new_tokens and adds up its time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._original: Callable = GenerationMixin.generate

    def __enter__(self) -> GenerateClock:
        original = self._original

        def timed(model, *args, **kwargs):
            kwargs["min_new_tokens"] = kwargs["max_new_tokens"]
            start = time.perf_counter()
            try:
                return original(model, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        GenerationMixin.generate = timed
        return self

    def __exit__(self, *exc: object) -> None:
        GenerationMixin.generate = self._original


def write_rows(data_dir: Path, n: int) -> list[dict]:
    """n generated questions as a local copy of NCSOFT/K-SEED's test split."""
    rows = demo_rows(n=n)
    folder = data_dir / "NCSOFT" / "K-SEED" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "test-00000-of-00001.parquet")
    return rows


def kobench_run(path: str, data_dir: Path, out: Path, args: argparse.Namespace) -> dict[str, str]:
    kobench.evaluate(
        f"hf:{path}",
        "k-seed",
        data_dir=data_dir,
        output=out,
        batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens,
        device=args.device,
        dtype=args.dtype,
        use_cache=False,
    )
    samples = (out / "samples" / "k-seed.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["id"]: record["prediction"] for record in map(json.loads, samples)}


def bare_loop(path: str, data_dir: Path, args: argparse.Namespace) -> dict[str, str]:
    """The hand-written script: same processor, left padding and greedy generate, no harness."""
    from io import BytesIO

    from PIL import Image

    table = pq.read_table(data_dir / "NCSOFT" / "K-SEED" / "data" / "test-00000-of-00001.parquet")
    rows = table.to_pylist()
    processor = transformers.AutoProcessor.from_pretrained(path)
    model = transformers.AutoModelForImageTextToText.from_pretrained(
        path, dtype=getattr(torch, args.dtype), device_map=args.device
    ).eval()
    processor.tokenizer.padding_side = "left"
    answers = {}
    for start in range(0, len(rows), args.batch_size):
        batch = rows[start : start + args.batch_size]
        prompts = [
            processor.apply_chat_template(
                [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image"},
                            {"type": "text", "text": TEMPLATE.format(**row) + INSTRUCTION},
                        ],
                    }
                ],
                add_generation_prompt=True,
            )
            for row in batch
        ]
        images = [[Image.open(BytesIO(row["image"]["bytes"])).convert("RGB")] for row in batch]
        bos = processor.tokenizer.bos_token
        inputs = processor(
            text=prompts,
            images=images,
            padding=True,
            return_tensors="pt",
            add_special_tokens=not (bos and prompts[0].startswith(bos)),
        ).to(model.device)
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=args.max_new_tokens,
                do_sample=False,
                pad_token_id=processor.tokenizer.pad_token_id,
            )
        texts = processor.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        for row, text in zip(batch, texts, strict=True):
            answers[row["question_id"]] = text.split(STOP)[0]
    return answers


@dataclass
class Timing:
    wall: float  # seconds, end to end
    generate: float  # seconds inside model.generate
    calls: int  # model.generate calls
    answers: dict[str, str]


def timed(side: Callable[[], dict[str, str]]) -> Timing:
    with GenerateClock() as clock:
        start = time.perf_counter()
        answers = side()
        wall = time.perf_counter() - start
    return Timing(wall, clock.seconds, clock.calls, answers)


# `kobench run` in a fresh process; prints to stderr whether torch was imported and when the command ended.
CLI = """
import sys, time
import kobench.cli as cli
command = cli.app
def app():
    try:
        command()
    finally:
        print("ended", "torch" in sys.modules, time.time(), file=sys.stderr)
cli.app = app
cli.main()
"""


def cli_runs(
    path: str, data_dir: Path, root: Path, args: argparse.Namespace
) -> list[tuple[float, float, bool]]:
    """`kobench run` twice in fresh processes with one cache, the second served entirely from it: (wall
    seconds, seconds from the command's end to the process's, whether torch was imported) of each."""
    command = [
        sys.executable,
        "-c",
        CLI,
        "run",
        "--model",
        f"hf:{path}",
        "--tasks",
        "k-seed",
        "--no-progress",
    ]
    command += ["--data-dir", str(data_dir), "--cache-dir", str(root / "cache"), "--device", args.device]
    command += ["--dtype", args.dtype, "--batch-size", str(args.batch_size)]
    command += ["--max-new-tokens", str(args.max_new_tokens)]
    found = []
    for number in range(2):
        start = time.perf_counter()
        done = subprocess.run(
            [*command, "--output", str(root / f"cli{number}")], capture_output=True, text=True
        )
        wall, exited = time.perf_counter() - start, time.time()
        if done.returncode != 0:
            raise SystemExit(f"kobench run failed ({done.returncode}):\n{done.stderr[-3000:]}")
        _, imported, ended = next(
            line for line in done.stderr.splitlines() if line.startswith("ended ")
        ).split()
        found.append((wall, exited - float(ended), imported == "True"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="a local model folder (default: a tiny random LLaVA built here)")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--dtype", help="float32, bfloat16 or float16 (default: float32 on CPU, else bfloat16)"
    )
    parser.add_argument(
        "--busy", type=int, default=0, help="busy-looping processes alongside (a shared machine)"
    )
    args = parser.parse_args()
    args.dtype = args.dtype or ("float32" if args.device == "cpu" else "bfloat16")
    default_threads = torch.get_num_threads()  # the bare script's: torch's own choice
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            path = args.model or str(build_tiny_llava(root / "tiny-llava"))
            data_dir = root / "data"
            write_rows(data_dir, args.n)
            kob: list[Timing] = []
            bare: list[Timing] = []

            def kobench_side(number: int) -> None:
                kob.append(timed(lambda: kobench_run(path, data_dir, root / f"out{number}", args)))

            def bare_side() -> None:
                torch.set_num_threads(default_threads)  # the adapter sets its own
                bare.append(timed(lambda: bare_loop(path, data_dir, args)))

            # A first round warms both sides up (imports, the allocator, the OS's file cache) and is not
            # counted; then the sides alternate which goes first, so a drift in the machine's speed falls on
            # both alike.
            for number in range(args.repeat + 1):
                if number % 2:
                    bare_side()
                    kobench_side(number)
                else:
                    kobench_side(number)
                    bare_side()
            kob, bare = kob[1:], bare[1:]
            (fresh, fresh_exit, _), (cached, cached_exit, imported) = cli_runs(path, data_dir, root, args)
    finally:
        for process in busy:
            process.kill()

    tokens = args.n * args.max_new_tokens
    print(f"{args.n} rows, batch {args.batch_size}, {tokens} new tokens a run, {args.device}", end="")
    print(f", best of {args.repeat} rounds after a warm-up")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {args.busy} busy processes")
    for name, side in (("kobench", kob), ("bare", bare)):
        walls = " ".join(f"{t.wall:.2f}" for t in side)
        generates = " ".join(f"{t.generate:.2f}" for t in side)
        print(f"{name:8s} end to end {walls} s; generate {generates} s ({side[0].calls} calls)")
    wall_ratio = min(t.wall for t in kob) / min(t.wall for t in bare)
    generate_ratio = min(t.generate for t in kob) / min(t.generate for t in bare)
    print(f"ratio kobench/bare: end to end {wall_ratio:.2f}, generate phase {generate_ratio:.2f}")
    # Each round's own ratio, its two sides run back to back: the median is robust to one lucky run.
    wall_rounds = statistics.median(k.wall / b.wall for k, b in zip(kob, bare, strict=True))
    generate_rounds = statistics.median(k.generate / b.generate for k, b in zip(kob, bare, strict=True))
    print(f"median of the rounds' ratios: end to end {wall_rounds:.2f}, generate phase {generate_rounds:.2f}")
    different = [i for i, text in bare[0].answers.items() if kob[0].answers.get(i) != text]
    print(f"outputs identical on {args.n - len(different)} of {args.n} rows {different[:5] or ''}")
    print(
        f"kobench run in a fresh process {fresh:.2f} s (exit {fresh_exit:.2f} s after the command);"
        f" fully cached re-run {cached:.2f} s (exit {cached_exit:.2f} s; imported torch: {imported})"
    )
    if different:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
