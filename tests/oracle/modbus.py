"""Modbus/TCP request counts from tshark, plain and as otseam counts them.

tshark by default reassembles the TCP byte stream and skips retransmitted
data; otseam dissects every TCP segment on its own from its first byte.
``request_segments`` therefore asks tshark to dissect segment by segment
(no reassembly, no sequence analysis), and ``otseam_counts`` applies the
two further rules of otseam's Modbus counting, each documented in
docs/oracle.md ("Modbus function codes"):

- ``within_spec``: an ADU whose MBAP length is outside 2..254 (a PDU of
  1..253 bytes, Modbus Application Protocol V1.1b3 section 4.1) or that runs
  past the end of its segment is recorded as malformed, not counted, and
  ends the dissection of that segment.
- ``representative``: segments of one conversation and direction with the
  same length and the same bytes 2..9 (everything of the first MBAP header
  but the transaction id, the function code and two data bytes) form one
  group; the first segment of a group is dissected and its PDUs counted once
  per segment of the group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from tests.oracle.model import canonical_ip
from tests.oracle.tshark import run_tshark

__all__ = [
    "RequestCounts",
    "Segment",
    "otseam_counts",
    "per_segment",
    "reassembled",
    "representative",
    "request_segments",
    "retransmitted_frames",
    "within_spec",
]

PORT: Final = 502
MBAP_LENGTH: Final = range(2, 255)  # unit id + a PDU of 1..253 bytes
MBAP_PREFIX: Final = 6  # transaction id, protocol id, length
DIGEST_BYTES: Final = slice(2, 10)  # otseam's key_skip=2, key_len=8

PER_SEGMENT: Final = (
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
    "-o",
    "tcp.analyze_sequence_numbers:FALSE",
)

RequestCounts = Counter[tuple[str, str, int]]  # (client, server, function code)


@dataclass(frozen=True, slots=True)
class Segment:
    """One TCP segment to port 502 with payload, as tshark dissected it alone."""

    frame: int
    client: str
    client_port: int
    server: str
    length: int  # tcp.len
    head: bytes  # the payload's first 10 bytes
    adus: tuple[tuple[int, int], ...]  # (MBAP length, function code) per ADU

    @property
    def group(self) -> tuple[str, int, str, int, bytes]:
        return (self.client, self.client_port, self.server, self.length, self.head[DIGEST_BYTES])


@cache
def request_segments(tshark: str, capture: Path) -> tuple[Segment, ...]:
    """Every request segment with payload, tshark dissecting each on its own."""
    fields = ("frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport")
    fields += ("tcp.len", "tcp.payload", "mbtcp.len", "modbus.func_code")
    args = [*PER_SEGMENT, "-Y", f"tcp.dstport == {PORT} && tcp.len > 0", "-T", "fields"]
    args += ["-E", "occurrence=a", "-E", "aggregator=/s"]
    for name in fields:
        args += ["-e", name]
    done = run_tshark(tshark, capture, *args)
    return tuple(_segment(line.split("\t")) for line in done.stdout.splitlines())


def _segment(values: list[str]) -> Segment:
    number, src4, src6, dst4, dst6, sport, length, payload, lengths, codes = values
    adus = tuple(zip(_ints(lengths), _ints(codes), strict=True))
    return Segment(
        frame=int(number),
        client=canonical_ip((src4 or src6).split()[0]),
        client_port=int(sport.split()[0]),
        server=canonical_ip((dst4 or dst6).split()[0]),
        length=int(length.split()[0]),
        head=bytes.fromhex(payload.split()[0])[:10],
        adus=adus,
    )


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split()]


@cache
def reassembled(tshark: str, capture: Path) -> RequestCounts:
    """Request PDUs as tshark counts them by default: TCP reassembled,
    retransmitted data skipped, every PDU of a segment counted."""
    args = ["-Y", f"tcp.dstport == {PORT} && modbus.func_code", "-T", "fields"]
    args += ["-E", "occurrence=a", "-E", "aggregator=/s"]
    for name in ("ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "modbus.func_code"):
        args += ["-e", name]
    done = run_tshark(tshark, capture, *args)
    counts: RequestCounts = Counter()
    for line in done.stdout.splitlines():
        src4, src6, dst4, dst6, codes = line.split("\t")
        client = canonical_ip((src4 or src6).split()[0])
        server = canonical_ip((dst4 or dst6).split()[0])
        for code in _ints(codes):
            counts[(client, server, code)] += 1
    return counts


@cache
def retransmitted_frames(tshark: str, capture: Path) -> frozenset[int]:
    """Frames that tshark (default settings) flags as TCP retransmissions."""
    args = ["-Y", "tcp.analysis.retransmission", "-T", "fields", "-e", "frame.number"]
    done = run_tshark(tshark, capture, *args)
    return frozenset(int(v) for v in done.stdout.split())


SegmentCodes = Callable[[Segment], list[int]]


def all_codes(segment: Segment) -> list[int]:
    """Every function code tshark found in the segment."""
    return [code for _length, code in segment.adus]


def within_spec(segment: Segment) -> list[int]:
    """The function codes otseam counts in the segment (see module docstring)."""
    codes, position = [], 0
    for length, code in segment.adus:
        if length not in MBAP_LENGTH or position + MBAP_PREFIX + length > segment.length:
            break
        codes.append(code)
        position += MBAP_PREFIX + length
    return codes


def per_segment(segments: Iterable[Segment], codes: SegmentCodes = all_codes) -> RequestCounts:
    """Request counts with every segment dissected on its own."""
    counts: RequestCounts = Counter()
    for segment in segments:
        for code in codes(segment):
            counts[(segment.client, segment.server, code)] += 1
    return counts


def representative(segments: Iterable[Segment], codes: SegmentCodes = all_codes) -> RequestCounts:
    """Request counts with each group's first segment standing for all of it."""
    groups: dict[tuple[str, int, str, int, bytes], tuple[Segment, int]] = {}
    for segment in segments:
        first, count = groups.get(segment.group, (segment, 0))
        groups[segment.group] = (first, count + 1)
    counts: RequestCounts = Counter()
    for first, count in groups.values():
        for code in codes(first):
            counts[(first.client, first.server, code)] += count
    return counts


def otseam_counts(segments: Iterable[Segment]) -> RequestCounts:
    """What otseam should count: per segment, within spec, representative."""
    return representative(segments, within_spec)
