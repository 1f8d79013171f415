"""The model families on CUDA (issue 15's GPU check): every fixture of tests/model_fixtures.py through the
hf adapter in bfloat16 on the GPU, a batch against one request at a time; then, for each real checkpoint
given as a local folder (a lent GPU machine reaches no Hub), 20 K-SEED-style rows, printing the outputs.

    python bench/families_gpu.py [--hcx DIR] [--ax DIR] [--device cuda] [--rows 20]

--hcx: a copy of naver-hyperclovax/HyperCLOVAX-SEED-Vision-Instruct-3B (either revision); --ax: of
skt/A.X-4.0-VL-Light. Nothing is asserted: it prints, per fixture, the share of requests whose batched
answer equals the one alone (bfloat16 kernels may break near-ties differently in a batch), and each real
model's answers, for a person to read.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _requests(n: int):
    """K-SEED-style rows: an image, a Korean question with four options, the task's answer instruction."""
    from benchmark_copies import png

    from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

    questions = ["이미지에 보이는 것은 무엇입니까?", "사진 속 물체의 색깔은?", "그림에 있는 사물의 개수는?"]
    options = ["A. 사과", "B. 버스", "C. 고양이", "D. 지도"]
    rows = []
    for i in range(n):
        size = (96 + 32 * (i % 4), 64 + 16 * (i % 3))
        image = ImageRef(data=png((40 * i % 256, 120, 200 - 7 * i % 200), size))
        text = (
            f"{questions[i % 3]}\n"
            + "\n".join(options)
            + "\n주어진 선택지 중 해당 옵션의 문자로 직접 답하세요."
        )
        message = Message("user", (ImagePart(image), TextPart(text)))
        rows.append(
            Request(id=f"k-seed-{i}", messages=(message,), generation=GenerationSettings(max_new_tokens=16))
        )
    return rows


def _fixtures(root: Path) -> dict[str, tuple[Path, bool]]:
    from model_fixtures import (
        build_ax4vl,
        build_gemma3,
        build_hyperclovax_seed_vision,
        build_hyperclovax_seed_vision_main,
        build_internvl_chat,
        build_llava_onevision,
    )

    from kobench.testing.tiny_models import build_tiny_llava, build_tiny_qwen2_vl

    return {
        "hyperclovax-seed-vision v0.1.0 (fixture)": (build_hyperclovax_seed_vision(root / "hcx"), True),
        "hyperclovax-seed-vision main (fixture)": (
            build_hyperclovax_seed_vision_main(root / "hcx-main"),
            True,
        ),
        "internvl3 remote code (fixture)": (build_internvl_chat(root / "InternVL3"), True),
        "a.x-4.0-vl-light (fixture)": (build_ax4vl(root / "A.X-4.0-VL-Light"), True),
        "llava-onevision (fixture)": (build_llava_onevision(root / "llava-onevision"), False),
        "gemma3 (fixture)": (build_gemma3(root / "gemma3"), False),
        "qwen2.5-vl (fixture)": (build_tiny_qwen2_vl(root / "qwen2_5_vl", variant="qwen2_5_vl"), False),
        "qwen3-vl (fixture)": (build_tiny_qwen2_vl(root / "qwen3_vl", variant="qwen3_vl"), False),
        "llava (fixture)": (build_tiny_llava(root / "llava"), False),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--hcx", type=Path, default=None, help="HyperCLOVAX-SEED-Vision-Instruct-3B folder (either revision)"
    )
    parser.add_argument("--ax", type=Path, default=None, help="A.X-4.0-VL-Light folder")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    import torch

    from kobench.models.hf import HFModel

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("no CUDA device: this check is for a GPU machine (use --device cpu to try it here)")
    dtype = "bfloat16" if args.device.startswith("cuda") else "float32"
    requests = _requests(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (folder, remote) in _fixtures(Path(tmp)).items():
            model = HFModel(
                str(folder), device=args.device, dtype=dtype, trust_remote_code=remote, batch_size=8
            )
            start = time.perf_counter()
            batched = {r.request_id: r.text for r in model.generate(requests)}
            seconds = time.perf_counter() - start
            alone = {r.id: next(iter(model.generate([r]))).text for r in requests}
            same = sum(batched[k] == alone[k] for k in alone)
            print(
                f"{name}: {same}/{len(alone)} batched answers equal alone; batch of 8: {seconds:.2f} s",
                flush=True,
            )
    for name, folder in (("HyperCLOVAX-SEED-Vision-Instruct-3B", args.hcx), ("A.X-4.0-VL-Light", args.ax)):
        if folder is None:
            print(f"{name}: no local copy given, skipped")
            continue
        model = HFModel(str(folder), device=args.device, dtype=dtype, trust_remote_code=True, batch_size=8)
        print(f"{name}: interface {model.loading_report()}, batch {model.batch_report()}")
        for response in sorted(model.generate(requests), key=lambda r: int(r.request_id.rsplit("-", 1)[1])):
            print(f"  {response.request_id}: {response.text!r} {response.error or ''}")


if __name__ == "__main__":
    main()
