"""The corpus `kobench tokens` measures on by default: natural Korean prose that ships with kobench, so every
tokenizer's numbers are on the same text wherever they were measured.

"constitution" is the Constitution of the Republic of Korea (kobench/data/corpora/constitution-ko.txt, public
domain: a statute; where it comes from, its sha256 and the licence reasoning are in SOURCE.md beside it), one
text per non-empty line, read as `read_corpus` reads a --corpus file.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from kobench.report.token_efficiency import Corpus

BUILTIN_CORPUS = "constitution"
_PACKAGE = "kobench.data.corpora"
_FILE = "constitution-ko.txt"


def builtin_corpus_bytes() -> bytes:
    """The shipped file's bytes, exactly as SOURCE.md's digest names them."""
    return resources.files(_PACKAGE).joinpath(_FILE).read_bytes()


def builtin_corpus_sha256() -> str:
    return hashlib.sha256(builtin_corpus_bytes()).hexdigest()


def builtin_corpus() -> Corpus:
    """The Constitution of the Republic of Korea, one text per non-empty line (stripped)."""
    lines = builtin_corpus_bytes().decode("utf-8").splitlines()
    return Corpus(BUILTIN_CORPUS, tuple(line.strip() for line in lines if line.strip()))
