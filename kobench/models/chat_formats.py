"""How the hf adapter turns kobench's requests into a model's generate() inputs, per interface family.

Most transformers VLMs share one interface: a processor with a chat template renders the conversation
(images as content parts) and then takes the prompts and images in one padded batch (`ProcessorChat`).
Remote-code models with their own interface get a class of their own, which follows the model card's
calls exactly:
- HyperCLOVAX-SEED-Vision v0.1.0 (`HCXImagePreprocessorChat`): an image preprocessor that is not a processor
  with a tokenizer, one content dict per message, `preprocessor.load_images_videos(chat)`, then
  `preprocessor(images, is_video_list=...)`, then `tokenizer.apply_chat_template(...)`.
- HyperCLOVAX-SEED-Vision's current revision (`HCXProcessorChat`): its processor's apply_chat_template
  loads the images from the content items and tokenizes, one conversation per call.
- InternVL's remote code (`InternVLChat`): no image processor (the card tiles images in the caller's code,
  kobench.models.internvl_tiles), and the model's own `chat` / `batch_chat` build the prompt and answer.

`chat_format` picks the family from what the loaded processor offers, not from the model's name, so a
fine-tune with the same interface under another name is read the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kobench.types import ImagePart, Request


class ChatFormat(Protocol):
    """`name` is recorded with the run; `max_batch`, where set, is the most requests one generate() call
    can take (with `why`: the interface cannot pad a batch the way generate needs). A format whose model
    answers through its own chat method has `respond` as well (kobench then calls that, not generate), and
    `batch_key`, which requests may share a call."""

    name: str
    max_batch: int | None
    why: str | None

    def render(self, request: Request) -> str:
        """The prompt as text (batches are sorted by its length; a template error fails the request)."""
        ...

    def encode(self, requests: Sequence[Request], prompts: Sequence[str], images: Sequence[list[Any]]) -> Any:
        """generate()'s keyword arguments for a batch: `images` are each request's decoded images."""
        ...


@dataclass
class ProcessorChat:
    """A transformers processor with a chat template: prompts rendered with images as content parts, then
    `processor(text=prompts, images=..., padding=True)` in one left-padded batch."""

    processor: Any
    tokenizer: Any
    name: str = "processor-chat-template"
    max_batch: int | None = None
    why: str | None = None

    def render(self, request: Request) -> str:
        conversation = [
            {
                "role": message.role,
                "content": [
                    {"type": "image"} if isinstance(part, ImagePart) else {"type": "text", "text": part.text}
                    for part in message.content
                ],
            }
            for message in request.messages
        ]
        template = self.processor if hasattr(self.processor, "apply_chat_template") else self.tokenizer
        return template.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)

    def encode(self, requests: Sequence[Request], prompts: Sequence[str], images: Sequence[list[Any]]) -> Any:
        bos = self.tokenizer.bos_token
        # as apply_chat_template(tokenize=True) does: no second BOS after a template's own
        kwargs: dict[str, Any] = {"add_special_tokens": not (bos and prompts[0].startswith(bos))}
        if any(images):  # a text-only model's processor is a bare tokenizer with no `images`
            kwargs["images"] = list(images)
        return self.processor(text=list(prompts), padding=True, return_tensors="pt", **kwargs)


@dataclass
class HCXImagePreprocessorChat:
    """HyperCLOVAX-SEED-Vision-Instruct-3B v0.1.0's interface, as its model card calls it:

        new_chat, all_images, is_video_list = preprocessor.load_images_videos(chat)
        preprocessed = preprocessor(all_images, is_video_list=is_video_list)
        input_ids = tokenizer.apply_chat_template(new_chat, tokenize=True, add_generation_prompt=True)
        model.generate(input_ids=input_ids, **preprocessed)

    Every content part is a message of its own, `content` one dict (an image: `{"type": "image", "image":
    <bytes>}`, a source the card lists). No OCR or Lens keys are added: a benchmark's protocol gives none.
    One conversation per call, as the card runs it: the model ends each prompt at its first pad token and
    fuses images into right-padded rows, so a left-padded batch would not generate what one at a time does.
    """

    preprocessor: Any
    tokenizer: Any
    name: str = "hyperclovax-seed-vision-v0.1"
    max_batch: int | None = 1
    why: str | None = "the model reads each prompt up to its first pad token (one conversation per call)"

    def chat(self, request: Request, *, with_images: bool) -> list[dict[str, Any]]:
        return [{"role": role, "content": item} for role, item in _hcx_items(request, with_images)]

    def render(self, request: Request) -> str:
        chat = self.chat(request, with_images=False)
        return self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)

    def encode(self, requests: Sequence[Request], prompts: Sequence[str], images: Sequence[list[Any]]) -> Any:
        if len(requests) != 1:
            raise ValueError(f"{self.name} takes one conversation per call, got {len(requests)}")
        chat, all_images, is_video_list = self.preprocessor.load_images_videos(
            self.chat(requests[0], with_images=True)
        )
        # return_dict=False: transformers 5 returns a dict by default, the card's 4.x a tensor.
        input_ids = self.tokenizer.apply_chat_template(
            chat, tokenize=True, add_generation_prompt=True, return_tensors="pt", return_dict=False
        )
        inputs: dict[str, Any] = {"input_ids": input_ids}
        if all_images:  # the card's text-only example calls generate with input_ids alone
            inputs.update(self.preprocessor(all_images, is_video_list=is_video_list))
        return inputs


@dataclass
class HCXProcessorChat:
    """HyperCLOVAX-SEED-Vision-Instruct-3B's current interface (main revision), as its model card calls it:

        model_inputs = processor.apply_chat_template(
            vlm_chat, tokenize=True, return_dict=True, return_tensors="pt", add_generation_prompt=True)
        output_ids = model.generate(**model_inputs, ...)

    Content is a list of items; as in the card, each image is a user message of its own (`{"type": "image",
    "image": <bytes>}`, a source the card lists) and each text part another. One conversation per call, as
    the card makes it: whether the model takes a padded batch of its per-sample inputs is not documented,
    so kobench does not guess (a speed cost, never a different answer)."""

    processor: Any
    tokenizer: Any
    name: str = "hyperclovax-seed-vision"
    max_batch: int | None = 1
    why: str | None = "the model card calls the processor one conversation at a time"

    def chat(self, request: Request, *, with_images: bool) -> list[dict[str, Any]]:
        return [{"role": role, "content": [item]} for role, item in _hcx_items(request, with_images)]

    def render(self, request: Request) -> str:
        # The tokenizer's template: the processor's own would load the images.
        chat = self.chat(request, with_images=False)
        return self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)

    def encode(self, requests: Sequence[Request], prompts: Sequence[str], images: Sequence[list[Any]]) -> Any:
        if len(requests) != 1:
            raise ValueError(f"{self.name} takes one conversation per call, got {len(requests)}")
        return self.processor.apply_chat_template(
            self.chat(requests[0], with_images=True),
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            add_generation_prompt=True,
        )


@dataclass
class InternVLChat:
    """InternVL's remote-code interface, as its model card calls it:

        pixel_values = load_image(image_file, max_num=12)        # the caller tiles (internvl_tiles)
        response = model.chat(tokenizer, pixel_values, question, generation_config, history=...)
        responses = model.batch_chat(tokenizer, pixel_values, num_patches_list=..., questions=...,
                                     generation_config=...)

    A question is the turn's text after one `<image>\n` per image ("Image-1: <image>\nImage-2: <image>\n"
    for several, the card's multi-image form); earlier turns are `history`; a task's system message is the
    model's `system_message` for that call. Requests with one image each and no earlier turn or system
    message share `batch_chat` calls; the others are one `chat` call each. The model returns text only: the
    token count is the answer's re-tokenised length, and an answer that long or longer than
    max_new_tokens has an unknown ending (no end-of-turn token is seen)."""

    model: Any
    tokenizer: Any
    max_tiles: int = 12
    name: str = "internvl-chat"
    max_batch: int | None = None
    why: str | None = None

    @property
    def tile_size(self) -> int:
        return int(self.model.config.force_image_size)

    def question(self, request: Request) -> tuple[str, list[tuple[str, str]], str | None]:
        """(the last user turn's question, earlier (question, answer) turns, the system message)."""
        system = None
        history: list[tuple[str, str]] = []
        pending: str | None = None
        for message in request.messages:
            if message.role == "system":
                system = message.text
            elif message.role == "user":
                pending = _with_image_marks(message)
            elif pending is not None:
                history.append((pending, message.text))
                pending = None
        if pending is None:
            raise ValueError("the conversation does not end with a user turn")
        return pending, history, system

    def batch_key(self, request: Request) -> Any:
        _, history, system = self.question(request)
        return "batch_chat" if len(request.images) == 1 and not history and system is None else request.id

    def render(self, request: Request) -> str:
        return self.question(request)[0]

    def encode(self, requests: Sequence[Request], prompts: Sequence[str], images: Sequence[list[Any]]) -> Any:
        import torch

        from kobench.models.internvl_tiles import pixel_values

        thumbnail = bool(getattr(self.model.config, "use_thumbnail", True))
        per_image = [
            pixel_values(image, self.tile_size, self.max_tiles, thumbnail)
            for loaded in images
            for image in loaded
        ]
        return {
            "pixel_values": torch.cat(per_image) if per_image else None,
            "num_patches_list": [len(p) for p in per_image],
            "conversations": [self.question(request) for request in requests],
        }

    def image_tokens(self, inputs: dict[str, Any]) -> list[int]:
        """Each conversation's image tokens: the model writes `num_image_token` context tokens per tile."""
        per_tile = int(self.model.num_image_token)
        patches = inputs["num_patches_list"]
        if len(inputs["conversations"]) > 1:  # batch_chat: one image each
            return [per_tile * n for n in patches]
        return [per_tile * sum(patches)]

    def respond(self, inputs: dict[str, Any], generation_config: dict[str, Any]) -> list[str]:
        conversations = inputs["conversations"]
        if len(conversations) > 1:
            return self.model.batch_chat(
                self.tokenizer,
                inputs["pixel_values"],
                num_patches_list=inputs["num_patches_list"],
                questions=[question for question, _, _ in conversations],
                generation_config=dict(generation_config),
            )
        question, history, system = conversations[0]
        own = self.model.system_message
        if system is not None:
            self.model.system_message = system
        try:
            return [
                self.model.chat(
                    self.tokenizer,
                    inputs["pixel_values"],
                    question,
                    dict(generation_config),
                    history=history or None,
                    num_patches_list=inputs["num_patches_list"] or None,
                )
            ]
        finally:
            self.model.system_message = own


def _hcx_items(request: Request, with_images: bool) -> list[tuple[str, dict[str, Any]]]:
    """HyperCLOVAX-SEED-Vision's cards give every content part a message of its own: (role, item) per part,
    an image as `{"type": "image"}`, with its bytes (a source the cards list) where `with_images`."""
    items = []
    for message in request.messages:
        for part in message.content:
            if isinstance(part, ImagePart):
                item: dict[str, Any] = {"type": "image"}
                if with_images:
                    item["image"] = part.image.read_bytes()
            else:
                item = {"type": "text", "text": part.text}
            items.append((message.role, item))
    return items


def _with_image_marks(message: Any) -> str:
    """A user turn's text after its images' `<image>` marks, as InternVL's card writes questions."""
    count = sum(isinstance(part, ImagePart) for part in message.content)
    if count == 1:
        return "<image>\n" + message.text
    return "".join(f"Image-{n}: <image>\n" for n in range(1, count + 1)) + message.text


def chat_format(
    processor: Any, tokenizer: Any, model: Any = None, max_tiles: int | None = None
) -> ChatFormat:
    """The interface family of a loaded model, from what its processor (or model) offers."""
    if callable(getattr(processor, "load_images_videos", None)):
        return HCXImagePreprocessorChat(processor, tokenizer)
    if getattr(getattr(model, "config", None), "model_type", None) == "hyperclovax_vlm":
        return HCXProcessorChat(processor, tokenizer)
    if (
        callable(getattr(model, "batch_chat", None))
        and getattr(model.config, "model_type", None) == "internvl_chat"
    ):
        tiles = max_tiles or int(getattr(model.config, "max_dynamic_patch", 12))
        return InternVLChat(model, tokenizer, max_tiles=tiles)
    return ProcessorChat(processor, tokenizer)
