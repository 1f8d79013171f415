"""A random-weight myvlm checkpoint, written offline in seconds, to try the plugin without a download:

    python -m kobench_myvlm.build ./ckpt [--seed 0]
    kobench run --model myvlm:./ckpt --tasks k-seed ...

The LM is kobench's tiny test LM (a 2-layer Qwen2 with a Korean/English BPE tokenizer and a ChatML
template) with the `<image>` placeholder added to its vocabulary, as a team adds it to a real LM
(HyperCLOVAX-SEED-Text-0.5B, say) before training the connector. Its answers are noise: it is for
plumbing, not scores.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import torch

from kobench_myvlm.checkpoint import CONFIG_FILE, VISION_FILE
from kobench_myvlm.modeling import MyVLMConfig, VisionTower


def build_checkpoint(out: Path, seed: int = 0, config: MyVLMConfig | None = None) -> Path:
    """Write a random checkpoint (config, vision tower, LM) to `out`, replacing what a previous build put
    there, and return `out`. The same seed writes the same weights."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    from kobench.testing.tiny_models import build_tiny_text_lm

    transformers_logging.disable_progress_bar()  # a sub-megabyte checkpoint needs none
    config = config or MyVLMConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG_FILE).unlink(missing_ok=True)  # written last: its presence means the folder is whole
    with tempfile.TemporaryDirectory() as tmp:
        base = build_tiny_text_lm(Path(tmp), seed=seed)
        tokenizer = AutoTokenizer.from_pretrained(base)
        lm = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    tokenizer.add_tokens([config.image_token], special_tokens=True)
    torch.manual_seed(seed)
    # The placeholder's own embedding is never used (image features replace it), so no mean resizing.
    lm.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    if lm.config.hidden_size != config.lm_hidden_size:
        raise ValueError(f"the LM is {lm.config.hidden_size} wide, the config says {config.lm_hidden_size}")
    lm_folder = out / config.lm_folder
    shutil.rmtree(lm_folder, ignore_errors=True)
    lm.save_pretrained(lm_folder)
    tokenizer.save_pretrained(lm_folder)
    torch.manual_seed(seed + 1)
    VisionTower(config).save(out / VISION_FILE)
    config.save(out / CONFIG_FILE)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m kobench_myvlm.build", description="Write a random-weight myvlm checkpoint, offline."
    )
    parser.add_argument("out", type=Path, help="the checkpoint folder to write")
    parser.add_argument("--seed", type=int, default=0, help="the random weights' seed (default 0)")
    args = parser.parse_args(argv)
    print(build_checkpoint(args.out, seed=args.seed))


if __name__ == "__main__":
    main()
