"""Text files are UTF-8: one saved in another encoding (CP949 and EUC-KR are common for Korean data) is
refused naming its file, and the line and column of its first byte that is not UTF-8."""

from __future__ import annotations

import codecs
from pathlib import Path

from kobench.errors import BadInputError


def read_utf8(path: Path) -> str:
    """The file's text (a UTF-8 byte order mark dropped). OSError as reading raises it; BadInputError
    naming the line and column where the file is not UTF-8."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, data, exc) from None


def utf8_error(path: Path) -> BadInputError:
    """The error for a file a reader found is not UTF-8 (its own decoder's position is often a chunk's),
    naming the first line and column that is not (read again, only now)."""
    try:
        data = Path(path).read_bytes()
        data.decode("utf-8")
    except OSError as exc:
        return BadInputError(f"{path}: unreadable: {exc}")
    except UnicodeDecodeError as exc:
        return _not_utf8(path, data, exc)
    return BadInputError(f"{path}: not UTF-8 text")


def _not_utf8(path: Path, data: bytes, exc: UnicodeDecodeError) -> BadInputError:
    start = exc.start
    line = data.count(b"\n", 0, start) + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1  # in bytes: the line is not text to count in
    if line == 1 and data.startswith(codecs.BOM_UTF8):
        column -= len(codecs.BOM_UTF8)
    return BadInputError(
        f"{path}: line {line}, column {column}: not UTF-8 text (byte 0x{data[start]:02x}); save the file as "
        "UTF-8 (e.g. `iconv -f cp949 -t utf-8`, for a Korean file saved as CP949/EUC-KR)"
    )
