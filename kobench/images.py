"""Dataset images read without trusting them: one hostile image fails its own row, never the run.

A file is read only when its real path (every symlink followed) is a regular file inside the dataset
folder, or in the Hugging Face Hub cache's blob store, where a snapshot's symlinks (and those of an older
`local_dir` mirror) point. A FIFO, a device such as /dev/zero, a directory or a symlink out of the folder
is refused before a byte is read; at most `max_bytes` are read; an image of more than `max_pixels` is
refused from its header, before any decoding (PIL's DecompressionBombError included).

Each refusal is an ImageError whose text is the same for every image refused for the same reason: no
paths, sizes or memory addresses (PIL puts `<_io.BytesIO object at 0x...>` in its messages), so a run's
failure counts group the bad images and two runs of the same data agree.

The limits come from KOBENCH_MAX_IMAGE_BYTES and KOBENCH_MAX_IMAGE_PIXELS, read once on first use
(`set_limits` replaces them, for the Python API and tests).
"""

from __future__ import annotations

import functools
import io
import os
import re
import stat
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kobench.errors import BadInputError

if TYPE_CHECKING:
    from PIL import Image

ENV_MAX_BYTES = "KOBENCH_MAX_IMAGE_BYTES"
ENV_MAX_PIXELS = "KOBENCH_MAX_IMAGE_PIXELS"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PIXELS = 1024 * 1024 * 1024 // 4 // 3  # PIL's own Image.MAX_IMAGE_PIXELS (89,478,485)
HUB_REPO_KINDS = ("datasets--", "models--", "spaces--")  # how the Hub cache names a repository's folder

# Opened so that nothing blocks (a FIFO swapped in after the check) and the last component is no symlink
# (the real path has none).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_ADDRESS = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")


class ImageError(OSError, ValueError):
    """An image a row cannot use; its text is the row's failure reason. An OSError and a ValueError, so
    every place that already counts an unreadable image as a failed row counts this one too."""


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = DEFAULT_MAX_BYTES  # encoded bytes read from a file (or held in a dataset cell)
    max_pixels: int = DEFAULT_MAX_PIXELS  # width x height decoded

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ImageLimits:
        """The limits the environment sets (defaults where unset); a value that is not a positive whole
        number is refused naming the variable."""
        return cls(
            max_bytes=_positive(environ, ENV_MAX_BYTES, DEFAULT_MAX_BYTES),
            max_pixels=_positive(environ, ENV_MAX_PIXELS, DEFAULT_MAX_PIXELS),
        )


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip().replace("_", "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise BadInputError(
            f"${name}={environ[name]!r}: expected a positive whole number (default {default})"
        )
    return int(text)


_limits: ImageLimits | None = None
_lock = threading.Lock()


def limits() -> ImageLimits:
    """The limits in force: those `set_limits` gave, else the environment's (read on first use)."""
    global _limits
    with _lock:
        if _limits is None:
            _limits = ImageLimits.from_environment()
        return _limits


def set_limits(value: ImageLimits | None) -> None:
    """Replace the limits; None: read the environment again on next use."""
    global _limits
    with _lock:
        _limits = value


# --- reading -------------------------------------------------------------------------------------------


def encoded_bytes(data: bytes | None, path: str | None, root: str | None) -> bytes:
    """An image's encoded bytes: `data` as it is, or the file at `path` read as the module docstring says
    (`root`: the folder its real path must stay in, None for no such folder). ImageError when refused,
    and for data over the byte limit."""
    cap = limits().max_bytes
    if data is None:
        assert path is not None
        return read_file(path, root, cap)
    if len(data) > cap:
        raise ImageError(_too_many_bytes(cap))
    return data


def read_file(path: str, root: str | None, max_bytes: int) -> bytes:
    """The file's bytes, or ImageError: refused for where it really is or what it is before a byte is read."""
    real = _real_path(path)
    if root is not None and not allowed(real, root):
        raise ImageError("image refused: its real path (symlinks followed) leaves the dataset folder")
    try:
        _check_kind(os.stat(real).st_mode)
        fd = os.open(real, _OPEN_FLAGS)
    except ImageError:
        raise
    except OSError as exc:
        raise ImageError(_os_reason(exc)) from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        _check_kind(info.st_mode)  # the same file that was checked (nothing swapped in between)
        if info.st_size > max_bytes:
            raise ImageError(_too_many_bytes(max_bytes))
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while read
        raise ImageError(_too_many_bytes(max_bytes))
    return data


def _real_path(path: str) -> str:
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:
        raise ImageError("image file not found") from None
    except OSError as exc:
        raise ImageError(_os_reason(exc, "image path cannot be resolved")) from None


def _check_kind(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    kind = next((name for test, name in kinds.items() if test(mode)), "not a file")
    raise ImageError(f"image refused: not a regular file ({kind})")


def _os_reason(exc: OSError, what: str = "image file cannot be read") -> str:
    return f"{what} ({exc.strerror or type(exc).__name__})"


def _too_many_bytes(cap: int) -> str:
    return f"image refused: larger than {cap:,} bytes (${ENV_MAX_BYTES})"


def _too_many_pixels(cap: int) -> str:
    return f"image refused: more than {cap:,} pixels (${ENV_MAX_PIXELS})"


def allowed(real: str, root: str) -> bool:
    """Whether the real path `real` may be read for a dataset in `root`: inside the folder's own real
    path, or a blob of the Hub cache (`<cache>/<kind>--<owner>--<name>/blobs/<hash>`) when the folder is
    a snapshot of that repository or the blob lies in this machine's Hub cache."""
    folder = _real_folder(root)
    if _inside(real, folder):
        return True
    blobs = os.path.dirname(real)
    repo = os.path.dirname(blobs)
    if os.path.basename(blobs) != "blobs" or not os.path.basename(repo).startswith(HUB_REPO_KINDS):
        return False
    return _inside(folder, os.path.join(repo, "snapshots")) or os.path.dirname(repo) == hub_cache()


@functools.lru_cache(maxsize=64)
def _real_folder(root: str) -> str:
    """A dataset folder's real path, resolved once per folder (every image of a dataset shares it)."""
    return os.path.realpath(root)


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def hub_cache() -> str:
    """The real path of this machine's Hugging Face Hub cache (HF_HUB_CACHE, else HF_HOME/hub, else
    ~/.cache/huggingface/hub), as huggingface_hub resolves it."""
    try:
        from huggingface_hub import constants

        folder = constants.HF_HUB_CACHE
    except ImportError:
        home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~/.cache"), "huggingface")
        folder = os.environ.get("HF_HUB_CACHE") or os.path.join(home, "hub")
    return os.path.realpath(os.path.expanduser(folder))


# --- decoding ------------------------------------------------------------------------------------------


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone; ImageError for data that is no image or over the pixel
    limit."""
    with open_checked(data) as img:
        return img.size


def decode_rgb(data: bytes) -> Image.Image:
    """The image decoded to RGB; ImageError for anything unreadable or over the pixel limit."""
    with open_checked(data) as img:
        try:
            img.load()
            return img.convert("RGB")
        except Exception as exc:  # whatever a hostile file makes a decoder raise fails its row only
            raise ImageError(decode_reason(exc)) from None


def check_decodes(data: bytes) -> None:
    """ImageError, with decode_rgb's reason, for an image whose pixels would not decode (or over the pixel
    limit). Cheap where the file's own structure shows it whole: a PNG whose chunks and checksums verify
    through its end, a JPEG ending in its end-of-image marker. Anything else is decoded in full, so the
    verdict is always decode_rgb's (the one the local adapters give)."""
    with open_checked(data) as img:
        if img.format == "PNG":
            try:
                img.verify()
                return
            except Exception:  # a verifier stricter than the decoder: the decoder decides
                pass
        elif img.format == "JPEG" and data.rstrip(b"\0").endswith(b"\xff\xd9"):
            return
    decode_rgb(data).close()


def open_checked(data: bytes) -> Image.Image:
    """The image opened (header read, not decoded), its size within the pixel limit; close it after use.
    ImageError for data that is no image or over the limit."""
    from PIL import Image, UnidentifiedImageError

    cap = limits().max_pixels
    _let_kobench_check(Image, cap)
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError("not an image (no image format recognised)") from None
    except Exception as exc:  # a header a plugin cannot parse (or PIL's own bomb limit)
        raise ImageError(_decode_reason(exc, cap, "unreadable image header")) from None
    width, height = img.size
    if width * height > cap:
        img.close()
        raise ImageError(_too_many_pixels(cap))
    return img


def decode_reason(exc: Exception) -> str:
    """The stable reason for an exception a decoder raised."""
    return _decode_reason(exc, limits().max_pixels)


def _decode_reason(exc: Exception, cap: int, what: str = "image data cannot be decoded") -> str:
    from PIL import Image

    if isinstance(exc, Image.DecompressionBombError):
        return _too_many_pixels(cap)
    if str(exc).startswith("image file is truncated"):
        return "image data is truncated"
    return f"{what} ({describe_error(exc)})"


def describe_error(exc: BaseException) -> str:
    """'Type: message' without the object addresses PIL puts in its messages, so that a reason stays the
    same from run to run."""
    message = _ADDRESS.sub("<data>", str(exc)).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


_pil_ready = False


def _let_kobench_check(Image: object, cap: int) -> None:
    """PIL warns above its MAX_IMAGE_PIXELS and raises above twice that; kobench refuses above its own
    limit itself, so PIL's warning is silenced and its limit raised to kobench's where that is higher."""
    global _pil_ready
    current = Image.MAX_IMAGE_PIXELS  # type: ignore[attr-defined]
    if current is not None and current < cap:
        Image.MAX_IMAGE_PIXELS = cap  # type: ignore[attr-defined]
    if not _pil_ready:
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)  # type: ignore[attr-defined]
        _pil_ready = True
