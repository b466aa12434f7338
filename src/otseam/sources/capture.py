"""Finding captures (files, directories, standard input) and decoding one.

``expand`` turns the user's paths into capture sources, reporting what it
cannot open instead of raising. ``decode_capture`` reads one source with the
reader its first bytes call for (pcap or pcapng, gzip-compressed or not) and
returns the capture's facts.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from otseam.decode.engine import FrameDecoder
from otseam.decode.layout import Counter
from otseam.errors import CaptureError
from otseam.model.capture import CaptureFacts
from otseam.sources import pcap, pcapng
from otseam.sources.problems import Problem, count
from otseam.sources.stream import ByteStream

__all__ = ["CaptureSource", "decode_capture", "expand"]

Reader = Callable[[ByteStream, FrameDecoder], list[Problem]]
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
            return open(self.path, "rb")
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
        elif path.exists() or path.is_symlink():
            yield _file_source(path, walked=False)
        else:
            yield Problem(text, "no such file or directory", fatal=True)


def _walk_directory(root: Path) -> Iterator[CaptureSource | Problem]:
    problems: list[Problem] = []

    def on_error(exc: OSError) -> None:
        problems.append(
            Problem(str(exc.filename), f"cannot read directory: {exc.strerror}", fatal=True)
        )

    found = 0
    for folder, dirs, files in os.walk(root, onerror=on_error):
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):
                continue
            found += 1
            yield _file_source(Path(folder) / name, walked=True)
    yield from problems
    if not found and not problems:
        yield Problem(str(root), "no files in this directory (hidden files are skipped)")


def _file_source(path: Path, walked: bool) -> CaptureSource | Problem:
    """A source for a regular file; a named pipe or device only when named
    explicitly (``<(zcat x.gz)``), since reading one found in a directory
    could wait forever."""
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ENOENT and path.is_symlink():
            target = os.readlink(path)
            return Problem(str(path), f"broken symbolic link (to {target}); skipped", fatal=True)
        return Problem(str(path), f"cannot read: {exc.strerror}", fatal=True)
    if walked and not stat.S_ISREG(info.st_mode):
        kind = _SPECIAL.get(stat.S_IFMT(info.st_mode), "a special file")
        return Problem(str(path), f"not a regular file ({kind}); skipped", fatal=True)
    if not os.access(path, os.R_OK):
        return Problem(str(path), "permission denied", fatal=True)
    return CaptureSource(str(path), path, info.st_size)


_SPECIAL: Final = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def decode_capture(
    source: CaptureSource,
    decoder: FrameDecoder,
    on_progress: Callable[[int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> CaptureFacts:
    """Read one capture completely into a fresh ``CaptureFacts``;
    ``on_progress`` is told the bytes read so far, ``on_stage`` when the read
    is over and the decoder adds up what the messages said.

    Raises ``CaptureError`` when the file is not a capture at all, or when
    nothing of it could be read; damage inside a capture becomes ``Problem``
    entries on the result instead.
    """
    raw = source.open()
    try:
        stream = ByteStream(raw, source.name)
        reader, file_format = _reader_for(stream)
        stream.on_progress = on_progress
        problems = reader(stream, decoder)
        stream.drain()
        if on_stage is not None:
            on_stage("adding up what the messages said")
        facts = decoder.finish(
            name=source.name,
            content_hash=stream.content_hash(),
            size=stream.offset,
            file_format=file_format,
            linktypes=[],
            problems=problems + _stream_problems(stream, decoder),
        )
        _refuse_if_nothing_read(facts)
        return facts
    finally:
        if source.path is not None:
            raw.close()


def _reader_for(stream: ByteStream) -> tuple[Reader, str]:
    """The reader and format name the first bytes call for."""
    head = stream.window()
    magic = bytes(head[:4])
    head.release()
    if not magic and stream.damage is not None:
        raise CaptureError(f"{stream.name}: {stream.damage}")
    if not magic:
        raise CaptureError(f"{stream.name}: the file is empty")
    suffix = ".gz" if stream.compressed else ""
    if magic in pcap.MAGICS:
        return pcap.read_pcap, "pcap" + suffix
    if magic == PCAPNG_MAGIC:
        return pcapng.read_pcapng, "pcapng" + suffix
    raise CaptureError(
        f"{stream.name}: not a pcap or pcapng capture (it starts with bytes "
        f"{magic.hex(' ')}); skipped"
    )


def _stream_problems(stream: ByteStream, decoder: FrameDecoder) -> list[Problem]:
    """Empty records, and a stream that ended early, whatever the format."""
    problems = []
    empty = decoder.walker.counters()[0][Counter.EMPTY]
    if empty:
        message = f"{count(empty, 'record')} empty (0 bytes captured); counted, nothing to decode"
        problems.append(Problem(stream.name, message))
    if stream.damage is not None:
        message = f"{stream.damage}; reading stopped there"
        problems.append(Problem(stream.name, message, stream.damage_offset, fatal=True))
    return problems


def _refuse_if_nothing_read(facts: CaptureFacts) -> None:
    """A capture whose damage left no packet to decode is not read at all: it
    is not stored, so that a repaired copy or a later otseam can ingest it."""
    fatal = next((p for p in facts.problems if p.fatal), None)
    if fatal is None:
        return
    skipped = sum(facts.counters[k] for k in ("empty", "unsupported_link", "bad_interface"))
    if facts.packets - skipped > 0:
        return
    where = f"at byte {fatal.offset}, " if fatal.offset else ""
    raise CaptureError(f"{facts.name}: {where}{fatal.message}")
