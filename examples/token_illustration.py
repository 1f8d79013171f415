"""The README's token-efficiency illustration: `kobench tokens` across tokenizers built here, offline.

    python examples/token_illustration.py [--out DIR]

Three byte-level BPE tokenizers with no relation to any real model: `bytes` (no merges: one token per
UTF-8 byte, three per Hangul syllable), and `bpe-400` / `bpe-900`, trained on kobench's small generated
Korean/English fixture sentences to 400 and 900 tokens of vocabulary (the fixture sentences hold about 910
distinct merges: all a trainer can learn from them). They are measured on the
Constitution of the Republic of Korea that ships with kobench (which none of them saw), against `bytes`.
The numbers only show what the table says; real claims need real tokenizers (the README says how).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from kobench.api import token_efficiency
from kobench.testing.tiny_models import _corpus


def byte_level_bpe(out: Path, vocab_size: int) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=max(vocab_size, len(alphabet) + 1),
        special_tokens=["<pad>"],
        initial_alphabet=alphabet,
        show_progress=False,
    )
    tok.train_from_iterator(_corpus() if vocab_size > len(alphabet) + 1 else ["a"], trainer=trainer)
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>").save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="Where to build the tokenizers (default: a temp dir)."
    )
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp())
    folders = [byte_level_bpe(root / "bytes", 0), byte_level_bpe(root / "bpe-400", 400)]
    folders.append(byte_level_bpe(root / "bpe-900", 900))
    print(token_efficiency([f"hf:{f}" for f in folders], reference="bytes", image_sizes="", fmt="github"))


if __name__ == "__main__":
    main()
