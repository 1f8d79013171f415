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
    assert "| ko       | bytes " in done.stdout and "2375.0" in done.stdout  # 19 tokens / 8 characters
    missing = subprocess.run(
        [*command[:5], "hf:/no/such/tokenizer", "--corpus", str(corpus)], capture_output=True, text=True
    )
    assert missing.returncode == 4 and "cannot load its tokenizer" in missing.stderr


def test_task_prompts_are_a_corpus_and_a_judged_task_needs_no_judge(tiny_llava: Path, tmp_path: Path) -> None:
    from benchmark_copies import write_all

    from kobench.api import token_efficiency

    mirror = write_all(tmp_path / "mirror")
    common = {"data_dir": mirror, "cache_dir": tmp_path / "cache", "fmt": "tsv"}
    text = token_efficiency([f"hf:{tiny_llava}"], tasks=["k-seed", "k-llava-w"], **common)
    rows = [line.split("\t") for line in text.splitlines()[1:]]
    assert [row[0].strip() for row in rows] == ["k-seed prompts", "k-llava-w prompts"]
    fewer = token_efficiency([f"hf:{tiny_llava}"], tasks=["k-seed"], limit=2, **common)
    assert int(fewer.splitlines()[1].split("\t")[2]) < int(rows[0][2])
