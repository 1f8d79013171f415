"""Per-family settings of the hf adapter: image resolution and generation defaults as each model card
documents them, applied only when asked for (`--min-pixels`, `--max-pixels`, `--max-tiles`,
`--generation-defaults card`), and recorded with the run's model settings (so in the cache key too).

Evaluation is greedy unless a task's protocol samples; a card's sampling settings are an explicit option,
never a silent replacement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kobench.errors import BadInputError


@dataclass(frozen=True)
class ImageSetting:
    """A resolution option as one family's image processor holds it: an attribute, or "size.KEY" in the
    size transformers 5 keeps (Qwen2-VL's pixel bounds, which its processor no longer takes as keywords).
    An attribute is given to from_pretrained as a keyword; a size key is set on the loaded processor, the
    checkpoint's other size keys kept."""

    name: str

    @property
    def by_kobench(self) -> bool:
        """Tiling kobench does itself, as the model card's own code does (InternVL's remote code)."""
        return self.name == "kobench"

    @property
    def in_size(self) -> str | None:
        return self.name.removeprefix("size.") if self.name.startswith("size.") else None


QWEN_PIXELS = {
    "min_pixels": ImageSetting("size.shortest_edge"),
    "max_pixels": ImageSetting("size.longest_edge"),
}
# Which resolution options each model type understands (model_type from config.json).
IMAGE_SETTINGS: dict[str, dict[str, ImageSetting]] = {
    "qwen2_vl": QWEN_PIXELS,
    "qwen2_5_vl": QWEN_PIXELS,
    "qwen3_vl": QWEN_PIXELS,
    # InternVL (transformers' own port): up to this many 448 px tiles per image, plus a thumbnail.
    "internvl": {"max_tiles": ImageSetting("max_patches")},
    # InternVL's remote code: the card's load_image(max_num=...), which kobench does (internvl_tiles).
    "internvl_chat": {"max_tiles": ImageSetting("kobench")},
    # A.X 4.0 VL Light: its image processor's max_num_tiles (6 by default).
    "a.x-4-vl": {"max_tiles": ImageSetting("max_num_tiles")},
}

# Generation settings the model cards give, used only with --generation-defaults card.
CARD_GENERATION: dict[str, dict[str, Any]] = {
    # naver-hyperclovax/HyperCLOVAX-SEED-Vision-Instruct-3B, README (both examples)
    "hyperclovax_vlm": {"do_sample": True, "top_p": 0.6, "temperature": 0.5, "repetition_penalty": 1.0},
    # skt/A.X-4.0-VL-Light, README ("generation_kwargs")
    "a.x-4-vl": {
        "do_sample": True,
        "top_p": 0.8,
        "temperature": 0.5,
        "top_k": 20,
        "repetition_penalty": 1.05,
    },
}


def image_kwargs(model_type: str | None, options: dict[str, int | None]) -> dict[str, int]:
    """from_pretrained keywords for the resolution options given (those kept as attributes); BadInputError
    for one the family has no equivalent for (naming those it has)."""
    given = {name: value for name, value in options.items() if value is not None}
    if not given:
        return {}
    known = IMAGE_SETTINGS.get(model_type or "", {})
    for name in given:
        if name not in known:
            has = ", ".join(f"--{n.replace('_', '-')}" for n in known) or "none"
            raise BadInputError(
                f"--{name.replace('_', '-')}: kobench knows no such setting for model type {model_type!r}"
                f" (its resolution options: {has})"
            )
    return {
        known[name].name: value
        for name, value in given.items()
        if known[name].in_size is None and not known[name].by_kobench
    }


def apply_image_settings(model_type: str | None, options: dict[str, int | None], processor: Any) -> None:
    """Set the size keys on the loaded image processor, then check that each resolution option is what it
    holds (a processor that ignored a keyword would otherwise run at its default while the results say
    otherwise)."""
    image_processor = getattr(processor, "image_processor", processor)
    for name, value in options.items():
        if value is None:
            continue
        setting = IMAGE_SETTINGS[model_type or ""][name]
        if setting.by_kobench:
            continue
        if (key := setting.in_size) is not None:
            size = getattr(image_processor, "size", None)
            if isinstance(size, dict):
                size[key] = value
            elif size is not None:
                setattr(size, key, value)
            held = size.get(key) if isinstance(size, dict) else getattr(size, key, None)
        else:
            held = getattr(image_processor, setting.name, None)
        if held != value:
            raise BadInputError(
                f"--{name.replace('_', '-')} {value}: the model's image processor "
                f"({type(image_processor).__name__}) holds {setting.name}={held!r} after loading"
            )


def generation_defaults(mode: str, model_type: str | None) -> dict[str, Any] | None:
    """generate() keywords for --generation-defaults: None for greedy (kobench's default) and for
    checkpoint (the checkpoint's own generation_config.json decides); the card's settings for card."""
    if mode != "card":
        return None
    if model_type not in CARD_GENERATION:
        known = ", ".join(sorted(CARD_GENERATION))
        raise BadInputError(
            f"--generation-defaults card: kobench has no model-card settings for model type {model_type!r}"
            f" (it has them for {known}); use --generation-defaults checkpoint for the checkpoint's own"
            " generation_config.json"
        )
    return dict(CARD_GENERATION[model_type])
