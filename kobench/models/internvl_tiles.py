"""InternVL's image tiling, as its remote-code model cards do it in the caller's code (the `load_image`,
`dynamic_preprocess`, `find_closest_aspect_ratio` and `build_transform` of OpenGVLab/InternVL3-*'s
README): the model ships no image processor, so kobench does what the card does.

The image is resized to the grid of `size`-pixel tiles (at most `max_tiles` of them) whose aspect ratio is
closest to its own, on a tie the larger grid where the image has the pixels for it, cut into those tiles,
plus a thumbnail of the whole image when there is more than one; each tile is resized to `size` square,
scaled to 0-1 and normalised with ImageNet's mean and deviation. Written from the card's description and
checked against the card's own functions in tests/test_model_families.py.
"""

from __future__ import annotations

from typing import Any

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def grid(width: int, height: int, size: int, min_tiles: int = 1, max_tiles: int = 12) -> tuple[int, int]:
    """(columns, rows) of the tiling."""
    # Built as the card builds it (a set, filled in this order, then sorted by tile count): grids with the
    # same count keep the set's order, which the tie rule below depends on.
    candidates = sorted(
        {
            (columns, rows)
            for n in range(min_tiles, max_tiles + 1)
            for columns in range(1, n + 1)
            for rows in range(1, n + 1)
            if min_tiles <= columns * rows <= max_tiles
        },
        key=lambda pair: pair[0] * pair[1],
    )
    aspect = width / height
    best, best_gap = (1, 1), float("inf")
    for columns, rows in candidates:
        gap = abs(aspect - columns / rows)
        if gap < best_gap:
            best, best_gap = (columns, rows), gap
        elif gap == best_gap and width * height > 0.5 * size * size * columns * rows:
            best = (columns, rows)
    return best


def tiles(image: Any, size: int, max_tiles: int = 12, thumbnail: bool = True) -> list[Any]:
    """The PIL tiles of one image, row by row, then the thumbnail."""
    columns, rows = grid(image.width, image.height, size, 1, max_tiles)
    resized = image.resize((size * columns, size * rows))
    cut = [
        resized.crop((c * size, r * size, (c + 1) * size, (r + 1) * size))
        for r in range(rows)
        for c in range(columns)
    ]
    if thumbnail and len(cut) != 1:
        cut.append(image.resize((size, size)))
    return cut


def pixel_values(image: Any, size: int, max_tiles: int = 12, thumbnail: bool = True) -> Any:
    """(tiles, 3, size, size) float32 tensor of one image, normalised as the card's transform does."""
    import numpy as np
    import torch
    from PIL import Image

    out = []
    for tile in tiles(image.convert("RGB"), size, max_tiles, thumbnail):
        square = tile.resize((size, size), Image.Resampling.BICUBIC)
        array = np.asarray(square, dtype=np.float32) / 255.0
        array = (array - np.array(IMAGENET_MEAN, dtype=np.float32)) / np.array(IMAGENET_STD, dtype=np.float32)
        out.append(torch.from_numpy(array.transpose(2, 0, 1).copy()))
    return torch.stack(out)
