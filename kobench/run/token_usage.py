"""A task's token accounting from its sample records: what the adapter counted for each answered row,
summed and averaged only over the rows where it said (kobench.results.TokenUsage)."""

from __future__ import annotations

from collections.abc import Iterable

from kobench.results import TokenUsage
from kobench.run.records import SampleRecord


def token_usage(rows: Iterable[tuple[SampleRecord | None, int]]) -> TokenUsage:
    """`rows`: each row's record (None: not answered yet) and how many images its request carries."""
    answered = [(r, images) for r, images in rows if r is not None and r.scored]
    generated = sum(r.n_tokens for r, _ in answered)
    prompt_known = [r for r, _ in answered if r.n_prompt_tokens > 0]
    # A request without images has no image tokens, whether or not the adapter said so (log-likelihood
    # scoring and an API's usage block do not).
    image_known = [(r, images) for r, images in answered if r.n_image_tokens is not None or images == 0]
    both = [r for r, images in image_known if r.n_prompt_tokens > 0]
    image_tokens = sum(r.n_image_tokens or 0 for r, _ in image_known)
    images = sum(images for _, images in image_known)
    return TokenUsage(
        n=len(answered),
        generated_tokens=generated,
        mean_generated_tokens=_mean(generated, len(answered)),
        n_prompt_known=len(prompt_known),
        prompt_tokens=sum(r.n_prompt_tokens for r in prompt_known),
        mean_prompt_tokens=_mean(sum(r.n_prompt_tokens for r in prompt_known), len(prompt_known)),
        n_image_known=len(image_known),
        image_tokens=image_tokens,
        images=images,
        mean_image_tokens=_mean(image_tokens, len(image_known)),
        image_tokens_per_image=_mean(image_tokens, images),
        mean_text_tokens=_mean(sum(r.n_prompt_tokens - (r.n_image_tokens or 0) for r in both), len(both)),
    )


def _mean(total: int, n: int) -> float | None:
    return round(total / n, 3) if n else None
