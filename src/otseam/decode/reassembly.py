"""TCP reassembly for the conversations that need it, and only those.

Most industrial TCP traffic carries one or more whole PDUs per segment; the
walker checks that against the protocol's framing and dissects such segments
on their own. When a direction stops being aligned (a PDU split across
segments, a segment starting mid-PDU), the walker hands every later segment
of that direction to Python as a stream event, and a ``TcpStream`` puts them
back in order (retransmissions and overlaps trimmed, out-of-order segments
held within a bounded window) and cuts the bytes into PDUs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = ["Framing", "TcpStream"]

MAX_PENDING_SEGMENTS: Final = 64
MAX_BUFFERED_BYTES: Final = 1 << 20
SEQ_MASK: Final = (1 << 32) - 1  # x & SEQ_MASK == _unsigned(x)


@dataclass(frozen=True, slots=True)
class Framing:
    """How PDUs are delimited on a byte stream: a length field at
    ``len_offset`` of ``len_size`` bytes, plus ``adjust``, is the PDU's total
    length; ``magic`` (if set) is the PDU's first byte; a length above
    ``max_length`` means the bytes are not a PDU start."""

    len_offset: int
    len_size: int
    big_endian: bool = True
    adjust: int = 0
    magic: int | None = None
    max_length: int = 0  # the longest PDU the protocol allows; 0: no limit

    @property
    def header(self) -> int:
        return self.len_offset + self.len_size

    def pdu_length(self, data: bytes | bytearray, pos: int = 0) -> int | None:
        """Total length of the PDU starting at ``pos``; None if the bytes
        there cannot start a PDU; 0 if more bytes are needed to tell."""
        header = self.len_offset + self.len_size  # ``header``, without a property call
        if len(data) - pos < header:
            return 0
        if self.magic is not None and data[pos] != self.magic:
            return None
        start = pos + self.len_offset
        raw = data[start : start + self.len_size]
        total = int.from_bytes(raw, "big" if self.big_endian else "little") + self.adjust
        if total < header or (self.max_length and total > self.max_length):
            return None
        return total


@dataclass(slots=True)
class TcpStream:
    """One direction of one TCP conversation, rebuilt from its segments.

    Segments missing from the capture (a SPAN port drops them, the capture
    started mid-conversation) must not stall the stream: when a later
    segment holds whole PDUs, or starts one while nothing is half-assembled,
    the gap is skipped at once; otherwise the stream waits for at most
    ``MAX_PENDING_SEGMENTS``.
    A late segment that fills a skipped gap is still read on its own.
    """

    framing: Framing
    next_seq: int | None = None
    pending: dict[int, bytes] = field(default_factory=dict)
    buffer: bytearray = field(default_factory=bytearray)
    gaps: list[tuple[int, int]] = field(default_factory=list)
    lost: int = 0  # bytes never captured
    skipped: int = 0  # bytes that started no PDU (damage, resynchronisation)

    def add(self, seq: int, data: bytes) -> list[bytes]:
        """Take one segment; return the PDUs it completed, in order."""
        if self.next_seq is None:
            self.next_seq = seq
        offset = _signed(seq - self.next_seq)
        if offset < 0:  # retransmission, overlap, or a late segment
            if -offset < len(data):
                data, offset = data[-offset:], 0
            elif self._in_gap(seq, len(data)):
                return self._standalone(data)
            else:
                return []
        if offset > 0:
            starts_pdu = self.framing.pdu_length(data) not in (None, 0)
            if (starts_pdu and not self.buffer) or self._aligned(data):
                self._skip_to(seq)
            else:
                self.pending[seq] = data
                if len(self.pending) <= MAX_PENDING_SEGMENTS:
                    return []
                self._skip_to(min(self.pending, key=lambda s: _unsigned(s - (self.next_seq or 0))))
                data = self.pending.pop(self.next_seq or 0, b"")
        if self.buffer and self._standalone(data) and self._aligned(data):
            # Leftover bytes before a segment of whole PDUs are junk, not the
            # head of a PDU this segment continues.
            self.skipped += len(self.buffer)
            self.buffer.clear()
        self._append(data)
        self._drain_pending()
        return self._pdus()

    def _aligned(self, data: bytes) -> bool:
        return sum(len(p) for p in self._standalone(data)) == len(data)

    def _append(self, data: bytes) -> None:
        assert self.next_seq is not None
        self.buffer += data
        self.next_seq = _unsigned(self.next_seq + len(data))
        if len(self.buffer) > MAX_BUFFERED_BYTES:
            self.skipped += len(self.buffer)
            self.buffer.clear()

    def _drain_pending(self) -> None:
        while self.pending:
            assert self.next_seq is not None
            ready = [s for s in self.pending if _signed(s - self.next_seq) <= 0]
            if not ready:
                return
            seq = ready[0]
            data = self.pending.pop(seq)
            rel = _signed(seq - self.next_seq)
            if -rel < len(data):
                self._append(data[-rel:])

    def _skip_to(self, seq: int) -> None:
        """Segments before ``seq`` never came: continue after the gap."""
        assert self.next_seq is not None
        self.lost += len(self.buffer) + _unsigned(seq - self.next_seq)
        self.gaps = [*self.gaps[-15:], (self.next_seq, seq)]
        self.buffer.clear()
        self.next_seq = seq

    def _in_gap(self, seq: int, length: int) -> bool:
        # a loop, not any() over a generator: most segments of a stream
        # that repeats (a replayed capture) come here
        for start, end in self.gaps:
            span = (end - start) & SEQ_MASK
            if (seq - start) & SEQ_MASK < span and (seq + length - start) & SEQ_MASK <= span:
                return True
        return False

    def _standalone(self, data: bytes) -> list[bytes]:
        """PDUs of a segment read on its own (one that filled a skipped gap)."""
        found, pos = [], 0
        while pos < len(data):
            total = self.framing.pdu_length(data, pos)
            if not total or pos + total > len(data):
                break
            found.append(data[pos : pos + total])
            pos += total
        return found

    def _pdus(self) -> list[bytes]:
        found: list[bytes] = []
        while self.buffer:
            total = self.framing.pdu_length(self.buffer)
            if total is None:
                self._resync()
                continue
            if total == 0 or total > len(self.buffer):
                break
            found.append(bytes(self.buffer[:total]))
            del self.buffer[:total]
        return found

    def _resync(self) -> None:
        """Drop bytes until something that can start a PDU."""
        magic = self.framing.magic
        cut = self.buffer.find(bytes([magic]), 1) if magic is not None else -1
        cut = len(self.buffer) if cut < 0 else cut
        self.skipped += cut
        del self.buffer[:cut]


def _signed(delta: int) -> int:
    """A sequence-number difference in (-2**31, 2**31]."""
    return (delta + (1 << 31)) % (1 << 32) - (1 << 31)


def _unsigned(value: int) -> int:
    return value % (1 << 32)
