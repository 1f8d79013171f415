"""Fixture: A.X-4.0-VL-Light's image processor: each image cut into tiles (one, or a 2x1 / 1x2 grid plus a
thumbnail for a wide or tall image where `max_num_tiles` allows 2; the real one chooses grids of up to
`max_num_tiles`, 6 by default), every tile `size` square.
`pixel_values` is every tile of the batch in order, `num_tiles` how many each image gave.

kobench's own code, written for its tests; SK Telecom's code is not copied. Like the original it imports
its configuration relatively (what a dotted repository name used to break).
"""

import numpy as np
import torch
from PIL import Image
from transformers.image_processing_utils import BaseImageProcessor, BatchFeature

from .configuration_ax4vl import AX4VLConfig  # noqa: F401 (imported as the original does)


def _flat(images):
    if images is None:
        return []
    if isinstance(images, Image.Image):
        return [images]
    out = []
    for item in images:
        out.extend(_flat(item))
    return out


class AX4VLImageProcessor(BaseImageProcessor):
    model_input_names = ["pixel_values"]  # noqa: RUF012 (transformers reads it as a list)

    def __init__(
        self,
        size=None,
        image_mean=None,
        image_std=None,
        use_thumbnail=True,
        min_num_tiles=1,
        max_num_tiles=6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.min_num_tiles = min_num_tiles
        self.max_num_tiles = max_num_tiles
        self.size = size or {"shortest_edge": 16}
        self.image_mean = image_mean or [0.5, 0.5, 0.5]
        self.image_std = image_std or [0.5, 0.5, 0.5]
        self.use_thumbnail = use_thumbnail

    def _tiles(self, image):
        s = self.size["shortest_edge"]
        w, h = image.size
        grid = (2, 1) if w >= 2 * h else (1, 2) if h >= 2 * w else (1, 1)
        if grid[0] * grid[1] > self.max_num_tiles:
            grid = (1, 1)
        canvas = image.resize((s * grid[0], s * grid[1]), Image.BICUBIC)
        tiles = [
            canvas.crop((i * s, j * s, (i + 1) * s, (j + 1) * s))
            for j in range(grid[1])
            for i in range(grid[0])
        ]
        if self.use_thumbnail and len(tiles) != 1:
            tiles.append(image.resize((s, s), Image.BICUBIC))
        return tiles

    def preprocess(self, images, return_tensors=None, **kwargs):
        pixels, sizes, counts = [], [], []
        for image in _flat(images):
            image = image.convert("RGB")
            tiles = self._tiles(image)
            for tile in tiles:
                array = (np.asarray(tile, dtype=np.float32) / 255.0 - self.image_mean) / self.image_std
                pixels.append(torch.from_numpy(array.transpose(2, 0, 1).copy()))
            sizes.append(list(image.size))
            counts.append(len(tiles))
        data = {"pixel_values": torch.stack(pixels), "image_sizes": torch.tensor(sizes), "num_tiles": counts}
        return BatchFeature(data=data)
