"""`kobench tokens`: tokens per 1,000 characters and morphemes, checked against hand counts with a byte-level
tokenizer that has no merges (one token per UTF-8 byte, a space folded into the next word's first byte)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kobench.errors import BadInputError
from kobench.report.token_efficiency import Corpus, count_tokens, measure, read_corpus, table

TEXTS = ("가나다 abc", "라마")  # 6 + 2 characters that are not spaces


@pytest.fixture(scope="module")
def bytes_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A byte-level BPE without merges, saved as a transformers tokenizer folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=len(alphabet) + 1, special_tokens=["<pad>"], initial_alphabet=alphabet
    )
    tok.train_from_iterator(["a"], trainer=trainer)
    out = tmp_path_factory.mktemp("bytes") / "bytes"
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>").save_pretrained(out)
    return out


def test_counts_by_hand(bytes_tokenizer: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(bytes_tokenizer)
    # 가나다: 3 syllables x 3 UTF-8 bytes; " abc": Ġa b c; 라마: 6 bytes.
    assert count_tokens(tokenizer, TEXTS) == 9 + 4 + 6
    corpus = Corpus("hand", TEXTS)
    assert corpus.characters == 8
    (count,) = measure({"bytes": tokenizer}, [corpus])
    assert count.tokens == 19 and count.per_1k_characters == pytest.approx(1000 * 19 / 8)


def test_morphemes_are_kiwis_without_punctuation(bytes_tokenizer: Path) -> None:
    from kiwipiepy import Kiwi
    from transformers import AutoTokenizer

    texts = ("고양이가 잔다.", "서울에서 버스를 탔다!")
    punctuation = {"SF", "SP", "SS", "SSO", "SSC", "SE", "SO", "SW", "SB", "W_EMOJI"}
    kiwi = Kiwi(model_type="cong")
    expected = sum(1 for text in texts for token in kiwi.tokenize(text) if token.tag not in punctuation)
    (count,) = measure({"bytes": AutoTokenizer.from_pretrained(bytes_tokenizer)}, [Corpus("k", texts)])
    assert count.morphemes == expected and count.per_1k_morphemes == pytest.approx(
        1000 * count.tokens / expected
    )


def test_the_reference_column_is_the_ratio_on_the_same_corpus(
    bytes_tokenizer: Path, tiny_llava: Path
) -> None:
    from transformers import AutoTokenizer

    tokenizers = {
        "bytes": AutoTokenizer.from_pretrained(bytes_tokenizer),
        "llava": AutoTokenizer.from_pretrained(tiny_llava),
    }
    counts = measure(tokenizers, [Corpus("hand", TEXTS)])
    llava = next(c for c in counts if c.model == "llava")
    text = table(counts, reference="bytes")
    ratio = llava.tokens / 19
    assert f"| {ratio:.3f} " in text and f"{1 - ratio:+.1%}" in text and "| 1.000 " in text
    with pytest.raises(BadInputError, match="--reference gpt: not one of the models"):
        table(counts, reference="gpt")


def test_an_empty_corpus_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"empty\.txt: no text in it"):
        read_corpus(tmp_path / "empty.txt")


def test_kobench_tokens_on_the_command_line(bytes_tokenizer: Path, tiny_llava: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "ko.txt"
    corpus.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "kobench", "tokens", "--model", f"hf:{bytes_tokenizer}"]
    command += ["--model", f"hf:{tiny_llava}", "--corpus", str(corpus), "--reference", "bytes"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    ko_bytes = [line for line in lines if line.startswith("| ko ") and "| bytes " in line]
    assert len(ko_bytes) == 1 and "2375.0" in ko_bytes[0]  # 19 tokens / 8 characters
    # the shipped corpus is measured too, and the vision model's visual tokens (the tokenizer-only folder
    # has none to measure)
    assert any(line.startswith("| constitution ") for line in lines)
    assert "Visual tokens per image" in done.stdout and "bytes" not in done.stdout.split("Visual tokens")[1]
    missing = subprocess.run(
        [*command[:5], "hf:/no/such/tokenizer", "--corpus", str(corpus)], capture_output=True, text=True
    )
    assert missing.returncode == 4 and "cannot load its tokenizer" in missing.stderr


def test_task_prompts_are_a_corpus_and_a_judged_task_needs_no_judge(tiny_llava: Path, tmp_path: Path) -> None:
    from benchmark_copies import write_all

    from kobench.api import token_efficiency

    mirror = write_all(tmp_path / "mirror")
    common = {"data_dir": mirror, "cache_dir": tmp_path / "cache", "fmt": "tsv", "builtin_corpus": False}
    common["image_sizes"] = ""
    text = token_efficiency([f"hf:{tiny_llava}"], tasks=["k-seed", "k-llava-w"], **common)
    rows = [line.split("\t") for line in text.splitlines()[1:]]
    assert [row[0].strip() for row in rows] == ["k-seed prompts", "k-llava-w prompts"]
    fewer = token_efficiency([f"hf:{tiny_llava}"], tasks=["k-seed"], limit=2, **common)
    assert int(fewer.splitlines()[1].split("\t")[2]) < int(rows[0][2])


def test_kobench_tokens_defaults_measure_the_constitution_and_visual_tokens_and_write_them(
    tiny_llava: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    import kobench
    from kobench.cli import app
    from kobench.efficiency import load_efficiency

    runner = CliRunner()
    done = runner.invoke(app, ["tokens", "-m", f"hf:{tiny_llava}", "-o", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    saved = load_efficiency(tmp_path / "out" / tiny_llava.name / "tokens.json")
    by_label = {v.benchmark: v for v in saved.values}
    chars = by_label["Tokens / 1k chars (constitution)"]
    text = (Path(kobench.__file__).parent / "data" / "corpora" / "constitution-ko.txt").read_text(
        encoding="utf-8"
    )
    assert chars.conditions["characters"] == sum(not c.isspace() for c in text) == 14319
    assert chars.direction == "lower"
    # LLaVA resizes every image to its vision tower's square: (32 / 8)² = 16 patches at any size
    assert [by_label[f"Visual tokens ({s})"].value for s in ("448×448", "896×896", "1280×720")] == [16] * 3
    table = runner.invoke(app, ["table", str(tmp_path / "out" / tiny_llava.name)])
    assert (
        "Tokens / 1k chars (constitution) ↓" in table.output and "Visual tokens (448×448) ↓" in table.output
    )
    nothing = runner.invoke(
        app, ["tokens", "-m", f"hf:{tiny_llava}", "--no-builtin-corpus", "--image-sizes", ""]
    )
    assert nothing.exit_code == 4 and "nothing to measure" in nothing.output
