"""tiktoken encodings (GPT-4o's o200k_base, GPT-4's cl100k_base) read from a local ranks file, for
`kobench tokens`: tiktoken fetches its BPE files from outside PyPI, so kobench never downloads them; the user
gives the file.

`--model tiktoken:PATH` or `tiktoken:NAME=PATH`, NAME one of ENCODINGS: it chooses the published split
regex and special tokens, taken from tiktoken's own definitions (tiktoken_ext.openai_public), never copied
here. A bare PATH names its encoding by its file name (`o200k_base.tiktoken`). The file is the `.tiktoken`
format tiktoken's `load_tiktoken_bpe` reads: one token a line, `base64(token bytes) rank`. It is read here
rather than through `load_tiktoken_bpe`, whose cache keys a local path by its name (an edited file would
read as its old contents); whether it is the very file OpenAI publishes (tiktoken's expected sha256) is
recorded, not required.

Tokens are `encode_ordinary`'s: the text alone, special-token strings in it counted as the text they are.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kobench.errors import BadInputError

PREFIX = "tiktoken:"
ENCODINGS = ("o200k_base", "cl100k_base")


def is_tiktoken_spec(spec: str) -> bool:
    return spec.startswith(PREFIX)


@dataclass
class TiktokenTokenizer:
    """A tiktoken Encoding called the way transformers tokenizers are: `tokenizer(texts,
    add_special_tokens=False)["input_ids"]` (count_tokens' call)."""

    encoding: Any  # tiktoken.Encoding
    path: Path
    sha256: str  # of the ranks file
    published_sha256: str | None  # the digest tiktoken expects of OpenAI's own file, where it names one

    @property
    def name(self) -> str:
        return str(self.encoding.name)

    @property
    def published(self) -> bool:
        """True when the ranks file is byte for byte the one OpenAI publishes for this encoding."""
        return self.published_sha256 is not None and self.sha256 == self.published_sha256

    def __call__(self, texts: str | Sequence[str], add_special_tokens: bool = False) -> dict[str, Any]:
        # add_special_tokens: accepted for the transformers call; tiktoken adds none to a text.
        if isinstance(texts, str):
            return {"input_ids": self.encoding.encode_ordinary(texts)}
        return {"input_ids": self.encoding.encode_ordinary_batch(list(texts))}


def parse_spec(spec: str) -> tuple[str, Path]:
    """(encoding name, ranks file) of `tiktoken:PATH` or `tiktoken:NAME=PATH`."""
    rest = spec.removeprefix(PREFIX)
    choices = " or ".join(ENCODINGS)
    name, sep, path = rest.partition("=")
    if sep and not Path(rest).exists():
        if name not in ENCODINGS:
            raise BadInputError(f"--model {spec}: unknown tiktoken encoding {name!r}; choose {choices}")
        target = Path(path)
    else:
        target = Path(rest)
        name = target.name.removesuffix(".tiktoken")
        if name not in ENCODINGS:
            raise BadInputError(
                f"--model {spec}: cannot tell the encoding from the file name {target.name!r}; say it:"
                f" tiktoken:NAME=PATH with NAME {choices}"
            )
    if not target.is_file():
        raise BadInputError(f"--model {spec}: no ranks file at {target}")
    return name, target


def read_ranks(path: Path) -> dict[bytes, int]:
    """A `.tiktoken` file's token bytes and ranks (as tiktoken.load.load_tiktoken_bpe parses it), every one
    of the 256 single bytes among them (tiktoken's BPE starts from bytes and cannot encode without one)."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise BadInputError(f"tiktoken ranks {path}: cannot read it ({exc})") from exc
    ranks: dict[bytes, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
        except (ValueError, binascii.Error) as exc:
            raise BadInputError(
                f"tiktoken ranks {path}, line {number}: not `base64(token) rank` ({line[:60]!r})"
            ) from exc
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise BadInputError(
            f"tiktoken ranks {path}: {len(missing)} of the 256 single bytes have no rank"
            f" (first: {missing[0]})"
        )
    if len(set(ranks.values())) != len(ranks):
        raise BadInputError(f"tiktoken ranks {path}: two tokens have the same rank")
    return ranks


def published_parameters(name: str, ranks: dict[bytes, int]) -> tuple[dict[str, Any], str | None]:
    """tiktoken's own constructor arguments for the encoding `name` (its name, pat_str and special tokens,
    tiktoken_ext.openai_public) with `ranks` as its mergeable ranks, and the sha256 tiktoken expects of the
    published ranks file. The constructor's download is replaced by `ranks`: nothing is fetched."""
    from unittest import mock

    from tiktoken_ext import openai_public

    expected: list[str | None] = []

    def local(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        expected.append(expected_hash)
        return ranks

    with mock.patch.object(openai_public, "load_tiktoken_bpe", local):
        parameters = openai_public.ENCODING_CONSTRUCTORS[name]()
    return parameters, (expected[0] if expected else None)


def load_tiktoken(spec: str) -> tuple[str, TiktokenTokenizer]:
    """(display name: the encoding's name, tokenizer) for `tiktoken:PATH` or `tiktoken:NAME=PATH`."""
    try:
        import tiktoken
    except ImportError as exc:
        raise BadInputError(f"--model {spec}: needs tiktoken (pip install 'kobench[tiktoken]')") from exc
    name, path = parse_spec(spec)
    ranks = read_ranks(path)
    parameters, published = published_parameters(name, ranks)
    clashes = set(parameters["special_tokens"].values()) & set(ranks.values())
    if clashes:
        raise BadInputError(
            f"--model {spec}: ranks {sorted(clashes)[:3]} are {name}'s special tokens' ids;"
            f" is this {name}'s ranks file?"
        )
    try:
        encoding = tiktoken.Encoding(**parameters)
    except (ValueError, AssertionError) as exc:
        raise BadInputError(f"--model {spec}: tiktoken cannot build {name} from {path} ({exc})") from exc
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return name, TiktokenTokenizer(encoding, path, digest, published)
