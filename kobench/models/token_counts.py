"""What a prompt costs in tokens, counted from the inputs a model's processor built (no model call): its
prompt tokens (every input id that is not padding) and, of those, its image tokens (the positions the
vision tower's embeddings fill, the model's "visual tokens").

The image token is the one the model itself looks for when it fills in the image embeddings: its config's
`image_token_id` (transformers' multimodal models; Gemma 3 and LLaVA map it to `image_token_index`, which
A.X 4.0 VL Light's remote code names). A processor's own `image_token_id` is not used: Gemma 3's is the
begin-of-image mark, one per image. A model whose config names none (HyperCLOVAX-SEED-Vision v0.1.0 writes
one mark per image and expands it inside the model) has image tokens unknown: None, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def image_token_id(config: Any) -> int | None:
    """The id of the token the model replaces with image embeddings, where its config names one."""
    for key in ("image_token_id", "image_token_index"):
        value = getattr(config, key, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def prompt_token_counts(inputs: Mapping[str, Any], image_token: int | None) -> list[tuple[int, int | None]]:
    """(prompt tokens, image tokens) per row of a processor's batch: the row's unpadded length (its
    attention mask, where the batch has one) and how many of its ids are the image token (None: unknown)."""
    ids = inputs["input_ids"]
    mask = inputs.get("attention_mask")
    rows = _rows(ids)
    masks = _rows(mask) if mask is not None else None
    counts = []
    for n, row in enumerate(rows):
        kept = row if masks is None else [token for token, keep in zip(row, masks[n], strict=True) if keep]
        counts.append((len(kept), kept.count(image_token) if image_token is not None else None))
    return counts


def _rows(value: Any) -> list[list[int]]:
    """A tensor's or nested list's rows as lists (a single unbatched row as one row)."""
    rows = value.tolist() if hasattr(value, "tolist") else [list(row) for row in value]
    return rows if rows and isinstance(rows[0], list) else [rows]
