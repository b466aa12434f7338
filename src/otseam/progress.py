"""A progress bar for ingest on a terminal: bytes, MB/s and packets/s, then
the stage the ingest is at once the capture is read (storing, rebuilding
assets)."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["RichProgress"]

REFRESH_SECONDS = 0.25


class RichProgress:
    """Implements ``otseam.ingest.IngestProgress`` with a Rich progress bar."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[pps]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            auto_refresh=False,  # a refresh thread would contend for the GIL
        )
        self._progress.start()
        self._task: TaskID | None = None
        self._started = 0.0
        self._drawn = 0.0
        self._step = ""

    def start(self, name: str, size: int | None) -> None:
        label = name if len(name) <= 40 else "…" + name[-39:]
        self._task = self._progress.add_task(label, total=size, pps="")
        self._started = time.perf_counter()

    def advance(self, position: int, packets: int) -> None:
        if self._task is None:
            return
        elapsed = max(time.perf_counter() - self._started, 1e-6)
        self._progress.update(
            self._task, completed=position, pps=f"{packets / elapsed / 1e6:.2f} M packets/s"
        )
        now = time.perf_counter()
        if now - self._drawn >= REFRESH_SECONDS:
            self._progress.refresh()
            self._drawn = now

    def stage(self, text: str) -> None:
        """The read is done; show what the ingest does now (storing,
        rebuilding assets), which takes a while on a large capture. A new
        step is drawn at once; a step's own counts (``step: n rows``) at
        most every ``REFRESH_SECONDS``."""
        if self._task is None:
            return
        step = text.split(":", 1)[0]
        self._progress.update(self._task, pps=text)
        now = time.perf_counter()
        if step != self._step or now - self._drawn >= REFRESH_SECONDS:
            self._progress.refresh()
            self._drawn = now
        self._step = step

    def finish(self, name: str) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None

    def close(self) -> None:
        self._progress.stop()
