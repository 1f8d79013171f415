"""examples/kobench-myvlm, the plugin example for a team's own model: installed for real (pip, into a
folder of its own), run through `kobench run --model myvlm:CKPT` in a fresh process, and checked at the
model level: a batch answers as its requests alone, the image changes the logits, the fingerprint follows
the checkpoint's bytes and never needs the model."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from benchmark_copies import k_seed_rows, png, write_parquet

from kobench.config import ModelOptions
from kobench.errors import BadInputError
from kobench.models.base import in_request_order
from kobench.results import load_results
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "kobench-myvlm"
RED, BLUE, GREEN = png((230, 20, 20)), png((20, 20, 230)), png((20, 200, 40), size=(48, 20))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example pip-installed into a folder of its own (the main environment is untouched), from a copy
    of its source, so the build leaves no build/ or egg-info in the repository."""
    pytest.importorskip("transformers", reason="the example's LM is a transformers model")
    root = tmp_path_factory.mktemp("myvlm-install")
    source = root / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = root / "site"
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index"]
    command += ["--quiet", "--disable-pip-version-check", "--target", str(target), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


@pytest.fixture(scope="module")
def myvlm(site: Path) -> Iterator[SimpleNamespace]:
    """The installed package's modules, imported in this process while its folder is on sys.path."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        from kobench_myvlm import build, checkpoint, modeling, plugin

        yield SimpleNamespace(build=build, checkpoint=checkpoint, modeling=modeling, plugin=plugin)
        for name in [m for m in sys.modules if m == "kobench_myvlm" or m.startswith("kobench_myvlm.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def ckpt(myvlm: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("myvlm-ckpt") / "ckpt"
    myvlm.build.main([str(out)])  # as `python -m kobench_myvlm.build OUT` does
    return out


@pytest.fixture(scope="module")
def adapter(myvlm: SimpleNamespace, ckpt: Path) -> Any:
    return myvlm.plugin.ENTRY.load(str(ckpt), ModelOptions(device="cpu", dtype="float32", batch_size=4))


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("myvlm-mirror")
    write_parquet(root, "NCSOFT/K-SEED", "test", k_seed_rows(8))
    return root


def kobench_run(site: Path, ckpt: Path, mirror: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "kobench", "run", "--model", f"myvlm:{ckpt}", "--tasks", "k-seed"]
    command += ["--data-dir", str(mirror), "--output", str(out), "--no-progress", "--max-new-tokens", "8"]
    command += ["--device", "cpu", *extra]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "KOBENCH_CACHE_DIR": str(out.parent / f"{out.name}-cache"),  # the digests' cache, kept out of ~
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def predictions(out: Path) -> dict[str, str | None]:
    lines = (out / "samples" / "k-seed.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["id"]: row["prediction"] for row in map(json.loads, lines)}


@pytest.fixture(scope="module")
def batched_run(site: Path, ckpt: Path, mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("myvlm-runs") / "batch-4"
    kobench_run(site, ckpt, mirror, out, "--batch-size", "4", "--no-cache")
    return out


def test_kobench_run_answers_with_the_installed_plugin(batched_run: Path) -> None:
    results = load_results(batched_run / "results.json")
    assert results.status == "complete" and results.tasks["k-seed"].complete
    assert results.tasks["k-seed"].n == 8 and results.tasks["k-seed"].n_failed == 0
    model = results.run.model
    assert (model.adapter, model.name) == ("myvlm", "ckpt")
    assert model.fingerprint.startswith("myvlm:") and model.settings["device"] == "cpu"
    answers = predictions(batched_run)
    assert len(answers) == 8 and all(answers.values())


def test_batch_size_1_answers_as_batch_size_4(
    site: Path, ckpt: Path, mirror: Path, batched_run: Path, tmp_path: Path
) -> None:
    # --no-cache on both runs: otherwise the second would be answered from the first's cache.
    kobench_run(site, ckpt, mirror, tmp_path / "batch-1", "--batch-size", "1", "--no-cache")
    assert predictions(tmp_path / "batch-1") == predictions(batched_run)


def prompt(adapter: Any, text: str, images: int) -> list[int]:
    """A chat prompt's token ids, as the adapter writes it: the placeholders before the question."""
    return adapter._prepare(request("r", text, [RED] * images)).ids


@pytest.fixture(scope="module")
def absolute_ckpt(myvlm: SimpleNamespace, ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkpoint with a GPT-2 as its LM: learned absolute positions, where a left-padded row whose
    positions counted from its padding would answer differently (rotary positions, as the Qwen2's, only
    ever see distances, which padding does not change)."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    out = tmp_path_factory.mktemp("myvlm-gpt2") / "ckpt"
    shutil.copytree(ckpt, out, ignore=shutil.ignore_patterns("lm"))
    tokenizer = AutoTokenizer.from_pretrained(ckpt / "lm")
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=64, n_layer=2, n_head=4, n_positions=512)
    config.eos_token_id = config.bos_token_id = tokenizer.eos_token_id
    GPT2LMHeadModel(config).save_pretrained(out / "lm")
    tokenizer.save_pretrained(out / "lm")
    return out


@pytest.mark.parametrize("lm", ["qwen2-rotary", "gpt2-absolute"])
def test_a_batch_gives_each_row_what_it_gives_alone(
    adapter: Any, myvlm: SimpleNamespace, absolute_ckpt: Path, lm: str
) -> None:
    """Rows of different lengths (left padding) and 0, 1 and 2 images; logits and greedy tokens."""
    import torch
    from PIL import Image

    model = adapter.model if lm == "qwen2-rotary" else myvlm.modeling.MyVLM.from_checkpoint(absolute_ckpt)
    red, blue = (Image.open(io.BytesIO(b)) for b in (RED, BLUE))
    prompts = [
        prompt(adapter, "사진 속 사람은 무엇을 하고 있습니까? 보기: A. 요리 B. 운동 C. 독서 D. 수면", 1),
        prompt(adapter, "답:", 1),
        prompt(adapter, "이 문서의 제목은 무엇입니까?", 0),
        prompt(adapter, "두 그림의 차이는?", 2),
    ]
    images = [[red], [blue], [], [red, blue]]
    assert len({len(p) for p in prompts}) == 4  # every row padded differently
    alone = torch.cat([model.next_token_logits([p], [i]) for p, i in zip(prompts, images, strict=True)])
    together = model.next_token_logits(prompts, images)
    torch.testing.assert_close(together, alone, rtol=0, atol=1e-4)
    single = [model.generate([p], [i], 12)[0] for p, i in zip(prompts, images, strict=True)]
    assert model.generate(prompts, images, 12) == single


def test_the_image_changes_the_first_token_logits(adapter: Any) -> None:
    import torch
    from PIL import Image

    model = adapter.model
    ids = prompt(adapter, "그림에 보이는 것은 무엇입니까?", 1)
    red, blue, green = (Image.open(io.BytesIO(b)) for b in (RED, BLUE, GREEN))
    logits = model.next_token_logits([ids, ids, ids, ids], [[red], [blue], [green], [red]])
    assert (logits[0] - logits[1]).abs().max() > 1e-3
    assert (logits[0] - logits[2]).abs().max() > 1e-3
    torch.testing.assert_close(logits[3], logits[0])  # and nothing else does


def request(
    rid: str, text: str, images: list[bytes], generation: GenerationSettings | None = None
) -> Request:
    parts = (*(ImagePart(ImageRef(data=b)) for b in images), TextPart(text))
    return Request(
        id=rid,
        messages=(Message("user", parts),),
        generation=generation or GenerationSettings(max_new_tokens=8),
    )


def conversation(rid: str) -> Request:
    """A system turn, and a second question after the model's first answer (as kobench fills it in)."""
    system = Message("system", (TextPart("간단히 답하세요."),))
    first = Message("user", (ImagePart(ImageRef(data=RED)), TextPart("무엇입니까?")))
    second = Message("user", (TextPart("색깔은요?"),))
    messages = (system, first, Message("assistant", (TextPart("사과"),)), second)
    return Request(id=rid, messages=messages, generation=GenerationSettings(max_new_tokens=8))


def test_the_adapter_answers_each_request_and_fails_only_the_bad_ones(adapter: Any) -> None:
    requests = [
        request("text-only", "서울의 날씨는 어떻습니까?", []),
        request("one", "무엇입니까?", [RED]),
        request("two", "두 그림을 비교하세요.", [RED, BLUE]),
        request("broken", "무엇입니까?", [b"not an image"]),
        request("sampling", "무엇입니까?", [RED], GenerationSettings(max_new_tokens=8, temperature=0.7)),
        request("placeholder", "질문에 <image> 라는 글자가 있습니다", [RED]),
        conversation("second-turn"),
    ]
    answers = {r.request_id: r for r in in_request_order(adapter, requests)}
    for rid in ("text-only", "one", "two", "second-turn"):
        assert answers[rid].ok and answers[rid].text is not None, answers[rid]
        assert 0 < answers[rid].n_tokens <= 8 and answers[rid].finish_reason in ("stop", "length")
    assert "could not be decoded" in answers["broken"].error
    assert "greedily" in answers["sampling"].error
    assert "2 <image> for 1 images" in answers["placeholder"].error


def test_stop_strings_end_the_answer(adapter: Any) -> None:
    free = in_request_order(adapter, [request("a", "무엇입니까?", [GREEN], GenerationSettings(16))])[0]
    assert free.ok and free.n_tokens >= 6, free
    # A word the answer holds past its start (the random model's text has stray bytes: not those).
    stop = next(w for w in free.text.split() if "\ufffd" not in w and free.text.find(w) > 0)
    cut = in_request_order(
        adapter, [request("a", "무엇입니까?", [GREEN], GenerationSettings(16, stop=(stop,)))]
    )[0]
    assert cut.text == free.text[: free.text.find(stop)]
    assert cut.finish_reason == "stop" and cut.n_tokens < free.n_tokens


def test_auto_batches_are_halved_when_they_run_out_of_memory(
    adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class OutOfMemoryError(RuntimeError):
        pass

    generate = adapter.model.generate
    sizes: list[int] = []

    def small_memory(prompts: list, *args: Any, **kwargs: Any) -> list:
        sizes.append(len(prompts))
        if len(prompts) > 2:
            raise OutOfMemoryError("CUDA out of memory (a test's)")
        return generate(prompts, *args, **kwargs)

    monkeypatch.setattr(adapter.model, "generate", small_memory)
    monkeypatch.setattr(adapter, "auto_batch", True)
    monkeypatch.setattr(adapter, "batch_size", 8)
    answers = in_request_order(adapter, [request(str(i), f"질문 {i}", [RED]) for i in range(8)])
    assert all(a.ok for a in answers)
    # 8 fails, halved to 4, which fails, halved to 2; the rest is cut at 2 from then on.
    assert sizes == [8, 4, 2, 2, 2, 2] and adapter.batch_size == 2


def test_the_fingerprint_needs_no_torch_and_no_model(site: Path, ckpt: Path, tmp_path: Path) -> None:
    # Files written within the plugin's RACY_SECONDS are hashed but not remembered (as git does): make the
    # checkpoint older, whatever ran just before (on several workers it may have been built a moment ago).
    an_hour_ago = time.time() - 3600
    for path in ckpt.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    script = (
        "import sys\n"
        "from kobench.config import ModelOptions\n"
        "from kobench.models.registry import parse_model_spec\n"
        f"adapter, target, entry = parse_model_spec({f'myvlm:{ckpt}'!r})\n"
        "first = entry.fingerprint(target, ModelOptions())\n"
        "assert first == entry.fingerprint(target, ModelOptions()), 'the same files, the same model'\n"
        "assert entry.settings(ModelOptions())['device'] in ('cpu', 'cuda')\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'kobench_myvlm.modeling') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
        "print(first)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "KOBENCH_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("myvlm:")
    assert (tmp_path / "cache" / "myvlm-digests.json").is_file()


def test_the_fingerprint_follows_the_checkpoint_bytes(
    myvlm: SimpleNamespace, ckpt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOBENCH_CACHE_DIR", str(tmp_path / "cache"))
    copy = tmp_path / "ckpt"
    shutil.copytree(ckpt, copy)
    old = 1_600_000_000  # files long settled, so their digests are remembered by (size, mtime, inode)
    for path in copy.rglob("*"):
        os.utime(path, (old, old))

    def fingerprint() -> str:
        return myvlm.plugin.fingerprint(str(copy), ModelOptions())

    first = fingerprint()
    assert fingerprint() == first
    remembered = json.loads((tmp_path / "cache" / "myvlm-digests.json").read_text(encoding="utf-8"))
    assert str((copy / "vision.safetensors").resolve()) in remembered

    myvlm.build.build_checkpoint(copy, seed=1)  # new weights, same sizes, same path
    assert (copy / "vision.safetensors").stat().st_size == (ckpt / "vision.safetensors").stat().st_size
    reseeded = fingerprint()
    assert reseeded != first
    myvlm.build.build_checkpoint(copy, seed=0)  # the old weights again: the old model again
    assert fingerprint() == first
    (copy / "lm" / "chat_template.jinja").write_text("{{ messages }}", encoding="utf-8")
    assert fingerprint() not in (first, reseeded)  # the prompt's layout is part of the model

    with pytest.raises(BadInputError, match="not a myvlm checkpoint"):
        myvlm.plugin.fingerprint(str(tmp_path / "cache"), ModelOptions())
