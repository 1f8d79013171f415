"""A text-only model is refused image tasks before any work, naming the task and the model (issue 12,
point 6): hf reads it from the model's config files, API models from --modalities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kobench
from kobench.cli import app
from kobench.errors import BadInputError
from kobench.models import hf as hf_module
from kobench.models.modalities import hf_accepts
from kobench.testing.fake_openai import FakeOpenAIServer, Reply

TEXT, BOTH = frozenset({"text"}), frozenset({"text", "image"})


@pytest.fixture(scope="module")
def tiny_text_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kobench.testing.tiny_models import build_tiny_text_lm

    return build_tiny_text_lm(tmp_path_factory.mktemp("tiny-text-lm"))


def _folder(tmp_path: Path, name: str, files: dict[str, dict]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file, content in files.items():
        (folder / file).write_text(json.dumps(content), encoding="utf-8")
    return folder


def test_what_each_kind_of_checkpoint_accepts(tmp_path: Path, tiny_llava: Path, tiny_qwen2_vl: Path) -> None:
    assert hf_accepts(str(tiny_llava)) == BOTH
    assert hf_accepts(str(tiny_qwen2_vl)) == BOTH
    text_lm = {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "hidden_size": 64}
    assert hf_accepts(str(_folder(tmp_path, "text", {"config.json": text_lm}))) == TEXT
    # a remote-code VLM loaded through AutoModelForCausalLM: its config names the vision tower
    remote = {
        "model_type": "hyperclovax_vlm",
        "auto_map": {"AutoModelForCausalLM": "modeling_hyperclovax.HCXVisionForCausalLM"},
        "vision_config": {"model_type": "siglip_vision_model"},
    }
    assert hf_accepts(str(_folder(tmp_path, "remote", {"config.json": remote}))) == BOTH
    # a vision tower named only by its image processor
    image_processor = {"image_processor_type": "CLIPImageProcessor", "image_mean": [0.5, 0.5, 0.5]}
    files = {"config.json": text_lm, "preprocessor_config.json": image_processor}
    assert hf_accepts(str(_folder(tmp_path, "processor", files))) == BOTH
    # an audio feature extractor shares the file name, not the image keys
    audio = {"feature_extractor_type": "WhisperFeatureExtractor", "sampling_rate": 16000}
    files = {"config.json": text_lm, "preprocessor_config.json": audio}
    assert hf_accepts(str(_folder(tmp_path, "audio", files))) == TEXT


@pytest.mark.slow
def test_a_text_model_is_refused_an_image_task_before_it_is_loaded(
    tiny_text_lm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = []
    monkeypatch.setattr(hf_module.HFModel, "__init__", lambda self, *a, **k: loaded.append(a))
    out = tmp_path / "o"
    with pytest.raises(BadInputError) as refused:
        kobench.evaluate(f"hf:{tiny_text_lm}", "kobench-demo", cache_dir=tmp_path / "c", output=out)
    message = str(refused.value)
    assert tiny_text_lm.name in message and "kobench-demo needs image" in message
    assert "accepts text only" in message
    assert loaded == [] and not out.exists()
    cli = CliRunner().invoke(
        app,
        [
            "run",
            "--model",
            f"hf:{tiny_text_lm}",
            "--tasks",
            "kobench-demo",
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert cli.exit_code == 4 and "kobench-demo needs image" in cli.output


def test_an_api_model_takes_what_modalities_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(lambda body, index: Reply(text="A")) as server:
        model = f"openai:served-text-model@{server.base_url}"
        with pytest.raises(
            BadInputError, match=r"served-text-model accepts text only: kobench-demo needs image"
        ):
            kobench.evaluate(model, "kobench-demo", modalities=("text",), cache_dir=tmp_path)
        assert server.requests == []
        cli = CliRunner().invoke(
            app,
            [
                "run",
                "--model",
                model,
                "--tasks",
                "kobench-demo",
                "--modalities",
                "text",
                "--cache-dir",
                str(tmp_path),
            ],
        )
        assert cli.exit_code == 4, cli.output
        bad = CliRunner().invoke(
            app, ["run", "--model", model, "--tasks", "kobench-demo", "--modalities", "audio"]
        )
        assert bad.exit_code == 2 and "--modalities" in bad.output
        result = kobench.evaluate(
            model, "kobench-demo", limit=2, cache_dir=tmp_path
        )  # default: text and image
    assert result.run.arguments["modalities"] == ["text", "image"]
