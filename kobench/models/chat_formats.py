"""How the hf adapter turns kobench's requests into a model's generate() inputs, per interface family.

Most transformers VLMs share one interface: a processor with a chat template renders the conversation
(images as content parts) and then takes the prompts and images in one padded batch (`ProcessorChat`).
Remote-code models with their own interface get a class of their own, which follows the model card's
calls exactly:
- HyperCLOVAX-SEED-Vision v0.1.0 (`HCXImagePreprocessorChat`): an image preprocessor that is not a processor
  with a tokenizer, one content dict per message, `preprocessor.load_images_videos(chat)`, then
  `preprocessor(images, is_video_list=...)`, then `tokenizer.apply_chat_template(...)`.

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
    can take (with `why`: the interface cannot pad a batch the way generate needs)."""

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
        chat: list[dict[str, Any]] = []
        for message in request.messages:
            for part in message.content:
                if isinstance(part, ImagePart):
                    content: dict[str, Any] = {"type": "image"}
                    if with_images:
                        content["image"] = part.image.read_bytes()
                else:
                    content = {"type": "text", "text": part.text}
                chat.append({"role": message.role, "content": content})
        return chat

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


def chat_format(processor: Any, tokenizer: Any) -> ChatFormat:
    """The interface family of a loaded model, from what its processor offers."""
    if callable(getattr(processor, "load_images_videos", None)):
        return HCXImagePreprocessorChat(processor, tokenizer)
    return ProcessorChat(processor, tokenizer)
