"""Reading a capture as a sequence of byte windows, with flat memory.

A ``ByteStream`` reads a file, a gzip file or standard input into one reused
buffer. The decoder takes what it can frame from ``window()``, says how much it
used with ``advance()``, and the stream slides the rest to the front and refills.
The content hash (BLAKE3 of the uncompressed bytes) is computed on the way, so
the same capture gzipped or not is the same capture. A damaged gzip stream or a
read error ends the stream early and is kept in ``damage``: what came before
it is still read.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO, Final

import blake3

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["CHUNK_SIZE", "ByteStream"]

CHUNK_SIZE: Final = 8 * 1024 * 1024


class ByteStream:
    """A sliding window over a capture's (uncompressed) bytes."""

    def __init__(self, raw: BinaryIO, name: str, chunk_size: int = CHUNK_SIZE) -> None:
        self.name = name
        self._raw = raw
        head, self._source = _peek(raw, 2)
        if head == b"\x1f\x8b":
            self._source = gzip.GzipFile(fileobj=self._source, mode="rb")  # type: ignore[assignment]
            self.compressed = True
        else:
            self.compressed = False
        self._buf = bytearray(chunk_size)
        self._start = 0  # first unconsumed byte in _buf
        self._end = 0  # end of valid data in _buf
        self.offset = 0  # file offset of _buf[_start]
        self.eof = False
        self.damage: str | None = None  # why the stream ended early, if it did
        self.damage_offset = 0  # capture bytes read before that happened
        self._hash = blake3.blake3(max_threads=1)
        self.on_progress: Callable[[int], None] | None = None

    @property
    def compressed_position(self) -> int:
        """How far into the underlying (possibly compressed) file we are."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.offset + (self._end - self._start)

    def window(self) -> memoryview:
        """The unconsumed bytes, refilled to a full buffer where possible."""
        if not self.eof and self._end - self._start < len(self._buf) // 2:
            self._fill()
            if self.on_progress is not None:
                self.on_progress(self.compressed_position)
        return memoryview(self._buf)[self._start : self._end]

    def more(self) -> None:
        """Make the window longer: the caller cannot use what it holds. The
        buffer grows when it is full, so a record longer than it still fits."""
        if self.eof:
            return
        if self._start == 0 and self._end == len(self._buf):
            self._grow(len(self._buf))
        self._fill()

    def advance(self, n: int) -> None:
        """Mark ``n`` bytes of the window as used."""
        self._start += n
        self.offset += n

    def read_exact(self, n: int) -> bytes | None:
        """The next ``n`` bytes (consumed), or None if the stream ends first."""
        if n > len(self._buf):
            self._grow(n)
        while self._end - self._start < n and not self.eof:
            self._fill()
        if self._end - self._start < n:
            return None
        data = bytes(self._buf[self._start : self._start + n])
        self.advance(n)
        return data

    def skip(self, n: int) -> bool:
        """Skip ``n`` bytes; False if the stream ends first."""
        while n > 0:
            avail = self._end - self._start
            if avail == 0:
                if self.eof:
                    return False
                self._fill()
                continue
            step = min(avail, n)
            self.advance(step)
            n -= step
        return True

    def remaining_in_window(self) -> int:
        return self._end - self._start

    def drain(self) -> int:
        """Read to the end (hashing it) and return how many bytes were left."""
        left = self._end - self._start
        self.advance(left)
        while not self.eof:
            self._fill()
            left += self._end - self._start
            self.advance(self._end - self._start)
        return left

    def content_hash(self) -> str:
        """BLAKE3 of every byte read so far; call after the stream is drained."""
        return "blake3:" + self._hash.hexdigest()

    def _grow(self, n: int) -> None:
        keep = self._buf[self._start : self._end]
        self._buf = bytearray(max(n, len(self._buf)) * 2)
        self._buf[: len(keep)] = keep
        self._end = len(keep)
        self._start = 0

    def _fill(self) -> None:
        if self._start:
            left = self._end - self._start
            self._buf[:left] = self._buf[self._start : self._end]
            self._start, self._end = 0, left
        view = memoryview(self._buf)
        try:
            while self._end < len(self._buf):
                n = self._read(view[self._end :])
                if not n:
                    self.eof = True
                    break
                self._hash.update(view[self._end : self._end + n])
                self._end += n
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            self._stop(f"the gzip data is damaged ({exc})")
        except OSError as exc:
            self._stop(f"read error ({exc.strerror or exc})")
        finally:
            view.release()

    def _read(self, into: memoryview) -> int:
        # A gzip stream is read one decompressed piece at a time: a multi-piece
        # readinto that fails part-way loses the pieces it had already copied.
        if self.compressed:
            return self._source.readinto1(into)  # type: ignore[attr-defined, no-any-return]
        return self._source.readinto(into)  # type: ignore[attr-defined, no-any-return]

    def _stop(self, why: str) -> None:
        self.eof = True
        self.damage = why
        self.damage_offset = self.offset + (self._end - self._start)


def _peek(raw: BinaryIO, n: int) -> tuple[bytes, BinaryIO]:
    """The first ``n`` bytes, and a stream that still starts with them, even
    on a pipe whose writer has sent fewer than ``n`` bytes so far."""
    if isinstance(raw, io.BufferedReader):
        head = raw.peek(n)[:n]
        if len(head) >= n:
            return head, raw
        head = raw.read(n)  # waits for n bytes or the end
        return head, io.BufferedReader(_Prefixed(head, raw))
    pos = raw.tell()
    head = raw.read(n)
    raw.seek(pos)
    return head, raw


class _Prefixed(io.RawIOBase):
    """``head`` and then the rest of ``rest``: bytes read ahead, given back."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, into: WriteableBuffer) -> int:
        view = memoryview(into).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._rest.readinto(view)  # type: ignore[attr-defined, no-any-return]
