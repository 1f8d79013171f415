"""A model has one name and one identity: the same on a fresh run and on a cached re-run that never loads
it; plugins registered as the README says work; the cache key holds every hint an adapter reads."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

import kobench
from kobench.errors import BadInputError
from kobench.models.registry import adapters, model_name, parse_model_spec
from kobench.run.cache import request_key
from kobench.testing.fake_openai import FakeOpenAIServer, Reply
from kobench.types import GenerationSettings, Message, Request, TextPart


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("hf:org/some-model", "org/some-model"),
        ("hf:./checkpoints/step-900/", "step-900"),
        ("openai:Qwen/Qwen2-VL-7B-Instruct@http://127.0.0.1:8000/v1", "Qwen/Qwen2-VL-7B-Instruct"),
        ("openai:gpt-4o-2024-11-20", "gpt-4o-2024-11-20"),
        ("tesseract", "tesseract"),
        ("tesseract:kor", "tesseract:kor"),
        ("ocr-match", "ocr-match"),
        ("chance", "chance"),
        ("chance:3", "chance:3"),
        ("constant:같은 답", "constant"),
    ],
)
def test_model_names_come_from_the_spec_alone(spec: str, name: str) -> None:
    adapter, target, entry = parse_model_spec(spec)
    assert model_name(adapter, target, entry) == name


def test_an_api_model_keeps_its_name_on_a_cached_rerun(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(lambda body, i: Reply(text="A")) as server:
        spec = f"openai:Qwen/Qwen2-VL-7B-Instruct@{server.base_url}"
        common = {"limit": 4, "cache_dir": tmp_path / "cache", "max_failed_share": 1.0}
        fresh = kobench.evaluate(spec, "kobench-demo", output=tmp_path / "fresh", **common)
        cached = kobench.evaluate(spec, "kobench-demo", output=tmp_path / "again", **common)
    assert fresh.run.model_calls == 4 and cached.run.model_calls == 0 and cached.run.cache_hits == 4
    assert fresh.run.model.name == cached.run.model.name == "Qwen/Qwen2-VL-7B-Instruct"


def test_a_baseline_keeps_its_name_on_a_cached_rerun(tmp_path: Path) -> None:
    common = {"limit": 4, "cache_dir": tmp_path / "cache"}
    fresh = kobench.evaluate("chance", "kobench-demo", output=tmp_path / "fresh", **common)
    cached = kobench.evaluate("chance", "kobench-demo", output=tmp_path / "again", **common)
    assert cached.run.model_calls == 0
    assert fresh.run.model.name == cached.run.model.name == "chance"


# --- plugins, registered through the entry-point group exactly as a package would ---

PLUGIN = """
from kobench.models.registry import AdapterEntry
from kobench.types import Response


class EchoModel:
    name = "echo"
    adapter = "echo"
    fingerprint = "echo:v1"
    settings = {}

    def generate(self, requests):
        return [Response(text="A", request_id=request.id) for request in requests]


ENTRY = AdapterEntry(fingerprint=lambda target, options: "echo:v1", load=lambda target, options: EchoModel())
NOT_AN_ENTRY = object()
"""


def _install_plugin(root: Path, monkeypatch, target: str) -> None:
    (root / "echo_plugin.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = root / "echo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: echo-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[kobench.models]\necho = {target}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))


def test_a_plugin_built_to_the_readme_runs(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "site").mkdir()
    _install_plugin(tmp_path / "site", monkeypatch, "echo_plugin:ENTRY")
    assert "echo" in adapters()
    result = kobench.evaluate("echo:anything", "kobench-demo", limit=4, cache_dir=tmp_path / "cache")
    assert result.run.model_calls == 4 and result.run.model.name == "anything"
    assert result.tasks["kobench-demo"].n == 4


def test_a_plugin_that_is_not_an_entry_is_refused_by_name(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "site").mkdir()
    _install_plugin(tmp_path / "site", monkeypatch, "echo_plugin:NOT_AN_ENTRY")
    with pytest.raises(BadInputError, match=r"'echo' \(entry point echo_plugin:NOT_AN_ENTRY\).*AdapterEntry"):
        parse_model_spec("echo:x")


# --- the cache key ---


def _request(**hints) -> Request:
    message = Message("user", (TextPart("그림의 글자를 읽으세요."),))
    return Request(id="r", messages=(message,), generation=GenerationSettings(max_new_tokens=8), **hints)


@pytest.mark.parametrize(
    "hints",
    [
        {"kind": "read"},
        {"options": (("A", "사과"), ("B", "배"))},
        {"region": (0.1, 0.1, 0.5, 0.5)},
        {"question": "상호는 무엇입니까?"},
    ],
)
def test_every_hint_an_adapter_reads_is_in_the_cache_key(hints: dict) -> None:
    key = request_key("tesseract", "tesseract:5", {}, _request())
    assert request_key("tesseract", "tesseract:5", {}, _request(**hints)) != key
    assert request_key("tesseract", "tesseract:5", {}, _request(**hints)) == request_key(
        "tesseract", "tesseract:5", {}, _request(**hints)
    )
    # the request id is not: the same question asked under another id is the same question
    assert request_key("tesseract", "tesseract:5", {}, replace(_request(), id="other")) == key


def test_a_folder_written_before_the_naming_rule_still_resumes(tmp_path: Path) -> None:
    from kobench.run.output import OutputDir

    folder = OutputDir(tmp_path / "out")
    old = {"spec": "chance", "name": "", "adapter": "chance", "fingerprint": "chance:0:1", "settings": {}}
    folder.claim(old, {}, overwrite=False)
    folder.claim({**old, "name": "chance"}, {}, overwrite=False)  # not refused: the same model
    with pytest.raises(Exception, match="other settings"):
        folder.claim({**old, "name": "chance", "fingerprint": "chance:1:1"}, {}, overwrite=False)
