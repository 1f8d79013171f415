"""A progress bar with ETA on stderr (rich); silent when turned off."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any


class Progress(AbstractContextManager):
    def __init__(self, enabled: bool = True):
        self._bar: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=Console(stderr=True),
            )

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def add(self, description: str, total: int) -> int | None:
        return self._bar.add_task(description, total=total, note="") if self._bar is not None else None

    def advance(self, handle: int | None, n: int, note: str = "") -> None:
        if self._bar is not None and handle is not None:
            self._bar.update(handle, advance=n, note=note)
