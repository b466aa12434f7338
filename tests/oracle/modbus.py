"""Modbus/TCP request counts from tshark, plain and as otseam counts them.

tshark by default reassembles each TCP byte stream, skips retransmitted
data and counts every PDU it completes (``reassembled``). otseam reads a
direction of a conversation segment by segment while every segment holds
whole ADUs, and reassembles only from the first segment that does not
(``stream_starts``). ``otseam_counts`` combines two tshark runs,
one with reassembly and one dissecting each segment alone
(``request_segments``), by the rules documented in docs/oracle.md
("Modbus function codes"):

- sent once: per direction, in capture order, a segment that ends at or
  below the highest sequence number seen so far is a retransmission and is
  not counted; one that starts below it and ends beyond it (a
  retransmission topped up with new data) counts from its first new byte
  on (``sent_once``). tshark flags such a segment a retransmission and
  dissects none of it.
- aligned: a segment is aligned when it is a sequence of whole ADUs, each of
  at most 260 bytes (MBAP length at offset 4, plus 6; Modbus Messaging on
  TCP/IP Implementation Guide V1.0b section 3.1.3). Up to the first segment
  that is not, otseam counts per segment.
- stream: from the first unaligned segment on, otseam counts what tshark's
  reassembly completes in that direction.
- within_spec: either way, an ADU whose MBAP length is outside 2..254 (a PDU
  of 1..253 bytes, Modbus Application Protocol V1.1b3 section 4.1) is not
  counted (it is recorded as malformed), nor is anything after it in its
  segment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Final

from tests.oracle.model import canonical_ip
from tests.oracle.tshark import run_tshark

__all__ = [
    "Pdus",
    "RequestCounts",
    "Segment",
    "all_codes",
    "answered",
    "count",
    "otseam_counts",
    "per_segment",
    "reassembled",
    "reassembled_frames",
    "request_segments",
    "retransmitted_frames",
    "sent_once",
    "stream_starts",
    "within_spec",
]

PORT: Final = 502
MBAP_LENGTH: Final = range(2, 255)  # unit id + a PDU of 1..253 bytes
MBAP_PREFIX: Final = 6  # transaction id, protocol id, length
MAX_ADU: Final = 260
NEVER: Final = 1 << 62  # a frame number no capture reaches
SEQUENCE_SPACE: Final = 1 << 32

PER_SEGMENT: Final = (
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
    "-o",
    "tcp.analyze_sequence_numbers:FALSE",
)

RequestCounts = Counter[tuple[str, str, int]]  # (client, server, function code)
DirectionKey = tuple[str, int, str]  # (client, client port, server)


@dataclass(frozen=True, slots=True)
class Pdus:
    """The request ADUs tshark reports in one frame: (MBAP length, code),
    and their transaction ids."""

    frame: int
    client: str
    client_port: int
    server: str
    adus: tuple[tuple[int, int], ...]
    transactions: tuple[int, ...]

    @property
    def direction(self) -> DirectionKey:
        return (self.client, self.client_port, self.server)


@dataclass(frozen=True, slots=True)
class Segment:
    """A request segment with payload, as tshark dissects it on its own."""

    pdus: Pdus
    payload: bytes
    seq: int  # raw TCP sequence number of the first payload byte

    @property
    def end(self) -> int:
        """The sequence number just after the payload."""
        return (self.seq + len(self.payload)) % SEQUENCE_SPACE

    def after(self, sent: int) -> Segment:
        """What is new in the segment when its first ``sent`` bytes were
        sent before: the rest of the payload, the ADUs that start in it."""
        starts = list(accumulate((MBAP_PREFIX + length for length, _ in self.pdus.adus), initial=0))
        new = [i for i, start in enumerate(starts[:-1]) if start >= sent]
        pdus = replace(
            self.pdus,
            adus=tuple(self.pdus.adus[i] for i in new),
            transactions=tuple(self.pdus.transactions[i] for i in new),
        )
        return Segment(pdus, self.payload[sent:], (self.seq + sent) % SEQUENCE_SPACE)

    @property
    def aligned(self) -> bool:
        """Whole ADUs only, judged by the MBAP length field alone."""
        position, count = 0, 0
        while position < len(self.payload) and count < 64:
            if len(self.payload) - position < MBAP_PREFIX:
                return False
            length = int.from_bytes(self.payload[position + 4 : position + 6], "big")
            if MBAP_PREFIX + length > min(MAX_ADU, len(self.payload) - position):
                return False
            position, count = position + MBAP_PREFIX + length, count + 1
        return position == len(self.payload)


FIELDS: Final = ("frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport")
MODBUS_FIELDS: Final = ("mbtcp.len", "modbus.func_code", "mbtcp.trans_id")


def _tshark_fields(tshark: str, capture: Path, *args: str) -> list[list[str]]:
    fields = [*FIELDS, *MODBUS_FIELDS, "tcp.seq_raw", "tcp.payload"]
    options = [*args, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=/s"]
    for name in fields:
        options += ["-e", name]
    done = run_tshark(tshark, capture, *options)
    return [line.split("\t") for line in done.stdout.splitlines()]


def _pdus(values: list[str]) -> Pdus:
    number, src4, src6, dst4, dst6, sport, lengths, codes, transactions, _seq, _payload = values
    return Pdus(
        frame=int(number),
        client=canonical_ip((src4 or src6).split()[0]),
        client_port=int(sport.split()[0]),
        server=canonical_ip((dst4 or dst6).split()[0]),
        adus=tuple(zip(_ints(lengths), _ints(codes), strict=True)),
        transactions=tuple(_ints(transactions)),
    )


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split()]


@cache
def request_segments(tshark: str, capture: Path) -> tuple[Segment, ...]:
    """Every request segment with payload, tshark dissecting each on its own."""
    rows = _tshark_fields(tshark, capture, *PER_SEGMENT, "-Y", f"tcp.dstport == {PORT}")
    return tuple(
        Segment(_pdus(values), bytes.fromhex(values[-1].split()[0]), int(values[-2].split()[0]))
        for values in rows
        if values[-1]
    )


@cache
def reassembled_frames(tshark: str, capture: Path) -> tuple[Pdus, ...]:
    """Request ADUs as tshark finds them by default, by the frame that
    completes them: TCP reassembled, retransmitted data skipped."""
    rows = _tshark_fields(tshark, capture, "-Y", f"tcp.dstport == {PORT} && modbus.func_code")
    return tuple(_pdus(values) for values in rows)


def reassembled(tshark: str, capture: Path) -> RequestCounts:
    """tshark's default request count."""
    return count(reassembled_frames(tshark, capture), all_codes)


@cache
def retransmitted_frames(tshark: str, capture: Path) -> frozenset[int]:
    """Frames that tshark (default settings) flags as TCP retransmissions."""
    args = ["-Y", "tcp.analysis.retransmission", "-T", "fields", "-e", "frame.number"]
    done = run_tshark(tshark, capture, *args)
    return frozenset(int(v) for v in done.stdout.split())


@cache
def answered(tshark: str, capture: Path) -> frozenset[tuple[str, str, int]]:
    """(client, server, transaction id) of every response tshark finds."""
    rows = _tshark_fields(tshark, capture, "-Y", f"tcp.srcport == {PORT} && modbus.func_code")
    return frozenset(
        (pdus.server, pdus.client, transaction)  # a response flows server -> client
        for pdus in map(_pdus, rows)
        for transaction in pdus.transactions
    )


Codes = Callable[[Pdus], list[int]]


def all_codes(pdus: Pdus) -> list[int]:
    """Every function code tshark found in the frame."""
    return [code for _length, code in pdus.adus]


def within_spec(pdus: Pdus) -> list[int]:
    """The function codes up to the first ADU with an MBAP length out of spec."""
    codes = []
    for length, code in pdus.adus:
        if length not in MBAP_LENGTH:
            break
        codes.append(code)
    return codes


def count(frames: Iterable[Pdus], codes: Codes = all_codes) -> RequestCounts:
    """Requests per (client, server, function code) in ``frames``."""
    counts: RequestCounts = Counter()
    for pdus in frames:
        for code in codes(pdus):
            counts[(pdus.client, pdus.server, code)] += 1
    return counts


def per_segment(segments: Iterable[Segment], codes: Codes = all_codes) -> RequestCounts:
    """Requests with every segment dissected on its own."""
    return count((s.pdus for s in segments), codes)


def sent_once(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """The request segments otseam reads, in capture order: per direction, a
    segment ending at or below the highest end seen so far is dropped as a
    retransmission, one starting below it keeps only its new bytes.
    Sequence numbers compare modulo 2**32 (RFC 9293 section 3.4)."""
    highest: dict[DirectionKey, int] = {}
    kept = []
    for segment in segments:
        seen = highest.get(segment.pdus.direction)
        if seen is not None:
            if _ahead(segment.end, seen) <= 0:
                continue
            if _ahead(seen, segment.seq) > 0:
                segment = segment.after(_ahead(seen, segment.seq))
        highest[segment.pdus.direction] = segment.end
        kept.append(segment)
    return tuple(kept)


def _ahead(seq: int, other: int) -> int:
    """How far ``seq`` is beyond ``other``: a signed 32-bit difference."""
    half = SEQUENCE_SPACE // 2
    return (seq - other + half) % SEQUENCE_SPACE - half


def stream_starts(segments: Iterable[Segment]) -> dict[DirectionKey, int]:
    """Per direction, the first frame that is not aligned."""
    starts: dict[DirectionKey, int] = {}
    for segment in segments:
        if not segment.aligned:
            starts.setdefault(segment.pdus.direction, segment.pdus.frame)
    return starts


def otseam_counts(segments: tuple[Segment, ...], reassembled_pdus: Iterable[Pdus]) -> RequestCounts:
    """What otseam should count (module docstring): of the segments sent
    once, aligned ones one by one, the rest of a direction as tshark
    reassembles it."""
    kept = sent_once(segments)
    starts = stream_starts(kept)

    def streamed(pdus: Pdus) -> bool:
        return pdus.frame >= starts.get(pdus.direction, NEVER)

    aligned = per_segment((s for s in kept if not streamed(s.pdus)), within_spec)
    return aligned + count((p for p in reassembled_pdus if streamed(p)), within_spec)
