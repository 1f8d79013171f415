"""Per-family settings of the hf adapter (kobench.models.family_settings): image resolution, a system
prompt, the model card's generation settings. Each is opt-in, changes what the model sees or how it
decodes, and is recorded with the model's settings (so in the cache key); one a family has no equivalent
for is refused before any weight is read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from benchmark_copies import png
from model_fixtures import build_ax4vl, build_hyperclovax_seed_vision

from kobench.config import ModelOptions
from kobench.errors import BadInputError
from kobench.models.hf import HFModel
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

pytestmark = pytest.mark.slow

WIDE = png((200, 30, 30), size=(256, 96))
GREEDY = GenerationSettings(max_new_tokens=4)


def request(text: str, images: list[bytes], system: str | None = None, rid: str = "r") -> Request:
    parts = (*(ImagePart(ImageRef(data=data)) for data in images), TextPart(text))
    messages = ((Message("system", (TextPart(system),)),) if system else ()) + (Message("user", parts),)
    return Request(id=rid, messages=messages, generation=GREEDY)


def prompt_length(model: HFModel, req: Request) -> int:
    prepared = model._prepare([model_item(model, req)])
    assert prepared.error is None, prepared.error
    return int(prepared.inputs["input_ids"].shape[1])


def model_item(model: HFModel, req: Request) -> Any:
    from kobench.models.hf import _Item

    req = model._with_system_prompt(req)
    return _Item(0, req, model._render(req))


def test_no_family_setting_keeps_the_settings_and_so_the_cache_keys() -> None:
    assert set(ModelOptions().output_settings()) == {"dtype", "device", "revision", "trust_remote_code"}
    settings = ModelOptions(
        max_pixels=1024, system_prompt="간단히", generation_defaults="card"
    ).output_settings()
    assert {k: settings[k] for k in ("max_pixels", "system_prompt", "generation_defaults")} == {
        "max_pixels": 1024,
        "system_prompt": "간단히",
        "generation_defaults": "card",
    }


@pytest.fixture(params=["tiny_qwen2_vl", "tiny_qwen3_vl"])
def qwen_family(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(request.param)


def test_qwen_pixel_bounds_change_the_image_tokens(qwen_family: Path) -> None:
    folder = qwen_family
    req = request("무엇이 보입니까?", [WIDE])
    default = HFModel(str(folder), device="cpu", dtype="float32")
    size = default.processor.image_processor.size
    assert (size["longest_edge"], size["shortest_edge"]) == (1024, 256)  # the fixture's own bounds
    bounded = HFModel(str(folder), device="cpu", dtype="float32", max_pixels=512, min_pixels=128)
    size = bounded.processor.image_processor.size
    assert (size["longest_edge"], size["shortest_edge"]) == (512, 128)
    assert prompt_length(bounded, req) < prompt_length(default, req)
    assert bounded.settings["max_pixels"] == 512 and "max_pixels" not in default.settings


def test_a_setting_the_family_lacks_is_refused_before_loading(tiny_llava: Path, monkeypatch) -> None:
    import transformers

    loaded = []
    monkeypatch.setattr(
        transformers.AutoModelForImageTextToText, "from_pretrained", lambda *a, **k: loaded.append(a)
    )
    with pytest.raises(BadInputError, match=r"--max-tiles: .*'llava' \(its resolution options: none\)"):
        HFModel(str(tiny_llava), device="cpu", max_tiles=4)
    with pytest.raises(BadInputError, match="no model-card settings for model type 'llava'"):
        HFModel(str(tiny_llava), device="cpu", generation_defaults="card")
    assert loaded == []


@pytest.fixture(scope="module")
def ax(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_ax4vl(tmp_path_factory.mktemp("ax-settings") / "A.X-4.0-VL-Light")


def test_ax_max_tiles_reaches_its_image_processor(ax: Path) -> None:
    req = request("설명해줘.", [WIDE])  # wide: a 2x1 grid and a thumbnail by default
    default = HFModel(str(ax), device="cpu", dtype="float32", trust_remote_code=True)
    one_tile = HFModel(str(ax), device="cpu", dtype="float32", trust_remote_code=True, max_tiles=1)
    assert one_tile.processor.image_processor.max_num_tiles == 1
    tokens_per_tile = one_tile.processor.num_tokens_per_tile
    assert prompt_length(default, req) - prompt_length(one_tile, req) == 2 * tokens_per_tile


def test_system_prompt_goes_first_where_the_task_has_none(tiny_llava: Path) -> None:
    model = HFModel(str(tiny_llava), device="cpu", system_prompt="당신은 친절한 도우미입니다.")
    plain = model._render(model._with_system_prompt(request("질문", [])))
    assert plain.startswith("당신은 친절한 도우미입니다.\n")
    own = model._render(model._with_system_prompt(request("질문", [], system="과제의 시스템 메시지")))
    assert own.startswith("과제의 시스템 메시지\n") and "친절한" not in own
    assert model.settings["system_prompt"] == "당신은 친절한 도우미입니다."


def generate_kwargs(model: HFModel, monkeypatch, req: Request) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    real = model.model.generate

    def spy(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(model.model, "generate", spy)
    responses = list(model.generate([req]))
    assert responses[0].error is None, responses[0].error
    return seen


def test_generation_defaults(tmp_path_factory: pytest.TempPathFactory, tiny_llava: Path, monkeypatch) -> None:
    hcx = build_hyperclovax_seed_vision(tmp_path_factory.mktemp("hcx-settings") / "hcx")
    req = request("무엇이 보입니까?", [WIDE])
    greedy = HFModel(str(hcx), device="cpu", dtype="float32", trust_remote_code=True)
    assert generate_kwargs(greedy, monkeypatch, req)["do_sample"] is False
    card = HFModel(
        str(hcx), device="cpu", dtype="float32", trust_remote_code=True, generation_defaults="card"
    )
    seen = generate_kwargs(card, monkeypatch, req)
    # The card's "Please adjust parameters like top_p" settings, as its README's examples pass them.
    assert {k: seen[k] for k in ("do_sample", "top_p", "temperature", "repetition_penalty")} == {
        "do_sample": True,
        "top_p": 0.6,
        "temperature": 0.5,
        "repetition_penalty": 1.0,
    }
    # A task whose protocol samples keeps its own temperature whatever the defaults.
    sampled = Request(
        id="s", messages=req.messages, generation=GenerationSettings(max_new_tokens=4, temperature=0.7)
    )
    assert generate_kwargs(card, monkeypatch, sampled)["temperature"] == 0.7
    # checkpoint: nothing forced, the checkpoint's generation_config.json decides.
    config = json.loads((tiny_llava / "generation_config.json").read_text(encoding="utf-8"))
    assert config["do_sample"] is False
    checkpoint = HFModel(str(tiny_llava), device="cpu", generation_defaults="checkpoint")
    seen = generate_kwargs(checkpoint, monkeypatch, request("질문", []))
    assert not {"do_sample", "temperature", "top_p", "top_k"} & set(seen)


def test_family_settings_are_refused_for_other_adapters(tmp_path: Path) -> None:
    from kobench.api import evaluate

    with pytest.raises(BadInputError, match="--max-pixels: per-family settings of the hf adapter"):
        evaluate("chance", "k-seed", max_pixels=1024, data_dir=tmp_path, cache_dir=tmp_path / "cache")


def test_settings_from_the_command_line_are_recorded(ax: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from benchmark_copies import k_seed_rows, write_parquet

    from kobench.results import load_results

    write_parquet(tmp_path / "mirror", "NCSOFT/K-SEED", "test", k_seed_rows(3))
    out = tmp_path / "run"
    command = [sys.executable, "-m", "kobench", "run", "--model", f"hf:{ax}", "--tasks", "k-seed"]
    command += [
        "--data-dir",
        str(tmp_path / "mirror"),
        "--output",
        str(out),
        "--no-progress",
        "--device",
        "cpu",
    ]
    command += [
        "--trust-remote-code",
        "--max-tiles",
        "1",
        "--system-prompt",
        "짧게 답하세요.",
        "--max-new-tokens",
        "4",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "KOBENCH_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    settings = load_results(out / "results.json").run.model.settings
    assert settings["max_tiles"] == 1 and settings["system_prompt"] == "짧게 답하세요."
    assert "generation_defaults" not in settings  # greedy, kobench's default, is not written


def test_the_kv_cache_is_on_whatever_the_checkpoint_ships(
    tmp_path: Path, tiny_llava: Path, monkeypatch
) -> None:
    import shutil

    slow = tmp_path / "slow"
    shutil.copytree(tiny_llava, slow)
    config = json.loads((slow / "generation_config.json").read_text(encoding="utf-8"))
    (slow / "generation_config.json").write_text(json.dumps({**config, "use_cache": False}), encoding="utf-8")
    for mode in ("greedy", "checkpoint"):
        model = HFModel(str(slow), device="cpu", generation_defaults=mode)
        assert model.model.generation_config.use_cache is False
        assert generate_kwargs(model, monkeypatch, request("질문", []))["use_cache"] is True
