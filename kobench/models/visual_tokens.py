"""Visual tokens per image: how many positions of the prompt one image fills, at the model's own resolution
settings, for a few standard image sizes. Only the config and the processor load: no weights, no model call.

For a model with a processor the count is what kobench's own runs count (kobench.models.token_counts): the
prompt is rendered with one image as kobench's hf adapter renders it (kobench.models.chat_formats), the
processor runs on a blank RGB image of the size, and the image token its config names is counted in the
input ids. InternVL's remote code has no processor for images (the caller tiles): its count is the card's,
`num_image_token` per tile (the tile's patches after the pixel shuffle) times the tiles kobench cuts the
image into (kobench.models.internvl_tiles, `max_dynamic_patch` tiles at most, a thumbnail where
`use_thumbnail`), all read from its config.json without running its code. A model whose config names no
image token (HyperCLOVAX-SEED-Vision v0.1.0 expands one mark inside the model) has the count unknown: None
and a note, never a guess.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kobench.errors import BadInputError

DEFAULT_IMAGE_SIZES: tuple[tuple[int, int], ...] = ((448, 448), (896, 896), (1280, 720))
NO_IMAGE_TOKEN = "unknown: the config names no image token"
NONE_IN_PROMPT = "unknown: the processor wrote no image token into the prompt"
QUESTION = "이 이미지를 설명해 주세요."


@dataclass(frozen=True)
class VisualTokens:
    width: int
    height: int
    tokens: int | None  # None: unknown (the note says why)
    note: str | None = None

    @property
    def size(self) -> str:
        return f"{self.width}×{self.height}"


def parse_image_sizes(text: str) -> list[tuple[int, int]]:
    """(width, height) pairs of "448x448,1280x720" (x or ×)."""
    sizes = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)\s*[x×X]\s*(\d+)", part)
        if not match or not all(int(n) > 0 for n in match.groups()):
            raise BadInputError(f"--image-sizes: {part!r} is not WIDTHxHEIGHT (e.g. 448x448)")
        sizes.append((int(match.group(1)), int(match.group(2))))
    if not sizes:
        raise BadInputError("--image-sizes: give at least one WIDTHxHEIGHT")
    return sizes


def visual_tokens(
    spec: str,
    sizes: Sequence[tuple[int, int]] = DEFAULT_IMAGE_SIZES,
    trust_remote_code: bool = False,
    *,
    revision: str | None = None,
) -> list[VisualTokens]:
    """One VisualTokens per (width, height) for the model `hf:PATH_OR_ID` (or a bare path or Hub id)."""
    count = image_token_counter(spec, trust_remote_code, revision=revision)
    return [count(width, height) for width, height in sizes]


def image_token_counter(
    spec: str, trust_remote_code: bool = False, *, revision: str | None = None
) -> Callable[[int, int], VisualTokens]:
    """The visual tokens of one image of a given size for the model `spec`, its config and processor loaded
    once (what the vllm: adapter counts its requests' images with: vLLM's usage block does not split them).
    Raises BadInputError where they cannot be loaded."""
    if spec.startswith("tiktoken:"):
        raise BadInputError(f"--model {spec}: a tiktoken encoding reads text only; it has no visual tokens")
    target = spec.removeprefix("hf:")
    raw = _config_dict(spec, target, revision)
    if raw.get("model_type") == "internvl_chat":
        return functools.cache(lambda width, height: _internvl(raw, width, height))
    return functools.cache(_processor_counter(spec, target, raw, trust_remote_code, revision))


def _config_dict(spec: str, target: str, revision: str | None) -> dict[str, Any]:
    from transformers import PreTrainedConfig

    try:
        raw, _ = PreTrainedConfig.get_config_dict(target, revision=revision)
    except (OSError, ValueError) as exc:
        raise BadInputError(f"--model {spec}: cannot read its config ({exc})") from exc
    return raw


def _internvl(raw: dict[str, Any], width: int, height: int) -> VisualTokens:
    """InternVL's remote code: its model card's count, from config.json alone."""
    from PIL import Image

    from kobench.models.internvl_tiles import tiles

    vision = raw.get("vision_config") or {}
    size = raw.get("force_image_size") or vision.get("image_size")
    patch, ratio = vision.get("patch_size"), raw.get("downsample_ratio")
    if not (size and patch and ratio):
        return VisualTokens(width, height, None, "unknown: the config names no tile, patch or shuffle size")
    # as the model computes it: the tile's patches, fewer by the pixel shuffle
    per_tile = int((int(size) // int(patch)) ** 2 * float(ratio) ** 2)
    max_tiles = int(raw.get("max_dynamic_patch") or 12)
    thumbnail = bool(raw.get("use_thumbnail", True))
    n_tiles = len(tiles(Image.new("RGB", (width, height)), int(size), max_tiles, thumbnail))
    return VisualTokens(width, height, per_tile * n_tiles)


class _ConfigOnly:
    """What chat_format reads of a model (its config), without its weights."""

    def __init__(self, config: Any) -> None:
        self.config = config


def _processor_counter(
    spec: str, target: str, raw: dict[str, Any], trust_remote_code: bool, revision: str | None
) -> Callable[[int, int], VisualTokens]:
    from transformers import AutoConfig, AutoProcessor, AutoTokenizer, PreTrainedTokenizerBase
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from kobench.models.chat_formats import chat_format
    from kobench.models.compat import apply_layers
    from kobench.models.token_counts import image_token_id

    model_type = raw.get("model_type")
    if model_type not in CONFIG_MAPPING and not trust_remote_code:
        raise BadInputError(
            f"--model {spec} (model type {model_type!r}) needs its own code to load its config and processor;"
            " pass --trust-remote-code if you trust it"
        )
    common = {"revision": revision, "trust_remote_code": trust_remote_code}
    try:
        config = AutoConfig.from_pretrained(target, **common)
        token = image_token_id(config)
        if token is None:
            return lambda width, height: VisualTokens(width, height, None, NO_IMAGE_TOKEN)
        if trust_remote_code:
            apply_layers(model_type)
        processor = AutoProcessor.from_pretrained(target, **common)
        if isinstance(processor, PreTrainedTokenizerBase):
            note = "unknown: the model has no image processor"
            return lambda width, height: VisualTokens(width, height, None, note)
        tokenizer = getattr(processor, "tokenizer", None) or AutoTokenizer.from_pretrained(target, **common)
    except ImportError as exc:
        raise BadInputError(f"--model {spec}: its own code failed to import ({exc})") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise BadInputError(f"--model {spec}: cannot load its config and processor ({exc})") from exc
    form = chat_format(processor, tokenizer, _ConfigOnly(config))
    return lambda width, height: _count(spec, form, token, width, height)


def _count(spec: str, form: Any, token: int, width: int, height: int) -> VisualTokens:
    from PIL import Image

    from kobench.models.token_counts import prompt_token_counts
    from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

    image = Image.new("RGB", (width, height), (255, 255, 255))
    png = io.BytesIO()
    image.save(png, format="PNG")
    parts = (ImagePart(ImageRef(data=png.getvalue())), TextPart(QUESTION))
    request = Request(
        id="visual-tokens",
        messages=(Message("user", parts),),
        generation=GenerationSettings(max_new_tokens=1),
    )
    try:
        prompt = form.render(request)
        inputs = form.encode([request], [prompt], [[image]])
    except (ValueError, TypeError, KeyError) as exc:
        raise BadInputError(
            f"--model {spec}: its processor failed on a {width}×{height} image ({type(exc).__name__}: {exc})"
        ) from exc
    ((_, tokens),) = prompt_token_counts(inputs, token)
    if not tokens:
        return VisualTokens(width, height, None, NONE_IN_PROMPT)
    return VisualTokens(width, height, tokens)
