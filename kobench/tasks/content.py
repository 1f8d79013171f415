"""Where a prompt's images go, and where its text is cut into parts, for the prompts that are not one text
after the images.

By default a request's user turn is the row's images, then the rendered prompt as one text part. A template
that writes `{{ kobench.images }}` puts the images there instead, and `{{ kobench.part }}` ends one text part
and starts the next, so a published request that interleaves them is sent part for part (KorMedMCQA-V's
evaluation code sends the question, then the images, then each option and the instruction as text parts of
their own; an OpenAI-compatible server may join text parts with a newline, so the parts themselves matter).
The marks are rendered as strings no dataset text holds (NUL-delimited) and cut out here.
"""

from __future__ import annotations

from collections.abc import Sequence

from kobench.types import ImagePart, ImageRef, TextPart

IMAGES_MARK = "\x00kobench:images\x00"
PART_MARK = "\x00kobench:part\x00"
# What templates see as `kobench` (a name no column shadows: it is set after the row's columns).
TEMPLATE_MARKS = {"kobench": {"images": IMAGES_MARK, "part": PART_MARK}}


def _texts(text: str) -> list[TextPart]:
    return [TextPart(piece) for piece in text.split(PART_MARK) if piece]


def content_parts(prompt: str, images: Sequence[ImageRef]) -> tuple[TextPart | ImagePart, ...]:
    """The user turn's parts for a rendered prompt: the images, then the prompt, unless the prompt places
    the images (once) or cuts itself into parts; empty text parts are left out then. ValueError for a
    prompt that places its images twice."""
    pictures = tuple(ImagePart(image) for image in images)
    if IMAGES_MARK not in prompt and PART_MARK not in prompt:
        return (*pictures, TextPart(prompt))
    before, mark, after = prompt.partition(IMAGES_MARK)
    if IMAGES_MARK in after:
        raise ValueError("the prompt template places its images (kobench.images) more than once")
    if not mark:  # parts only: the images come first, as in every other prompt
        before, after = "", prompt
    return (*_texts(before), *pictures, *_texts(after))
