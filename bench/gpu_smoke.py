"""A short smoke run for a machine with CUDA: the same rows through `hf:` and `vllm:`, and how often the two
agree. Run it when a GPU is lent (the device tool); it needs no Hub unless --model names a Hub model.

    python bench/gpu_smoke.py [--vllm-python PY] [--model ORG/NAME --task k-seed --data-dir DIR] [--limit 32]

Without --model: the tests' tiny text model (built here, offline; heads vLLM runs) on KMMLU's generative
version and KoBALT from the local mirrors (tests/fixtures/mirrors), bfloat16 on cuda. With --model (a public
VLM where the Hub is reachable, e.g. NCSOFT/VARCO-VISION-2.0-1.7B): that model on --task. Prints, per task,
each adapter's score and the share of rows whose answers are identical. Never asserted: greedy decoding in
bfloat16 through two different kernels may break near-ties the other way.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _answers(out: Path, task: str) -> list[str | None]:
    lines = (out / "samples" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["prediction"] for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vllm-python", default=None)
    parser.add_argument("--model", default=None, help="a Hub id or folder (default: the tiny text model)")
    parser.add_argument("--task", action="append", default=None)
    parser.add_argument("--data-dir", default=str(ROOT / "tests" / "fixtures" / "mirrors"))
    parser.add_argument("--limit", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    args = parser.parse_args()
    import torch

    import kobench
    from kobench.errors import KobenchError
    from kobench.testing.tiny_models import build_tiny_text_lm

    if not torch.cuda.is_available():
        sys.exit("no CUDA device: this smoke run is for a GPU machine")
    work = Path(tempfile.mkdtemp(prefix="kobench-gpu-smoke-"))
    model = args.model or str(build_tiny_text_lm(work / "lm", for_vllm=True))
    tasks = args.task or ["kmmlu", "kobalt"]
    versions = ["kmmlu=lm-eval-direct", "kmmlu-hard=lm-eval-direct"]
    common = dict(
        data_dir=args.data_dir,
        limit=args.limit,
        max_new_tokens=args.max_new_tokens,
        dtype="bfloat16",
        prompt_versions=versions,
        use_cache=False,
    )
    engine = {"python": args.vllm_python, "max_model_len": 4096}
    print(f"{torch.cuda.get_device_name(0)}; model {model}; tasks {', '.join(tasks)}; {args.limit} rows each")
    hf = kobench.evaluate(f"hf:{model}", tasks, device="cuda", output=work / "hf", **common)
    for task in tasks:
        print(f"  {task:12} hf {hf.primary(task).value} ({hf.run.tokens_per_second} tokens/s)")
    try:
        served = kobench.evaluate(f"vllm:{model}", tasks, vllm=engine, output=work / "vllm", **common)
    except KobenchError as exc:  # a lent machine reaches no index: vLLM is there already, or not at all
        sys.exit(f"vllm: half skipped: {exc}")
    for task in tasks:
        a, b = _answers(work / "hf", task), _answers(work / "vllm", task)
        alike = sum(x == y for x, y in zip(a, b, strict=True)) / max(1, len(a))
        score_hf, score_vllm = hf.primary(task).value, served.primary(task).value
        print(f"  {task:12} hf {score_hf}  vllm {score_vllm}  identical answers {alike:.0%} of {len(a)}")
    print(f"  vllm concurrency: {served.run.concurrency}; outputs in {work}")


if __name__ == "__main__":
    main()
