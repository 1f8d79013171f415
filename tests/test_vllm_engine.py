"""The `vllm:` adapter's engine management, against a stand-in engine (tests/fake_vllm_engine.py) that
takes vLLM's arguments and serves the OpenAI API on loopback: start, a failed start with the engine's log,
stop, no orphan when kobench dies, and an engine that dies mid-run. The real engine: test_vllm_real.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from offline_hub import cached_model, offline_hub

import kobench
from kobench.config import VLLMOptions
from kobench.errors import BadInputError
from kobench.models import vllm_engine
from kobench.models.fingerprint import pinned_commit
from kobench.models.vllm_engine import VLLMServer, engine_command, engine_settings

FAKE = str(Path(__file__).with_name("fake_vllm_engine.py"))
ROOT = Path(__file__).parents[1]


def _fake_command(port: int, name: str = "fake") -> list[str]:
    return [sys.executable, FAKE, "--port", str(port), "--served-model-name", name]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead too
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_engine_command_passes_options_through() -> None:
    options = VLLMOptions(
        tensor_parallel_size=2,
        data_parallel_size=4,
        max_model_len=4096,
        gpu_memory_utilization=0.8,
        limit_mm_per_prompt='{"image": 4}',
        chat_template_content_format="openai",
        engine_args=("--enforce-eager", "--seed", "0"),
    )
    command = engine_command("/venv/bin/python", "./ckpt", 8123, "ckpt", options, "bfloat16", True)
    assert command[:3] == ["/venv/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
    text = " ".join(command)
    for part in (
        "--model ./ckpt",
        "--served-model-name ckpt",
        "--host 127.0.0.1 --port 8123",
        "--dtype bfloat16",
        "--tensor-parallel-size 2",
        "--pipeline-parallel-size 1",
        "--data-parallel-size 4",
        "--max-model-len 4096",
        "--gpu-memory-utilization 0.8",
        '--limit-mm-per-prompt {"image": 4}',
        "--chat-template-content-format openai",
        "--trust-remote-code",
    ):
        assert part in text
    assert command[-3:] == ["--enforce-eager", "--seed", "0"]
    settings = engine_settings(options, "bfloat16", True)
    assert settings["tensor_parallel_size"] == 2 and settings["engine_args"] == [
        "--enforce-eager",
        "--seed",
        "0",
    ]
    assert "gpu_memory_utilization" not in settings  # a memory share changes no answer


def test_the_engine_is_given_the_commit_kobench_fingerprinted() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    options = VLLMOptions(engine_args=("--seed", "0"))
    pinned = engine_command("/py", "org/m", 8123, "m", options, "auto", False, revision=sha)
    assert pinned[pinned.index("--revision") + 1] == sha and pinned[-2:] == ["--seed", "0"]
    assert "--revision" not in engine_command("/py", "./ckpt", 8123, "ckpt", options, "auto", False)
    assert pinned_commit(f"hub:org/m@{sha}") == sha
    assert pinned_commit(f"hub:org/m@{sha}+compat:hcx-vision@1") == sha
    assert pinned_commit("local:0123456789abcdef") is None


def test_a_hub_model_is_served_at_the_commit_its_results_name(
    fake_engine, tiny_text_lm_folder, tmp_path, monkeypatch
) -> None:
    """`vllm:ORG/NAME`: the results name the commit main pointed to when kobench looked; the engine gets that
    commit too, not main again by the time it downloads (here: offline, from a Hugging Face cache)."""
    sha = "89abcdef0123456789abcdef0123456789abcdef"
    hub = offline_hub(monkeypatch, tmp_path / "hub")
    cached_model(hub, "kobench-tests/tiny-lm", {sha: tiny_text_lm_folder}, main=sha)
    asked = []
    assembled = vllm_engine.engine_command

    def recorded(*args, **kwargs):
        asked.append(kwargs.get("revision"))
        return assembled(*args, **kwargs)

    monkeypatch.setattr(vllm_engine, "engine_command", recorded)
    result = kobench.evaluate(
        "vllm:kobench-tests/tiny-lm",
        "kobalt",
        data_dir=ROOT / "tests/fixtures/mirrors",
        limit=2,
        cache_dir=tmp_path / "c",
    )
    assert result.status == "complete"
    assert result.run.model.fingerprint == f"hub:kobench-tests/tiny-lm@{sha}" and asked == [sha]


def test_a_python_without_vllm_is_a_clear_error() -> None:
    with pytest.raises(BadInputError, match=r"cannot import vllm.*--vllm-python"):
        vllm_engine.vllm_python(sys.executable)  # kobench's own environment has no vLLM
    with pytest.raises(BadInputError, match="no such Python"):
        vllm_engine.vllm_python("/nowhere/bin/python")


def test_start_waits_for_the_server_and_close_stops_it() -> None:
    port = vllm_engine._free_port()
    server = VLLMServer(_fake_command(port), port, start_timeout=30)
    server.start()
    try:
        import httpx2

        assert httpx2.get(f"{server.base_url}/models", trust_env=False).json()["data"][0]["id"] == "fake"
    finally:
        server.close()
    assert server.exit_code is not None and not _alive(server.process.pid)


def test_a_slow_start_says_where_the_log_is_and_how_it_goes(monkeypatch, capsys) -> None:
    """A large model loads for minutes: the wait is not silent (the interval is a minute; here shortened)."""
    monkeypatch.setenv("FAKE_ENGINE_START_DELAY", "3")
    port = vllm_engine._free_port()
    server = VLLMServer(_fake_command(port), port, start_timeout=30)
    server.report_every = 0.5
    server.start()
    server.close()
    said = capsys.readouterr().err.splitlines()
    assert said[0] == f"kobench: starting the vLLM engine at {server.base_url} (its log: {server.log_path})"
    assert said[-1].startswith("kobench: the vLLM engine answers, ") and said[-1].endswith(
        " s after its start"
    )
    still = said[1:-1]
    assert still and all(line.startswith("kobench: the vLLM engine is still starting (") for line in still)
    assert still[-1].endswith("): fake engine: --port " + str(port) + " --served-model-name fake")


def test_a_failed_start_says_why_with_the_engine_log(monkeypatch) -> None:
    monkeypatch.setenv("FAKE_ENGINE_EXIT", "3")
    port = vllm_engine._free_port()
    server = VLLMServer(_fake_command(port), port, start_timeout=30)
    with pytest.raises(BadInputError, match=r"exited with code 3 while starting(.|\n)*needs more memory"):
        server.start()


def test_a_start_that_never_answers_times_out(monkeypatch) -> None:
    port = vllm_engine._free_port()
    command = [sys.executable, "-c", "import time; print('loading weights', flush=True); time.sleep(60)"]
    server = VLLMServer(command, port, start_timeout=2)
    with pytest.raises(BadInputError, match=r"did not answer .* within 2 s(.|\n)*loading weights"):
        server.start()
    assert not _alive(server.process.pid)  # and it was stopped


def test_no_engine_outlives_kobench(tmp_path: Path) -> None:
    """kobench killed by SIGKILL (no close, no atexit): the kernel's parent-death signal stops the engine."""
    pid_file = tmp_path / "engine.pid"
    script = textwrap.dedent(
        f"""
        import sys, time
        from kobench.models.vllm_engine import VLLMServer, _free_port
        port = _free_port()
        server = VLLMServer([sys.executable, {FAKE!r}, "--port", str(port)], port, start_timeout=30)
        server.start()
        open({str(pid_file)!r}, "w").write(str(server.process.pid))
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    engine = int(pid_file.read_text())
    assert _alive(engine)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(engine) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(engine), "the engine outlived kobench by 10 s"


@pytest.fixture
def fake_engine(monkeypatch, tiny_text_lm_folder: Path):
    """The vllm: adapter with the stand-in engine in vLLM's place."""
    monkeypatch.setattr(
        vllm_engine, "_engine_environment", lambda explicit: (sys.executable, {"vllm": "0.0.0+stand-in"})
    )
    real = vllm_engine.engine_command

    def command(python, model, port, served_name, options, dtype, trust, revision=None):
        real(
            python, model, port, served_name, options, dtype, trust, revision
        )  # still assembled, as for vLLM
        return _fake_command(port, served_name)

    monkeypatch.setattr(vllm_engine, "engine_command", command)


@pytest.fixture(scope="module")
def tiny_text_lm_folder(tmp_path_factory) -> Path:
    from kobench.testing.tiny_models import build_tiny_text_lm

    return build_tiny_text_lm(tmp_path_factory.mktemp("lm"))


def test_a_run_through_the_adapter_and_a_mid_run_engine_death(
    fake_engine, tiny_text_lm_folder, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    model = f"vllm:{tiny_text_lm_folder}"
    # a text task in its generative form: KoBALT (chat), answered "B" by the stand-in engine
    result = kobench.evaluate(
        model, "kobalt", data_dir=ROOT / "tests/fixtures/mirrors", cache_dir=tmp_path / "c", output=out
    )
    task = result.tasks["kobalt"]
    assert result.status == "complete" and task.n == task.n_rows and task.n_failed == 0
    assert result.run.model.adapter == "vllm" and result.run.model.settings["tensor_parallel_size"] == 1
    assert result.run.loading == {"engine": "vllm", "vllm": "0.0.0+stand-in"}  # the engine's, not kobench's
    assert result.run.concurrency["mode"] == "adaptive"

    # an engine that dies after 5 requests: the finished answers are kept, the rest fail at once, exit 5
    def same_command():
        return kobench.evaluate(
            model,
            "kmmlu",
            data_dir=ROOT / "tests/fixtures/mirrors",
            prompt_versions=["kmmlu=lm-eval-direct"],
            limit=40,
            cache_dir=tmp_path / "c",
            output=tmp_path / "died",
        )

    monkeypatch.setenv("FAKE_ENGINE_DIE_AFTER", "5")
    died = same_command()
    kmmlu = died.tasks["kmmlu"]
    assert died.status == "incomplete" and kmmlu.n_failed > 0 and kmmlu.n == 5
    assert any("the vLLM engine exited with code 7" in reason for reason in kmmlu.failure_reasons)
    # the same command resumes: the finished answers come from the cache, the engine answers the rest
    monkeypatch.delenv("FAKE_ENGINE_DIE_AFTER")
    again = same_command()
    assert again.status == "complete" and again.tasks["kmmlu"].n == 40
    assert again.run.model_calls == 40 - kmmlu.n  # only what had failed was asked again


def test_the_start_timeout_comes_from_the_command_line(
    fake_engine, tiny_text_lm_folder, tmp_path, monkeypatch
) -> None:
    """A 72B model downloading from the Hub takes longer than the default 900 s to answer: the option reaches
    the engine's wait, and the message names it."""
    from typer.testing import CliRunner

    from kobench.cli import app

    monkeypatch.setenv("FAKE_ENGINE_START_DELAY", "30")
    result = CliRunner().invoke(
        app,
        [
            *("run", "--model", f"vllm:{tiny_text_lm_folder}", "--tasks", "kobalt", "--limit", "2"),
            *("--data-dir", str(ROOT / "tests/fixtures/mirrors"), "--cache-dir", str(tmp_path / "c")),
            *("--vllm-start-timeout", "1"),
        ],
    )
    assert result.exit_code == 4, result.output
    assert (
        "did not answer" in result.output
        and "within 1 s (--vllm-start-timeout gives it longer)" in result.output
    )


def _fake_vllm(root: Path, version: str, supported: list[str], dropped: dict[str, str]) -> Path:
    """A `vllm` package with the registry names the architecture check reads (as vLLM 0.32 has them)."""
    package = root / "vllm"
    (package / "model_executor" / "models").mkdir(parents=True)
    (package / "__init__.py").write_text(f"__version__ = {version!r}\n")
    (package / "model_executor" / "__init__.py").write_text("")
    (package / "model_executor" / "models" / "__init__.py").write_text("")
    (package / "model_executor" / "models" / "registry.py").write_text(
        "class ModelRegistry:\n"
        f"    @staticmethod\n    def get_supported_archs():\n        return {supported!r}\n"
        f"_PREVIOUSLY_SUPPORTED_MODELS = {dropped!r}\n"
    )
    return root


def test_an_architecture_vllm_dropped_is_refused_before_the_engine_starts(
    tmp_path: Path, monkeypatch
) -> None:
    model = tmp_path / "hcx"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"architectures": ["HCXVisionForCausalLM"]}))
    fake = _fake_vllm(
        tmp_path / "site", "0.32.0", ["LlavaForConditionalGeneration"], {"HCXVisionForCausalLM": "0.28.0"}
    )
    monkeypatch.setenv("PYTHONPATH", str(fake))
    with pytest.raises(
        BadInputError, match=r"vLLM 0.32.0 no longer implements HCXVisionForCausalLM.*v0.28.0.*hf:"
    ):
        vllm_engine.refuse_dropped_architecture(sys.executable, str(model))
    # Implemented, unknown to the table, or a vLLM the check cannot read: the engine is let try.
    (model / "config.json").write_text(json.dumps({"architectures": ["LlavaForConditionalGeneration"]}))
    vllm_engine.refuse_dropped_architecture(sys.executable, str(model))
    (model / "config.json").write_text(json.dumps({"architectures": ["MyOwnForCausalLM"]}))
    vllm_engine.refuse_dropped_architecture(sys.executable, str(model))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "nothing"))
    (model / "config.json").write_text(json.dumps({"architectures": ["HCXVisionForCausalLM"]}))
    vllm_engine.refuse_dropped_architecture(sys.executable, str(model))


def test_image_tokens_are_counted_from_the_processor_where_the_usage_block_cannot_say(
    fake_engine, tiny_llava: Path, tmp_path: Path
) -> None:
    """vLLM's usage block does not split image tokens from the text's: the adapter counts each request's
    from the model's own processor. Tiny LLaVA resizes every image to its 32-pixel square in 8-pixel patches:
    (32 / 8)² = 16 tokens per image, whatever the image's size."""
    from benchmark_copies import k_seed_rows, write_parquet

    write_parquet(tmp_path / "mirror", "NCSOFT/K-SEED", "test", k_seed_rows(4))
    out = tmp_path / "out"
    result = kobench.evaluate(
        f"vllm:{tiny_llava}", "k-seed", data_dir=tmp_path / "mirror", cache_dir=tmp_path / "c", output=out
    )
    assert result.status == "complete"
    rows = [json.loads(line) for line in (out / "samples" / "k-seed.jsonl").read_text("utf-8").splitlines()]
    assert [row["n_image_tokens"] for row in rows] == [16] * 4
    usage = result.tasks["k-seed"].tokens
    assert usage.n_image_known == 4 and usage.image_tokens == 16 * 4


def test_image_tokens_are_unknown_where_the_engine_has_processor_settings_of_its_own(
    tiny_llava: Path,
) -> None:
    from benchmark_copies import png

    from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

    request = Request(
        id="a",
        messages=(Message("user", (ImagePart(ImageRef(data=png((1, 2, 3)))), TextPart("?"))),),
        generation=GenerationSettings(max_new_tokens=2),
    )
    text_only = Request(id="b", messages=(Message("user", (TextPart("?"),)),), generation=request.generation)
    counted = vllm_engine.ImageTokens(str(tiny_llava), False, ())
    assert counted.of(request) == 16 and counted.of(text_only) == 0
    own = vllm_engine.ImageTokens(str(tiny_llava), False, ("--mm-processor-kwargs", '{"max_pixels": 1}'))
    assert own.of(request) is None
    missing = vllm_engine.ImageTokens("/no/such/model", False, ())
    assert missing.of(request) is None


def test_image_tokens_are_counted_with_the_processor_of_the_served_commit(
    tiny_llava: Path, tmp_path: Path, monkeypatch
) -> None:
    """A Hub model's processor is read at the commit the engine serves: main names another here, with a
    processor that tiles nothing like it (a config the counter cannot read)."""
    from benchmark_copies import png

    from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

    served, moved = "a" * 40, "b" * 40
    hub = offline_hub(monkeypatch, tmp_path / "hub")
    repo = cached_model(hub, "kobench-tests/llava", {served: tiny_llava, moved: None}, main=moved)
    (repo / "snapshots" / moved / "config.json").write_text("not json")
    request = Request(
        id="a",
        messages=(Message("user", (ImagePart(ImageRef(data=png((1, 2, 3)))), TextPart("?"))),),
        generation=GenerationSettings(max_new_tokens=2),
    )
    assert vllm_engine.ImageTokens("kobench-tests/llava", False, (), served).of(request) == 16
    assert vllm_engine.ImageTokens("kobench-tests/llava", False, ()).of(request) is None  # main's


def test_the_most_requests_in_flight_grow_with_the_engines_replicas(
    fake_engine, tiny_text_lm_folder, tmp_path
) -> None:
    """vLLM spreads the requests over its data-parallel replicas, each batching its own: the adaptive limit
    may go to 64 for each (the default for one server), unless --max-concurrency says otherwise."""

    def maximum(**options) -> int:
        result = kobench.evaluate(
            f"vllm:{tiny_text_lm_folder}",
            "kobalt",
            data_dir=ROOT / "tests/fixtures/mirrors",
            limit=2,
            use_cache=False,
            cache_dir=tmp_path / "c",
            **options,
        )
        assert result.status == "complete"
        return result.run.concurrency["maximum"]

    assert maximum() == 64
    assert maximum(vllm={"data_parallel_size": 4}) == 256
    assert maximum(vllm={"data_parallel_size": 4}, max_concurrency=10) == 10
