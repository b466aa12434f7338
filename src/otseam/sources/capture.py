"""Finding captures (files, directories, standard input) and decoding one.

``expand`` turns the user's paths into capture sources, reporting what it
cannot open instead of raising. ``decode_capture`` reads one source with the
reader its first bytes call for (pcap or pcapng, gzip-compressed or not) and
returns the capture's facts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from otseam.decode.engine import FrameDecoder
from otseam.errors import CaptureError
from otseam.model.capture import CaptureFacts
from otseam.sources import pcap, pcapng
from otseam.sources.problems import Problem
from otseam.sources.stream import ByteStream

__all__ = ["CaptureSource", "decode_capture", "expand"]

STDIN = "-"
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


@dataclass(frozen=True, slots=True)
class CaptureSource:
    """One capture to read: a file, or standard input (``path`` is None)."""

    name: str
    path: Path | None
    size: int | None

    def open(self) -> BinaryIO:
        if self.path is None:
            return sys.stdin.buffer
        try:
            return open(self.path, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as exc:
            raise CaptureError(f"{self.name}: cannot open: {exc.strerror}") from exc


def expand(paths: Sequence[str]) -> Iterator[CaptureSource | Problem]:
    """Capture sources for files, directories (recursively, sorted) and '-'."""
    for text in paths:
        if text == STDIN:
            yield CaptureSource("<stdin>", None, None)
            continue
        path = Path(text)
        if path.is_dir():
            yield from _walk_directory(path)
        elif path.exists():
            yield _file_source(path)
        else:
            yield Problem(text, "no such file or directory", fatal=True)


def _walk_directory(root: Path) -> Iterator[CaptureSource | Problem]:
    problems: list[Problem] = []

    def on_error(exc: OSError) -> None:
        problems.append(Problem(str(exc.filename), f"cannot read directory: {exc.strerror}",
                                fatal=True))

    for folder, dirs, files in os.walk(root, onerror=on_error):
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):
                continue
            yield _file_source(Path(folder) / name)
    yield from problems


def _file_source(path: Path) -> CaptureSource | Problem:
    try:
        size = path.stat().st_size
    except OSError as exc:
        return Problem(str(path), f"cannot read: {exc.strerror}", fatal=True)
    if not os.access(path, os.R_OK):
        return Problem(str(path), "permission denied", fatal=True)
    return CaptureSource(str(path), path, size)


def decode_capture(source: CaptureSource, decoder: FrameDecoder,
                   on_progress: Callable[[int], None] | None = None) -> CaptureFacts:
    """Read one capture completely into a fresh ``CaptureFacts``.

    Raises ``CaptureError`` when the file is not a capture at all; damage
    inside a capture becomes ``Problem`` entries on the result instead.
    """
    raw = source.open()
    try:
        stream = ByteStream(raw, source.name)
        head = stream.window()
        magic = bytes(head[:4])
        head.release()
        if not magic:
            raise CaptureError(f"{source.name}: the file is empty")
        if magic in pcap.MAGICS:
            reader, file_format = pcap.read_pcap, "pcap"
        elif magic == PCAPNG_MAGIC:
            reader, file_format = pcapng.read_pcapng, "pcapng"
        else:
            raise CaptureError(
                f"{source.name}: not a pcap or pcapng capture (it starts with bytes "
                f"{magic.hex(' ')}); skipped"
            )
        if stream.compressed:
            file_format += ".gz"
        stream.on_progress = on_progress
        try:
            problems = reader(stream, decoder)
        except CaptureError as exc:  # damaged gzip data, read errors mid-file
            problems = [Problem(source.name, str(exc).removeprefix(f"{source.name}: "),
                                fatal=True)]
        stream.drain()
        return decoder.finish(
            name=source.name,
            content_hash=stream.content_hash(),
            size=stream.offset,
            file_format=file_format,
            linktypes=[],
            problems=problems,
        )
    finally:
        if source.path is not None:
            raw.close()

