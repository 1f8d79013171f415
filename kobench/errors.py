"""Errors that end a command, each with the exit code DESIGN.md fixes for every command."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
EXIT_NOT_COMPARABLE = 3
EXIT_BAD_INPUT = 4
EXIT_INCOMPLETE = 5


class KobenchError(Exception):
    """Base error; `exit_code` is what the CLI returns."""

    exit_code = EXIT_BAD_INPUT


class BadInputError(KobenchError):
    """Bad input found before any work started (unknown task, bad YAML, missing column, unknown adapter)."""

    exit_code = EXIT_BAD_INPUT


class NotComparableError(KobenchError):
    """Existing results were made with other settings (or cannot be compared)."""

    exit_code = EXIT_NOT_COMPARABLE


class IncompleteRunError(KobenchError):
    """The run finished but is incomplete: interrupted, or too many failed rows."""

    exit_code = EXIT_INCOMPLETE


def where(file: object | None = None, row: object | None = None, field: object | None = None) -> str:
    """'file X, row 3, field "image"': the location prefix every input error message starts with."""
    parts = []
    if file is not None:
        parts.append(f"{file}")
    if row is not None:
        parts.append(f"row {row}")
    if field is not None:
        parts.append(f"field {field!r}")
    return ", ".join(parts)
