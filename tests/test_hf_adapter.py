"""The `hf` adapter and the tiny models it is tested with: batching, padding, failures, identities."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("transformers", reason="the hf adapter needs transformers")
from PIL import Image

from kobench.errors import BadInputError
from kobench.models.base import Model, in_request_order
from kobench.models.fingerprint import GENERATED_MARKER, model_fingerprint
from kobench.models.hf import HFModel, _cut
from kobench.types import (
    GenerationSettings,
    ImagePart,
    ImageRef,
    Message,
    Request,
    TextPart,
)

FAMILIES = ["tiny_llava", "tiny_qwen2_vl", "tiny_qwen2_5_vl"]
GREEDY = GenerationSettings(max_new_tokens=8)
PROMPTS = [
    "이 그림의 색은 무엇입니까?",
    "정답을 고르시오. A. 빨강 B. 초록 C. 파랑 D. 노랑",
    "사진에 보이는 것을 한 문장으로 설명하세요.",
    "답:",
]
IMAGES = [
    ((220, 30, 30), (40, 30)),
    ((30, 200, 60), (64, 64)),
    ((20, 40, 230), (24, 56)),
    ((200, 200, 0), (96, 40)),
]


def png(colour: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def request(i: int, image: ImageRef | None = None, text: str | None = None, gen: GenerationSettings = GREEDY):
    image = image or ImageRef(data=png(*IMAGES[i % 4]))
    parts = (ImagePart(image), TextPart(text if text is not None else PROMPTS[i % 4]))
    return Request(id=f"r{i}", messages=(Message("user", parts),), generation=gen)


REQUESTS = [request(i) for i in range(4)]


@pytest.fixture(scope="module", params=FAMILIES)
def hf_model(request: pytest.FixtureRequest) -> HFModel:
    return HFModel(str(request.getfixturevalue(request.param)), batch_size=4)


@pytest.fixture(scope="module")
def good_texts(hf_model: HFModel) -> list[str | None]:
    return [r.text for r in in_request_order(hf_model, REQUESTS)]


@pytest.mark.slow
def test_adapter_identity(hf_model: HFModel) -> None:
    assert isinstance(hf_model, Model)
    assert hf_model.adapter == "hf"
    assert hf_model.name == Path(hf_model.path_or_id).name
    assert hf_model.fingerprint.startswith("generated:")  # a tiny model kobench built
    assert hf_model.settings == {
        "dtype": "auto",
        "device": "auto",
        "revision": None,
        "trust_remote_code": False,
    }
    # The tiny models ship right padding, as many checkpoints do: the adapter must switch to left.
    assert hf_model.tokenizer.padding_side == "left"
    assert hf_model.device.type == "cpu" and str(hf_model.torch_dtype) == "torch.float32"


@pytest.mark.slow
def test_batch_equals_one_at_a_time(hf_model: HFModel, good_texts: list[str | None]) -> None:
    responses = in_request_order(hf_model, REQUESTS)
    assert len(responses) == 4
    assert all(r.ok and isinstance(r.text, str) for r in responses)
    assert any(r.n_tokens > 0 for r in responses)
    assert all(0 <= r.n_tokens <= GREEDY.max_new_tokens for r in responses)
    assert len(set(good_texts)) > 1, "different images and prompts should give different outputs"
    # In order: each response is what that request gives on its own (also the left-padding check).
    alone = [in_request_order(hf_model, [r])[0].text for r in REQUESTS]
    assert [r.text for r in responses] == alone == good_texts
    single = HFModel(hf_model.path_or_id, batch_size=1)
    assert [r.text for r in in_request_order(single, REQUESTS)] == good_texts


@pytest.mark.slow
def test_bad_image_fails_only_its_request(hf_model: HFModel, good_texts: list[str | None]) -> None:
    requests = list(REQUESTS)
    requests[1] = request(1, image=ImageRef(data=b"not an image"))
    responses = in_request_order(hf_model, requests)
    assert responses[1].text is None
    assert "could not be decoded" in (responses[1].error or "")
    assert "0x" not in (responses[1].error or "")  # no object addresses: errors are reproducible
    assert [r.text for i, r in enumerate(responses) if i != 1] == [
        t for i, t in enumerate(good_texts) if i != 1
    ]


@pytest.mark.slow
def test_failing_batch_is_retried_one_at_a_time(hf_model: HFModel, good_texts: list[str | None]) -> None:
    # A literal image token in the text makes the processor reject the whole batch (token/image mismatch).
    requests = list(REQUESTS)
    requests[2] = request(2, text=f"{hf_model.processor.image_token} 이것은?")
    responses = in_request_order(hf_model, requests)
    assert responses[2].text is None and responses[2].error
    assert [r.text for i, r in enumerate(responses) if i != 2] == [
        t for i, t in enumerate(good_texts) if i != 2
    ]


@pytest.mark.slow
def test_mixed_settings_and_stop_strings(tiny_llava: Path) -> None:
    model = HFModel(str(tiny_llava), batch_size=4)
    full = in_request_order(model, [REQUESTS[0]])[0].text or ""
    # the first character, after the first, that is a whole letter and not seen before it
    cut = next(i for i, ch in enumerate(full) if i > 0 and ch.isalnum() and full.find(ch) == i)
    stop = GenerationSettings(max_new_tokens=8, stop=(full[cut],))
    short = GenerationSettings(max_new_tokens=2)
    sampled = GenerationSettings(max_new_tokens=4, temperature=0.8)
    mixed = [
        replace(request(0, gen=stop), id="r0-stop"),
        REQUESTS[1],
        request(2, gen=short),
        request(3, gen=sampled),
        REQUESTS[0],
    ]
    responses = in_request_order(model, mixed)
    assert responses[0].text == full[:cut]
    assert responses[1].text == in_request_order(model, [REQUESTS[1]])[0].text
    assert responses[2].n_tokens <= 2
    assert responses[3].ok and responses[3].n_tokens <= 4
    assert responses[4].text == full
    assert in_request_order(model, []) == []


def test_cut_at_first_stop_string() -> None:
    assert _cut("정답은 B입니다.\n설명", ("\n", "입니다")) == "정답은 B"
    assert _cut("abc", ()) == "abc"
    assert _cut("abc", ("", "z")) == "abc"


@pytest.mark.slow
def test_explicit_dtype_is_honoured(tiny_llava: Path) -> None:
    import torch

    model = HFModel(str(tiny_llava), dtype="bfloat16", device="cpu")
    assert model.model.dtype == torch.bfloat16
    assert model.settings["dtype"] == "bfloat16"
    assert in_request_order(model, REQUESTS[:2])[0].ok
    with pytest.raises(BadInputError, match="dtype"):
        HFModel(str(tiny_llava), dtype="int3")


@pytest.mark.slow
def test_tiny_models_load_in_a_fresh_process(
    tiny_llava: Path, tiny_qwen2_vl: Path, tiny_qwen2_5_vl: Path
) -> None:
    code = (
        "import sys\n"
        "from transformers import AutoModelForImageTextToText, AutoProcessor\n"
        "for path in sys.argv[1:]:\n"
        "    AutoProcessor.from_pretrained(path)\n"
        "    AutoModelForImageTextToText.from_pretrained(path)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    paths = [str(tiny_llava), str(tiny_qwen2_vl), str(tiny_qwen2_5_vl)]
    done = subprocess.run([sys.executable, "-c", code, *paths], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
def test_tiny_builder_is_deterministic_and_idempotent(tiny_llava: Path, tmp_path: Path) -> None:
    from kobench.testing.tiny_models import TINY_MODEL_NOTE, build_tiny_llava

    assert "random" in TINY_MODEL_NOTE
    weights = tiny_llava / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert build_tiny_llava(tiny_llava) == tiny_llava
    assert weights.stat().st_mtime_ns == before, "a finished folder is not rebuilt"
    again = build_tiny_llava(tmp_path / "again")
    assert (again / "model.safetensors").read_bytes() == weights.read_bytes()
    assert (again / "tokenizer.json").read_bytes() == (tiny_llava / "tokenizer.json").read_bytes()
    other = build_tiny_llava(tmp_path / "other", seed=1)
    assert (other / "model.safetensors").read_bytes() != weights.read_bytes()


def test_importing_light_modules_does_not_import_torch() -> None:
    code = (
        "import sys, kobench.testing.tiny_models, kobench.models.fingerprint\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- fingerprints ---


@pytest.mark.slow
def test_local_fingerprint_follows_the_checkpoint(tiny_llava: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(tiny_llava, tmp_path / "model"))
    (folder / GENERATED_MARKER).unlink()  # without its generator's marker: a user checkpoint
    first = model_fingerprint(str(folder))
    assert first.startswith("local:") and len(first) == len("local:") + 16
    assert model_fingerprint(str(folder)) == first
    weights = folder / "model.safetensors"
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    touched = model_fingerprint(str(folder))
    assert touched != first
    with weights.open("ab") as f:
        f.write(b"\0")
    grown = model_fingerprint(str(folder))
    assert grown not in (first, touched)
    config = json.loads((folder / "config.json").read_text())
    config["text_config"]["rms_norm_eps"] = 1e-5
    (folder / "config.json").write_text(json.dumps(config))
    edited = model_fingerprint(str(folder))
    assert edited != grown
    # hidden folders (huggingface download bookkeeping in .cache/) are not the model
    (folder / ".cache").mkdir()
    (folder / ".cache" / "download.json").write_text("{}")
    assert model_fingerprint(str(folder)) == edited


@pytest.mark.slow
def test_generated_model_is_named_by_generator_and_seed(tiny_llava: Path, tmp_path: Path) -> None:
    from kobench.testing.tiny_models import build_tiny_llava

    # Two builds in two folders at two times (another machine, say) are one model: no file time counts.
    rebuilt = build_tiny_llava(tmp_path / "rebuilt")
    first = model_fingerprint(str(tiny_llava))
    assert first == model_fingerprint(str(rebuilt))
    assert re.fullmatch(r"generated:llava@\d+:seed=0:[0-9a-f]{12}", first)
    weights = rebuilt / "model.safetensors"
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert model_fingerprint(str(rebuilt)) == first
    assert model_fingerprint(str(build_tiny_llava(tmp_path / "seed1", seed=1))).startswith("generated:llava@")
    assert model_fingerprint(str(tmp_path / "seed1")) != first
    # Once a file is not as the generator wrote it, the folder is a user checkpoint (DESIGN's rule).
    changed = Path(shutil.copytree(tiny_llava, tmp_path / "changed"))
    config = json.loads((changed / "config.json").read_text())
    config["text_config"]["rms_norm_eps"] = 1e-5
    (changed / "config.json").write_text(json.dumps(config))
    assert model_fingerprint(str(changed)).startswith("local:")
    added = Path(shutil.copytree(tiny_llava, tmp_path / "added"))
    (added / "adapter_model.safetensors").write_bytes(b"\0" * 16)
    assert model_fingerprint(str(added)).startswith("local:")


def test_hub_fingerprint_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(BadInputError, match="kobench-tests/no-such-model"):
        model_fingerprint("kobench-tests/no-such-model")
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--kobench-tests--cached-model"
    (repo / "snapshots" / sha).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    assert model_fingerprint("kobench-tests/cached-model") == f"hub:kobench-tests/cached-model@{sha}"
    assert model_fingerprint("kobench-tests/cached-model", revision=sha).endswith("@" + sha)
    with pytest.raises(BadInputError):
        model_fingerprint("kobench-tests/cached-model", revision="v2")


def test_a_hub_model_is_loaded_at_the_commit_fingerprinted_before_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """main moves while the data loads (a team's CI pushing a checkpoint): the run still loads, and names,
    the commit main pointed to when it was fingerprinted (offline here, from a Hugging Face cache)."""
    from offline_hub import cached_model, offline_hub

    import kobench
    import kobench.run as run
    from kobench.testing.tiny_models import build_tiny_text_lm

    first, second = "1" * 40, "2" * 40
    model = build_tiny_text_lm(tmp_path / "lm")
    hub = offline_hub(monkeypatch, tmp_path / "hub")
    repo = cached_model(hub, "kobench-tests/moving", {first: model, second: model}, main=first)
    prepare = run.prepare_task

    def main_moves(*args, **kwargs):
        (repo / "refs" / "main").write_text(second)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(run, "prepare_task", main_moves)
    loaded = []
    init = HFModel.__init__

    def recorded(self, path_or_id, **kwargs):
        init(self, path_or_id, **kwargs)
        loaded.append(self.fingerprint)

    monkeypatch.setattr(HFModel, "__init__", recorded)
    result = kobench.evaluate(
        "hf:kobench-tests/moving",
        "kobalt",
        data_dir=Path(__file__).parent / "fixtures" / "mirrors",
        limit=2,
        max_new_tokens=2,
        cache_dir=tmp_path / "c",
    )
    assert (repo / "refs" / "main").read_text() == second
    assert result.run.model.fingerprint == f"hub:kobench-tests/moving@{first}"
    assert loaded == [f"hub:kobench-tests/moving@{first}"]
    assert result.run.model.settings["revision"] is None  # as given: a resumed run's settings still match


def test_missing_model_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    missing = tmp_path / "no-such-folder"
    with pytest.raises(BadInputError, match="no-such-folder"):
        HFModel(str(missing))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(BadInputError, match="kobench-tests/absent"):
        HFModel("kobench-tests/absent")


# --- remote code ---


def test_remote_code_model_needs_the_flag(tmp_path: Path) -> None:
    config = {
        "model_type": "kobench_custom_vlm",
        "architectures": ["CustomVLM"],
        "auto_map": {
            "AutoConfig": "configuration_custom.CustomConfig",
            "AutoModel": "modeling_custom.CustomVLM",
        },
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(BadInputError, match="--trust-remote-code"):
        HFModel(str(tmp_path))


def test_unknown_model_type_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "kobench_unknown_vlm"}))
    with pytest.raises(BadInputError, match="kobench_unknown_vlm"):
        HFModel(str(tmp_path))


# --- speed: the stop-string checker, CPU threads, a cached re-run without torch ---


@pytest.mark.slow
def test_stop_string_checker_is_built_once(tiny_llava: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # generate(stop_strings=...) builds the checker from the whole vocabulary on every call (0.26 s at 151k).
    from transformers import StopStringCriteria

    import kobench.models.stops as stops

    built = []
    monkeypatch.setattr(
        stops, "StopStringCriteria", lambda *args: built.append(args) or StopStringCriteria(*args)
    )
    model = HFModel(str(tiny_llava), batch_size=1)
    stop = GenerationSettings(max_new_tokens=4, stop=("ASSISTANT:", "\n"))
    responses = in_request_order(model, [request(i, gen=stop) for i in range(3)])
    assert all(r.ok for r in responses)
    assert len(built) == 1 and built[0][1] == ["ASSISTANT:", "\n"]
    in_request_order(model, [request(3, gen=stop)])
    assert len(built) == 1


def test_cpu_threads_use_every_core_but_leave_one_to_background_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kobench.models.cpu_threads as cpu_threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    threads = cpu_threads.CpuThreads.detect()
    assert (threads.cores, threads.managed) == (4, True)
    assert (threads.count(decoding_beside=False), threads.count(decoding_beside=True)) == (4, 3)
    # giving torch's fourth core to the decoder costs up to a third of a compute-bound generate
    assert threads.overlap_cost() == pytest.approx(cpu_threads.GIL_SHARE + 1 / 3)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # two data parallel processes on this machine: 2 cores each
    assert cpu_threads.CpuThreads.detect().cores == 2
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    alone = cpu_threads.CpuThreads.detect()
    assert alone.count(decoding_beside=True) == 1 and alone.overlap_cost() == float("inf")
    monkeypatch.setenv("OMP_NUM_THREADS", "6")  # the user's choice is left alone
    assert not cpu_threads.CpuThreads.detect().managed


def test_cpu_threads_are_set_only_where_kobench_manages_them(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from kobench.models.cpu_threads import CpuThreads

    calls: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    threads = CpuThreads(cores=3, managed=True)
    for beside in (False, False, True, True, False):
        threads.set_for_batch(decoding_beside=beside)
    assert calls == [3, 2, 3]  # only when the count changes
    CpuThreads(cores=3, managed=False).set_for_batch(decoding_beside=True)
    assert calls == [3, 2, 3]


@pytest.fixture
def torch_threads_restored():
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.parametrize(("cost", "background"), [(0.0, True), (1e9, False)])
def test_on_the_cpu_decoding_runs_in_the_background_only_where_it_pays(
    tiny_llava: Path,
    monkeypatch: pytest.MonkeyPatch,
    torch_threads_restored: None,
    cost: float,
    background: bool,
) -> None:
    # The cost of overlapping, as a share of generate: 0 → overlapping always pays; huge → it never does.
    import threading

    import torch

    import kobench.models.cpu_threads as cpu_threads

    monkeypatch.setattr(cpu_threads.CpuThreads, "overlap_cost", lambda self: cost)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # kobench sets torch's threads
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    model = HFModel(str(tiny_llava), batch_size=1, device="cpu")
    where: dict[str, list[str]] = {"decode": [], "process": []}
    decode, process = model._decode, model._process
    # At each generate call: torch's thread count, and whether a background thread is alive beside it.
    at_generate: list[tuple[int, bool]] = []
    generate = model.model.generate

    def watched_generate(*args, **kwargs):
        alive = any(t.name.startswith("kobench-hf-prep") for t in threading.enumerate())
        at_generate.append((torch.get_num_threads(), alive))
        return generate(*args, **kwargs)

    def record(name, step):
        def recorded(arg):
            where[name].append(threading.current_thread().name)
            return step(arg)

        return recorded

    model._decode, model._process = record("decode", decode), record("process", process)
    monkeypatch.setattr(model.model, "generate", watched_generate)
    assert [r.text for r in in_request_order(model, REQUESTS)] == [
        r.text for r in in_request_order(HFModel(str(tiny_llava), batch_size=4), REQUESTS)
    ]
    assert len(where["decode"]) == len(REQUESTS) >= 3
    # the first two batches are decoded in turn (nothing generates beside the first, and no batch has
    # generated yet when the second is due); after that in the background only if that pays
    assert not any(name.startswith("kobench-hf-prep") for name in where["decode"][:2])
    later = {name.startswith("kobench-hf-prep") for name in where["decode"][2:]}
    assert later == {background}
    assert set(where["process"]) == {threading.main_thread().name}
    if background:  # a core is left to the decoder while it works beside generate, all three otherwise
        assert at_generate[0] == (3, False) and at_generate[-1][0] == 3
        assert {count for count, _ in at_generate[1:-1]} == {2}
    else:  # every core to torch, and no idle worker thread beside it (it slowed OpenMP's workers)
        assert at_generate == [(3, False)] * len(REQUESTS)


@pytest.mark.slow
def test_fully_cached_rerun_does_not_import_torch(tiny_llava: Path, tmp_path: Path) -> None:
    from benchmark_copies import k_seed_rows, write_parquet

    from kobench.api import evaluate

    mirror = tmp_path / "mirror"
    write_parquet(mirror, "NCSOFT/K-SEED", "test", k_seed_rows(4))
    options = {"data_dir": str(mirror), "cache_dir": str(tmp_path / "cache"), "max_new_tokens": 2}
    first = evaluate(f"hf:{tiny_llava}", "k-seed", **options)
    assert (first.run.model_calls, first.run.cache_hits) == (4, 0)
    code = (
        "import json, sys\n"
        "from kobench.api import evaluate\n"
        "result = evaluate(sys.argv[1], 'k-seed', **json.loads(sys.argv[2]))\n"
        "print(result.run.model_calls, result.run.cache_hits, result.run.model.settings['device'])\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    args = [sys.executable, "-c", code, f"hf:{tiny_llava}", json.dumps(options)]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "4", first.run.model.settings["device"], "False", "False"]


# --- device and dtype "auto", told without torch ---


def _fake_torch(tmp_path: Path, cuda: str | None, hip: str | None = None):
    from types import SimpleNamespace

    folder = tmp_path / "torch"
    folder.mkdir(exist_ok=True)
    (folder / "version.py").write_text(
        f"from typing import Optional\n__version__ = '9.9'\ncuda: Optional[str] = {cuda!r}\nhip = {hip!r}\n"
    )
    return SimpleNamespace(submodule_search_locations=[str(folder)])


def test_auto_device_without_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from kobench.models import device

    find = {"spec": _fake_torch(tmp_path, None)}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: find["spec"])
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert device.visible_nvidia_gpus() == 0  # a CPU-only torch never sees a GPU
    find["spec"] = _fake_torch(tmp_path, None, hip="6.2")
    assert device.visible_nvidia_gpus() is None  # ROCm: only torch can tell
    find["spec"] = _fake_torch(tmp_path, "13.0")
    for hidden in ("", "-1", "none"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert device.visible_nvidia_gpus() == 0
    find["spec"] = None  # no torch: nothing can use a GPU
    assert device.visible_nvidia_gpus() == 0
    odd = _fake_torch(tmp_path, None)
    (tmp_path / "torch" / "version.py").write_text("cuda = compute()\nhip = None\n")
    assert device.torch_build(odd) is None  # not as expected: torch is asked instead


def test_auto_dtype_follows_the_device(monkeypatch: pytest.MonkeyPatch) -> None:
    from kobench.config import ModelOptions
    from kobench.models import device, registry

    monkeypatch.setattr(device, "auto_device", lambda: "cuda")
    on_gpu = registry._hf_settings(ModelOptions())
    assert (on_gpu["device"], on_gpu["dtype"]) == ("cuda", "bfloat16")
    monkeypatch.setattr(device, "auto_device", lambda: "cpu")
    assert registry._hf_settings(ModelOptions())["dtype"] == "float32"
    explicit = registry._hf_settings(ModelOptions(device="cuda:1", dtype="float16"))
    assert (explicit["device"], explicit["dtype"]) == ("cuda:1", "float16")


@pytest.mark.slow
def test_the_model_loads_on_the_device_its_cache_key_names(
    tiny_llava: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever the probe says, the run uses it: the cached answers always name the device they came from.
    from kobench.config import ModelOptions
    from kobench.models import device, registry

    monkeypatch.setattr(device, "auto_device", lambda: "cpu")
    model = registry._hf_load(str(tiny_llava), ModelOptions())
    assert (model.settings["device"], model.settings["dtype"]) == ("cpu", "float32")
    assert {k: model.settings[k] for k in ("device", "dtype")} == {
        k: registry._hf_settings(ModelOptions())[k] for k in ("device", "dtype")
    }
