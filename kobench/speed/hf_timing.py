"""One hf batch timed: its inputs built, a prefill-only pass (one new token: the time to the first token),
then the full generation, the clock synchronised with the device at every read.

It drives the adapter's own batch path (HFModel's chat rendering, processor and generate call, so what is
timed is what `kobench run` does) through its internals: speed is measured from inside the adapter, not
through the one-method protocol that hides the phases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from kobench.speed.clock import Clock
from kobench.speed.timings import BatchTiming, RequestTiming
from kobench.types import Request, Response


def hf_batch_runner(model: object, clock: Clock) -> Callable[[Sequence[Request]], BatchTiming]:
    """`run_batch` for kobench.speed.timings.measure_batches over an HFModel: requests of one generation
    setting, one padded batch."""
    from kobench.models.hf import HFModel, _Item

    if not isinstance(model, HFModel):
        raise TypeError(f"hf_batch_runner times an HFModel, not {type(model).__name__}")

    def run_batch(requests: Sequence[Request]) -> BatchTiming:
        settings = requests[0].generation
        start = clock.now()
        try:
            items = [
                _Item(i, r, model._render(r)) for i, r in enumerate(map(model._with_system_prompt, requests))
            ]
            prepared = model._prepare(items)
            if prepared.error is not None:
                raise prepared.error
            built = clock.now()
            model._run(prepared, replace(settings, max_new_tokens=1))
            prefilled = clock.now()
            answers = model._run(prepared, settings)
            done = clock.now()
        except Exception as exc:  # the batch failed: every request in it counted as failed
            failed = RequestTiming(clock.now() - start, None, None, error=f"{type(exc).__name__}: {exc}")
            return BatchTiming((failed,) * len(requests), failed.latency_s, None)
        build_s, prefill_s, generate_s = built - start, prefilled - built, done - prefilled
        timings = []
        for item in items:
            answer = answers.get(item.index) or prepared.failed.get(item.index)
            timings.append(_timing(answer, build_s + prefill_s, build_s + generate_s))
        return BatchTiming(tuple(timings), done - start, max(generate_s - prefill_s, 0.0))

    return run_batch


def _timing(answer: Response | None, ttft_s: float, latency_s: float) -> RequestTiming:
    if answer is None or not answer.ok:
        return RequestTiming(latency_s, None, None, error=answer.error if answer else "no response")
    return RequestTiming(
        latency_s=latency_s,
        ttft_s=ttft_s,
        generated_tokens=answer.n_tokens,
        prompt_tokens=answer.prompt_tokens or None,  # 0: the adapter does not know (InternVL's chat)
        image_tokens=answer.image_tokens,
    )
