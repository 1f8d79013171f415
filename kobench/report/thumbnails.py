"""Image thumbnails for the HTML report (opt-in: many benchmarks' images may not be redistributed).

Sample records hold no images, only the row ids: the images are the task's data, which only the run's
own data options can find again. An `ImageSource` does that (kobench.run.task_images reads a task's rows
as the run read them, and checks they are the same data); this module only downscales what it gets: each
image to at most THUMB_PX a side, as a JPEG data URL, one per distinct image (rows that ask about one page
share its thumbnail).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Protocol

from kobench.results import RunResult
from kobench.types import ImageRef

THUMB_PX = 192  # the longer side, in pixels; the page shows it at most this large
JPEG_QUALITY = 70
MAX_IMAGES_PER_ROW = 4  # a multi-image row shows its first four


class ImageSource(Protocol):
    """The images of each row of `task` as `run` read them, by sample id; raises a KobenchError saying why
    when the task's data cannot be found again (the report then says so on the page)."""

    def __call__(self, run: RunResult, task: str) -> Mapping[str, Sequence[ImageRef]]: ...


def thumbnail(image: ImageRef, size: int = THUMB_PX) -> str:
    """A JPEG data URL of `image` fitted into size × size (never enlarged). OSError / ValueError for an
    unreadable image."""
    from PIL import Image

    image.size()  # refused (ImageError) over the pixel limit, before anything is decoded
    with Image.open(io.BytesIO(image.read_bytes())) as img:
        img.draft("RGB", (size, size))  # JPEG: decode at a fraction of the size, much faster
        img = img.convert("RGB")
        img.thumbnail((size, size), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class Thumbnails:
    """Thumbnails made once per distinct image (by content hash), each named by a short key."""

    def __init__(self, size: int = THUMB_PX) -> None:
        self.size = size
        self.urls: dict[str, str] = {}
        self.unreadable = 0

    def keys(self, images: Sequence[ImageRef]) -> list[str]:
        """The keys of a row's images (its first MAX_IMAGES_PER_ROW), made where new; an unreadable image
        is counted and left out."""
        out = []
        for image in images[:MAX_IMAGES_PER_ROW]:
            try:
                key = image.sha256()[:16]
                if key not in self.urls:
                    self.urls[key] = thumbnail(image, self.size)
            except (OSError, ValueError):
                self.unreadable += 1
                continue
            out.append(key)
        return out
