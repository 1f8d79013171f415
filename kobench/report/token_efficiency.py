"""Tokenizer efficiency: how many tokens a model's tokenizer spends on the same Korean text, per 1,000
characters and per 1,000 morphemes, side by side and as a ratio to a reference model (so "41% fewer tokens
than X on the same Korean input" is one command). Only the tokenizers load: no weights, no model call.

Characters are the text's non-whitespace characters (spacing differs between writers, the letters do
not); morphemes are kiwipiepy's (kobench.metrics.morphemes, punctuation dropped); tokens are the
tokenizer's ids for the text alone, without the special tokens a chat template or BOS would add.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from kobench.errors import BadInputError
from kobench.files.text import read_utf8


@dataclass(frozen=True)
class Corpus:
    name: str
    texts: tuple[str, ...]

    @property
    def characters(self) -> int:
        return sum(sum(not c.isspace() for c in text) for text in self.texts)


@dataclass(frozen=True)
class TokenCount:
    model: str
    corpus: str
    tokens: int
    characters: int
    morphemes: int

    @property
    def per_1k_characters(self) -> float:
        return 1000 * self.tokens / self.characters if self.characters else float("nan")

    @property
    def per_1k_morphemes(self) -> float:
        return 1000 * self.tokens / self.morphemes if self.morphemes else float("nan")


def read_corpus(path: Path) -> Corpus:
    """A UTF-8 text file, one text per non-empty line."""
    try:
        lines = read_utf8(path).splitlines()
    except OSError as exc:
        raise BadInputError(f"--corpus {path}: cannot read it ({exc})") from exc
    except BadInputError as exc:  # not UTF-8: the line and column named
        raise BadInputError(f"--corpus {exc}") from None
    texts = tuple(line.strip() for line in lines if line.strip())
    if not texts:
        raise BadInputError(f"--corpus {path}: no text in it")
    return Corpus(path.stem, texts)


def count_tokens(tokenizer: Any, texts: Sequence[str]) -> int:
    """The tokenizer's ids for each text alone (no special tokens), summed."""
    encoded = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    return sum(len(ids) for ids in encoded)


def count_morphemes(texts: Sequence[str]) -> int:
    from kobench.metrics.morphemes import MorphemeTokenizer

    return sum(len(joined.split()) for joined in MorphemeTokenizer().tokenize(texts))


def measure(tokenizers: dict[str, Any], corpora: Sequence[Corpus]) -> list[TokenCount]:
    counts = []
    for corpus in corpora:
        morphemes = count_morphemes(corpus.texts)
        for name, tokenizer in tokenizers.items():
            tokens = count_tokens(tokenizer, corpus.texts)
            counts.append(TokenCount(name, corpus.name, tokens, corpus.characters, morphemes))
    return counts


def load_tokenizer(
    spec: str, trust_remote_code: bool = False, revision: str | None = None
) -> tuple[str, Any]:
    """(display name, tokenizer) for `hf:PATH_OR_ID` (or a bare path or Hub id): its tokenizer files only;
    for `tiktoken:[NAME=]PATH` a tiktoken encoding from a local ranks file, named by its encoding
    (kobench.report.tiktoken_tokenizer)."""
    if spec.startswith("tiktoken:"):
        from kobench.report.tiktoken_tokenizer import load_tiktoken

        return load_tiktoken(spec)
    from transformers import AutoTokenizer

    from kobench.models.fingerprint import hf_name

    target = spec.removeprefix("hf:")
    if ":" in target and not Path(target).exists():
        raise BadInputError(
            f"--model {spec}: kobench tokens reads hf: tokenizers (hf:PATH_OR_ID) and tiktoken encodings"
            " (tiktoken:[NAME=]PATH)"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            target, trust_remote_code=trust_remote_code, revision=revision
        )
    except (OSError, ValueError) as exc:
        raise BadInputError(f"--model {spec}: cannot load its tokenizer ({exc})") from exc
    return hf_name(target), tokenizer


def table(counts: Sequence[TokenCount], reference: str | None = None, fmt: str = "github") -> str:
    """One row per corpus and model: tokens, per 1k characters and morphemes, and against the reference
    model on the same corpus the ratio of tokens and how many fewer (negative: more)."""
    models = list(dict.fromkeys(c.model for c in counts))
    if reference is not None and reference not in models:
        raise BadInputError(f"--reference {reference}: not one of the models ({', '.join(models)})")
    by_key = {(c.corpus, c.model): c for c in counts}
    rows = []
    for c in counts:
        row: list[Any] = [
            c.corpus,
            c.model,
            c.tokens,
            f"{c.per_1k_characters:.1f}",
            f"{c.per_1k_morphemes:.1f}",
        ]
        if reference is not None:
            base = by_key[(c.corpus, reference)]
            ratio = c.tokens / base.tokens if base.tokens else float("nan")
            row += [f"{ratio:.3f}", f"{1 - ratio:+.1%}"]
        rows.append(row)
    header = ["corpus", "model", "tokens", "tokens / 1k chars", "tokens / 1k morphemes"]
    if reference is not None:
        header += [f"× {reference}", f"fewer than {reference}"]
    return tabulate(rows, headers=header, tablefmt=fmt, disable_numparse=True)


def token_efficiency(
    models: Sequence[str],
    corpora: Sequence[Corpus],
    *,
    reference: str | None = None,
    trust_remote_code: bool = False,
    fmt: str = "github",
) -> str:
    """The `kobench tokens` table."""
    if not models:
        raise BadInputError("--model: give at least one hf:PATH_OR_ID or tiktoken:[NAME=]PATH")
    if not corpora:
        raise BadInputError("give a --corpus FILE or --tasks whose prompts to count")
    tokenizers = dict(load_tokenizer(spec, trust_remote_code) for spec in models)
    if len(tokenizers) < len(models):
        raise BadInputError("--model: two models have the same name; give each once")
    return table(measure(tokenizers, corpora), reference, fmt)
