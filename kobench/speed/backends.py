"""Loading a model to time: the hf adapter's model with its device clock and memory readings; a server
(`openai:MODEL@URL`, or `vllm:` whose server kobench starts) with a streaming client."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from kobench.config import RunConfig
from kobench.errors import BadInputError
from kobench.speed.run import Timed
from kobench.speed.timings import BatchTiming, RequestTiming
from kobench.types import Request


def load_timed(config: RunConfig, max_batch: int = 64) -> Timed:
    """The model of `config` ready to time; `max_batch`: the largest batch it will be given."""
    from kobench.models.registry import parse_model_spec

    adapter, target, entry = parse_model_spec(config.model)
    if adapter == "hf":
        return hf_timed(entry.load(target, config.options))
    if adapter == "openai":
        from kobench.llm.endpoint import Endpoint

        endpoint = Endpoint.parse(target, config.options.api_key_env)
        return server_timed(endpoint, config.options.request_timeout, {"adapter": "openai"}, max_batch)
    if adapter == "vllm":
        from kobench.models.registry import resolved_settings

        # The device kind and engine options as the run's results record them (the GPU's own name is the
        # server's to know).
        environment = {"adapter": "vllm", **resolved_settings(entry, config.options)}
        model = entry.load(target, config.options)  # starts the server; closed when timing ends
        environment["engine"] = model.loading_report()  # its vLLM, torch, transformers: not kobench's
        timed = server_timed(model.api.endpoint, config.options.request_timeout, environment, max_batch)
        close = timed.close

        def close_both() -> None:
            close()
            model.close()

        timed.close = close_both
        return timed
    raise BadInputError(f"--model {config.model}: kobench speed does not time {adapter} models")


def hf_timed(model: Any) -> Timed:
    import torch

    from kobench.speed.clock import device_clock
    from kobench.speed.hf_timing import hf_batch_runner
    from kobench.speed.memory import peak_memory_mb, reset_peak

    device = model.device
    environment: dict[str, Any] = {
        "adapter": "hf",
        "device": str(device),
        "dtype": str(model.torch_dtype).removeprefix("torch."),
        "interface": model.format.name,
    }
    if device.type == "cuda":
        environment["gpu"] = torch.cuda.get_device_name(device)
        environment["device"] = f"{device} ({environment['gpu']})"
    else:
        environment["cpu_threads"] = torch.get_num_threads()
    return Timed(
        run_batch=hf_batch_runner(model, device_clock(device)),
        environment=environment,
        max_batch=model.format.max_batch,
        max_batch_why=model.format.why,
        reset_memory=lambda: reset_peak(device),
        peak_memory=lambda: peak_memory_mb(device),
    )


def server_timed(endpoint: Any, timeout: float, environment: dict[str, Any], max_batch: int) -> Timed:
    from kobench.speed.stream import stream_client

    # As many connections as requests at once: a request waiting for a free one would be timed as slow.
    client = stream_client(endpoint, timeout=timeout, max_connections=max(max_batch, 1))
    environment = {"device": "server", "dtype": None, **environment, "server": endpoint.identity()}
    return Timed(
        run_batch=lambda requests: wave(client, endpoint.model, requests),
        environment=environment,
        close=client.close,
    )


def wave(client: Any, model: str, requests: Sequence[Request], timer: Any = time.perf_counter) -> BatchTiming:
    """The requests sent at once, streamed: each one's first token and end; the wave's decode phase from
    its first first token to its last answer (on the one clock they share). Image tokens are unknown: the
    usage block does not split them from the text's."""
    from kobench.speed.stream import stream_requests

    streamed, wall = stream_requests(client, model, requests, len(requests), timer=timer)
    timings = tuple(
        RequestTiming(
            latency_s=s.latency_s,
            ttft_s=s.ttft_s,
            generated_tokens=s.completion_tokens,
            prompt_tokens=s.prompt_tokens,
            image_tokens=None if request.images else 0,
            error=s.error,
        )
        for request, s in zip(requests, streamed, strict=True)
    )
    answered = [s for s in streamed if s.error is None]
    decode = None
    if answered and all(s.ttft_s is not None for s in answered):
        first = min(s.started_s + s.ttft_s for s in answered)  # type: ignore[operator]
        decode = max(s.started_s + s.latency_s for s in answered) - first
    return BatchTiming(timings, wall, decode)
