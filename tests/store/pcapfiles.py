"""Tiny classic-pcap rewriter and synthesiser for the store tests.

Only what the tests need: read a classic pcap (either byte order, micro- or
nanosecond timestamps), write it back with timestamps shifted and records
optionally dropped, and synthesise a large capture of many UDP conversations
quickly with numpy.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Record", "read_pcap", "shift_pcap", "synthesise_udp_pcap", "write_pcap"]

MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),
    b"\xa1\xb2\x3c\x4d": (">", 1),
}


@dataclass(frozen=True, slots=True)
class Record:
    """One pcap record: timestamp in nanoseconds, original length, frame bytes."""

    ts_ns: int
    orig_len: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Pcap:
    """A parsed classic pcap: its 24-byte header and records."""

    header: bytes
    order: str
    unit_ns: int  # nanoseconds per sub-second tick
    records: list[Record]


def read_pcap(path: Path) -> Pcap:
    """Parse a classic pcap file completely."""
    raw = path.read_bytes()
    order, unit_ns = MAGICS[raw[:4]]
    records = []
    offset = 24
    while offset + 16 <= len(raw):
        sec, sub, incl, orig = struct.unpack_from(order + "IIII", raw, offset)
        offset += 16
        data = raw[offset : offset + incl]
        if len(data) < incl:
            break
        offset += incl
        records.append(Record(sec * 1_000_000_000 + sub * unit_ns, orig, data))
    return Pcap(raw[:24], order, unit_ns, records)


def write_pcap(path: Path, pcap: Pcap) -> None:
    """Write ``pcap`` back as a classic pcap file."""
    parts = [pcap.header]
    ticks = 1_000_000_000 // pcap.unit_ns
    for record in pcap.records:
        sec, rest = divmod(record.ts_ns, 1_000_000_000)
        parts.append(
            struct.pack(
                pcap.order + "IIII",
                sec,
                rest // pcap.unit_ns % ticks,
                len(record.data),
                record.orig_len,
            )
        )
        parts.append(record.data)
    path.write_bytes(b"".join(parts))


def shift_pcap(
    source: Path,
    target: Path,
    delta_ns: int,
    keep: Callable[[int], bool] = lambda _index: True,
) -> Pcap:
    """Copy ``source`` to ``target`` with every timestamp moved by ``delta_ns``
    (a multiple of the file's tick) and only the records whose index ``keep``
    accepts; returns what was written."""
    original = read_pcap(source)
    if delta_ns % original.unit_ns:
        raise ValueError(f"shift {delta_ns} ns is not a multiple of the file's tick")
    shifted = Pcap(
        original.header,
        original.order,
        original.unit_ns,
        [
            Record(r.ts_ns + delta_ns, r.orig_len, r.data)
            for i, r in enumerate(original.records)
            if keep(i)
        ],
    )
    write_pcap(target, shifted)
    return shifted


def synthesise_udp_pcap(
    path: Path, *, packets: int, conversations: int, payload: int, start_s: int
) -> int:
    """Write an Ethernet/IPv4/UDP capture: ``packets`` frames from one host to
    ``conversations`` destinations in turn, one microsecond apart from
    ``start_s``; returns the file size."""
    frame_len = 14 + 20 + 8 + payload
    record = np.dtype(
        [
            ("sec", "<u4"),
            ("usec", "<u4"),
            ("incl", "<u4"),
            ("orig", "<u4"),
            ("eth", "u1", 14),
            ("ip", "u1", 16),  # up to the destination address
            ("dst", ">u4"),
            ("udp", "u1", 8),
            ("payload", "u1", payload),
        ]
    )
    eth = bytes.fromhex("02000000000b02000000000a0800")
    ip = struct.pack(
        ">BBHHHBBH4s", 0x45, 0, 20 + 8 + payload, 0, 0x4000, 64, 17, 0, bytes([10, 99, 0, 1])
    )
    udp = struct.pack(">HHHH", 55000, 31000, 8 + payload, 0)
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        chunk = 200_000
        for first in range(0, packets, chunk):
            n = min(chunk, packets - first)
            index = np.arange(first, first + n, dtype=np.int64)
            rows = np.zeros(n, dtype=record)
            rows["sec"] = start_s + index // 1_000_000
            rows["usec"] = index % 1_000_000
            rows["incl"] = frame_len
            rows["orig"] = frame_len
            rows["eth"] = np.frombuffer(eth, dtype=np.uint8)
            rows["ip"] = np.frombuffer(ip, dtype=np.uint8)
            # 10.100.0.0 upwards: one destination per conversation (the IP
            # checksum stays zero, "not computed", as capture offload leaves it)
            rows["dst"] = (10 << 24 | 100 << 16) + index % conversations
            rows["udp"] = np.frombuffer(udp, dtype=np.uint8)
            out.write(rows.tobytes())
    return path.stat().st_size
