"""A short smoke run for a machine with CUDA: the same rows through `hf:` and `vllm:`, and how often the two
agree. Run it when a GPU is lent (the device tool); it needs no Hub unless --model names a Hub model.

    python bench/gpu_smoke.py [--vllm-python PY] [--model ORG/NAME --task k-seed --data-dir DIR] [--limit 32]
                              [--device cuda|cpu]

Without --model: the tests' tiny models, built here offline with heads vLLM runs: the text model on KMMLU's
generative version and KoBALT from the local mirrors (tests/fixtures/mirrors), then the image families
(Qwen2.5-VL, Qwen3-VL, LLaVA-OneVision, Gemma 3) on generated K-SEED-style rows with their images; bfloat16
on cuda. With --model (a public VLM where the Hub is reachable, e.g. NCSOFT/VARCO-VISION-2.0-1.7B): that
model on --task. Prints, per model and task, each adapter's score and the share of rows whose answers are
identical. Never asserted: greedy decoding in bfloat16 through two different kernels may break near-ties
the other way. `--device cpu` runs the same on vLLM's CPU build (float32), to try the script without a GPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

IMAGE_FAMILIES = ("qwen2_5_vl", "qwen3_vl", "llava_onevision", "gemma3")


def _answers(out: Path, task: str) -> list[str]:
    """Each row's answer; hf decodes an answer cut off inside a multi-byte character as U+FFFD where vLLM
    holds the partial character back, so a trailing one is not a difference."""
    lines = (out / "samples" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [(json.loads(line)["prediction"] or "").rstrip("\ufffd") for line in lines]


def _runs(args: argparse.Namespace, work: Path) -> list[tuple[str, str, list[str], str, tuple[str, ...]]]:
    """(label, model, tasks, data folder, further engine arguments) for each model to compare."""
    from benchmark_copies import k_seed_rows, write_parquet
    from model_fixtures import VLLM_CPU_ENGINE_ARGS, build_for_vllm

    from kobench.testing.tiny_models import build_tiny_text_lm

    if args.model:
        return [(args.model, args.model, args.task or ["k-seed"], args.data_dir, ())]
    runs = [
        (
            "tiny text",
            str(build_tiny_text_lm(work / "lm", for_vllm=True)),
            ["kmmlu", "kobalt"],
            args.data_dir,
            (),
        )
    ]
    images = work / "mirror"
    write_parquet(images, "NCSOFT/K-SEED", "test", k_seed_rows(args.limit))
    for family in IMAGE_FAMILIES:
        extra = VLLM_CPU_ENGINE_ARGS.get(family, ()) if args.device == "cpu" else ()
        folder = str(build_for_vllm(family, work / family))
        runs.append((f"tiny {family}", folder, ["k-seed"], str(images), extra))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vllm-python", default=None)
    parser.add_argument("--model", default=None, help="a Hub id or folder (default: the tiny models)")
    parser.add_argument("--task", action="append", default=None)
    parser.add_argument("--data-dir", default=str(ROOT / "tests" / "fixtures" / "mirrors"))
    parser.add_argument("--limit", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = parser.parse_args()
    import torch

    import kobench
    from kobench.errors import KobenchError
    from kobench.models.vllm_engine import vllm_python

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device: this smoke run is for a GPU machine (--device cpu to try it here)")
    where = torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU"
    work = Path(tempfile.mkdtemp(prefix="kobench-gpu-smoke-"))
    dtype = "bfloat16" if args.device == "cuda" else "float32"
    versions = ["kmmlu=lm-eval-direct", "kmmlu-hard=lm-eval-direct"]
    print(f"{where}; {dtype}; {args.limit} rows a task; outputs in {work}")
    try:  # asked once: a lent GPU machine's image may have no vLLM, and no index to install one from
        vllm_python(args.vllm_python)
        no_vllm = False
    except KobenchError as exc:
        print(f"only the hf: halves run: {exc}")
        no_vllm = True
    for label, model, tasks, data_dir, extra in _runs(args, work):
        common = dict(
            data_dir=data_dir,
            limit=args.limit,
            max_new_tokens=args.max_new_tokens,
            dtype=dtype,
            prompt_versions=[v for v in versions if v.split("=")[0] in tasks],
            use_cache=False,
        )
        out = work / label.replace(" ", "-")
        hf = kobench.evaluate(f"hf:{model}", tasks, device=args.device, output=out / "hf", **common)
        for task in tasks:
            print(f"  {label:22} {task:8} hf {hf.primary(task).value}  ({hf.run.tokens_per_second} tokens/s)")
        if no_vllm:
            continue
        engine = {
            "python": args.vllm_python,
            "max_model_len": None if args.model else 1024,  # the fixtures' positions; a real model's own
            "limit_mm_per_prompt": '{"image": 4, "video": 0}' if tasks == ["k-seed"] else None,
            "engine_args": ("--enforce-eager", *extra) if args.device == "cpu" else extra,
        }
        try:
            served = kobench.evaluate(f"vllm:{model}", tasks, vllm=engine, output=out / "vllm", **common)
        except KobenchError as exc:  # the engine failed to start or died
            print(f"  {label:22} the vllm: half failed: {exc}")
            continue
        for task in tasks:
            a, b = _answers(out / "hf", task), _answers(out / "vllm", task)
            alike = sum(x == y for x, y in zip(a, b, strict=True)) / max(1, len(a))
            score_hf, score_vllm = hf.primary(task).value, served.primary(task).value
            print(
                f"  {label:22} {task:8} hf {score_hf}  vllm {score_vllm}"
                f"  identical answers {alike:.0%} of {len(a)}"
            )
        print(f"  {label:22} vllm concurrency: {served.run.concurrency}; engine: {served.run.loading}")


if __name__ == "__main__":
    main()
