"""Compatibility layers: the known breakages between a public checkpoint's own code and the transformers
kobench supports, each mended in memory for the model types that need it, only where it is needed.

kobench never edits files in the user's Hub cache and never copies a model's code. A layer that is applied
is said in the run's output, recorded in the results (`run.loading.compat`) and in the model's fingerprint,
so answers made with it never mix with answers made without it. A layer whose breakage a transformers
version has mended upstream finds nothing to do and stays out of the way.

Known and not needing a layer here: A.X 4.0 VL Light's dotted repository name broke its remote code's
relative imports (`from .configuration_ax4vl import ...`) up to transformers 4.56; 4.57 names the cached
module with `_dot_` for each dot (`_sanitize_module_name`), and kobench requires 5.18 or later.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Layer:
    name: str
    version: int  # bumped when what the layer does changes (it is part of the fingerprint)
    model_types: frozenset[str]
    what: str
    needed: Callable[[], bool]
    apply: Callable[[], None]

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "what": self.what}


def _validate_images_text_input_order(images: Any, text: Any) -> tuple[Any, Any]:
    """transformers <= 4.53's helper, by its documented behaviour: (images, text) as given, or swapped, with
    a warning, where a caller passed the text first and the images second."""

    def is_text(value: Any) -> bool:
        return isinstance(value, str) or (
            isinstance(value, list | tuple) and len(value) > 0 and isinstance(value[0], str)
        )

    if images is not None and text is not None and is_text(images) and not is_text(text):
        warnings.warn("images and text were passed in the wrong order; swapped", FutureWarning, stacklevel=2)
        return text, images
    return images, text


def _processing_utils() -> Any:
    import transformers.processing_utils

    return transformers.processing_utils


def _lacks_validate_order() -> bool:
    # Ours once applied (this process's later runs still need it): needed unless transformers has its own.
    present = getattr(_processing_utils(), "_validate_images_text_input_order", None)
    return present is None or present is _validate_images_text_input_order


def _restore_validate_order() -> None:
    # A module attribute, so `from transformers.processing_utils import ...` in the model's code finds it.
    _processing_utils()._validate_images_text_input_order = _validate_images_text_input_order


LAYERS = (
    Layer(
        name="validate-images-text-input-order",
        version=1,
        model_types=frozenset({"a.x-4-vl"}),
        what=(
            "transformers.processing_utils._validate_images_text_input_order, removed in transformers 4.54"
            " and imported by the model's processor, is given back (in memory) with its old behaviour"
        ),
        needed=_lacks_validate_order,
        apply=_restore_validate_order,
    ),
)


def layers_for(model_type: str | None) -> list[Layer]:
    """The layers this model type needs with the transformers installed here."""
    return [layer for layer in LAYERS if model_type in layer.model_types and layer.needed()]


def apply_layers(model_type: str | None) -> list[dict[str, Any]]:
    """Apply the layers this model type needs; what was applied, for the results."""
    applied = layers_for(model_type)
    for layer in applied:
        layer.apply()
    return [layer.record() for layer in applied]


def fingerprint_suffix(model_type: str | None) -> str:
    """'+compat:NAME@VERSION...' for the layers this model needs here, '' for none."""
    return "".join(f"+compat:{layer.name}@{layer.version}" for layer in layers_for(model_type))
