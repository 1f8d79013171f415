"""Fixture: HyperCLOVAX-SEED-Vision-Instruct-3B's current processor (`HCXProcessor`), with the interface
its model card shows:

    model_inputs = processor.apply_chat_template(
        vlm_chat, tokenize=True, return_dict=True, return_tensors="pt", add_generation_prompt=True,
    )
    output_ids = model.generate(**model_inputs, ...)
    processor.batch_decode(output_ids)

The processor loads each image item's source itself (a local path, bytes, base64 or a PIL image here; no
URL, the tests run offline), renders the chat template, repeats each `<|dummy3|>` once per visual token
of its image, and returns the token ids with the images' inputs, each wrapped in a list per sample (the
`pixel_values_images`, `image_sizes_images`, `vision_query_lengths_images` keys vLLM's port of the model
reads). One conversation per call, as the card calls it.

kobench's own code, written for its tests; NAVER's code is not copied.
"""

import base64
import io
import os

import numpy as np
import torch
from PIL import Image
from transformers import BatchFeature
from transformers.processing_utils import ProcessorMixin

IMAGE_TOKEN = "<|dummy3|>"


def _open(source):
    if isinstance(source, Image.Image):
        return source.convert("RGB")
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str) and os.path.exists(source):
        with open(source, "rb") as f:
            data = f.read()
    elif isinstance(source, str) and source.startswith(("http://", "https://")):
        raise ValueError("this fixture reads no URLs")
    else:
        data = base64.b64decode(source)
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


class HCXProcessor(ProcessorMixin):
    attributes = ["tokenizer"]  # noqa: RUF012 (transformers reads it as a list)
    tokenizer_class = "AutoTokenizer"

    def __init__(self, tokenizer=None, chat_template=None, image_size=28, num_queries=5, **kwargs):
        self.image_size = image_size
        # visual tokens per image: the vision tower's patches and the image_newline the model appends
        self.num_queries = num_queries
        super().__init__(tokenizer, chat_template=chat_template)

    def _pixels(self, image):
        resized = image.resize((self.image_size, self.image_size), Image.BICUBIC)
        array = (np.asarray(resized, dtype=np.float32) / 255.0 - 0.5) / 0.5
        return torch.from_numpy(array.transpose(2, 0, 1).copy()).unsqueeze(0)

    def __call__(self, text=None, images=None, videos=None, **kwargs):
        data = {}
        if text is not None:
            data.update(self.tokenizer(text, return_tensors=kwargs.get("return_tensors")))
        if images:
            flat = [image for sample in images for image in sample]
            data["pixel_values_images"] = [[self._pixels(image) for image in flat]]
            data["image_sizes_images"] = [[[image.width, image.height] for image in flat]]
            data["vision_query_lengths_images"] = [[self.num_queries] * len(flat)]
        return BatchFeature(data=data)

    def apply_chat_template(self, conversation, chat_template=None, **kwargs):
        tokenize = kwargs.pop("tokenize", False)
        return_tensors = kwargs.pop("return_tensors", None)
        kwargs.pop("return_dict", None)
        images = [
            _open(item["image"])
            for message in conversation
            for item in (message["content"] if isinstance(message["content"], list) else [])
            if item.get("type") == "image"
        ]
        prompt = self.tokenizer.apply_chat_template(
            conversation, chat_template=chat_template, tokenize=False, **kwargs
        )
        if not tokenize:
            return prompt
        prompt = prompt.replace(IMAGE_TOKEN, "<placeholder>")
        prompt = prompt.replace("<placeholder>", IMAGE_TOKEN * self.num_queries)
        return self(text=[prompt], images=[images] if images else None, return_tensors=return_tensors)

    def batch_decode(self, *args, **kwargs):
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args, **kwargs):
        return self.tokenizer.decode(*args, **kwargs)
