"""Fixture: the image preprocessor of HyperCLOVAX-SEED-Vision-Instruct-3B v0.1.0, with the interface its
model card shows (the "Example for v0.1.0"):

    new_vlm_chat, all_images, is_video_list = preprocessor.load_images_videos(vlm_chat)
    preprocessed = preprocessor(all_images, is_video_list=is_video_list)

It is an image processor, not a processor with a tokenizer (the card loads the tokenizer separately). Each
image is one 'grid' here (the real one tiles up to 9); the output keys and their nesting (one outer list
per sample) are those TensorRT-LLM's port of the model reads.

kobench's own code, written for its tests; NAVER's code is not copied.
"""

import base64
import io
import os

import numpy as np
import torch
from PIL import Image
from transformers.image_processing_utils import BaseImageProcessor, BatchFeature


class HCXVisionProcessor(BaseImageProcessor):
    model_input_names = ["pixel_values"]  # noqa: RUF012 (transformers reads it as a list)

    def __init__(
        self, image_size=28, num_queries_vis_abstractor=4, image_mean=None, image_std=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.image_size = image_size
        self.num_queries_vis_abstractor = num_queries_vis_abstractor
        self.image_mean = image_mean or [0.5, 0.5, 0.5]
        self.image_std = image_std or [0.5, 0.5, 0.5]

    def load_images_videos(self, vlm_chat):
        """(the chat with each image's data taken out, the images as PIL, one is-video flag per image)."""
        new_chat, images, is_video_list = [], [], []
        for message in vlm_chat:
            content = message["content"]
            if isinstance(content, dict) and content.get("type") == "image":
                images.append(_open(content["image"]))
                is_video_list.append(False)
                content = {k: v for k, v in content.items() if k != "image"}
            elif isinstance(content, dict) and content.get("type") == "video":
                raise ValueError("this fixture reads no videos")
            new_chat.append({**message, "content": content})
        return new_chat, images, is_video_list

    def preprocess(self, images, is_video_list=None, **kwargs):
        if is_video_list is not None and len(is_video_list) != len(images):
            raise ValueError("is_video_list needs one flag per image")
        grids, sizes = [], []
        for image in images:
            sizes.append({"width": image.width, "height": image.height})
            resized = image.convert("RGB").resize((self.image_size, self.image_size), Image.BICUBIC)
            array = (np.asarray(resized, dtype=np.float32) / 255.0 - self.image_mean) / self.image_std
            grids.append(torch.from_numpy(array.transpose(2, 0, 1).copy()).unsqueeze(0))
        n = len(images)
        return BatchFeature(
            data={
                "pixel_values": [grids],
                "image_sizes": [sizes],
                "vision_query_lengths": [[self.num_queries_vis_abstractor] * n],
                "is_videos": [[False] * n],
                "num_queries_vis_abstractors": [[self.num_queries_vis_abstractor] * n],
                "num_queries_vis_abstractors_slow": [[0] * n],
                "first_last_frames_slows": [[False] * n],
            }
        )


def _open(source):
    """An image from a local path, bytes or base64 text, as the card lists (no URL: tests run offline)."""
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
