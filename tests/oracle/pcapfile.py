"""Small classic-pcap captures built by hand, and a record-header scan.

The corpus has no IP fragments and no reused TCP port pair, so the tests of
those documented differences write their own captures. Checksums are left
zero: neither tshark (by default) nor otseam checks them.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "ETHERNET_MIN",
    "Record",
    "RecordScan",
    "ethernet",
    "ipv4",
    "ipv4_fragments",
    "ipv6",
    "ipv6_fragments",
    "mac",
    "scan_records",
    "tcp",
    "udp",
    "write_pcap",
]

ETHERNET_MIN: Final = 60  # shortest frame on the wire, without the FCS
PCAP_HEADER: Final = struct.Struct("<IHHiIII")
RECORD_HEADER: Final = struct.Struct("<IIII")

# TCP flags (RFC 9293 section 3.1)
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def ethernet(src: str, dst: str, ethertype: int, payload: bytes) -> bytes:
    """An Ethernet II frame, padded to the 60-byte minimum like a NIC does."""
    frame = mac(dst) + mac(src) + struct.pack(">H", ethertype) + payload
    return frame.ljust(ETHERNET_MIN, b"\x00")


def ipv4(
    src: str,
    dst: str,
    proto: int,
    payload: bytes,
    ident: int = 1,
    more: bool = False,
    offset: int = 0,
) -> bytes:
    """An IPv4 packet; ``offset`` in bytes (a multiple of 8)."""
    flags = (0x2000 if more else 0) | (offset // 8)
    header = struct.pack(
        ">BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        ident,
        flags,
        64,
        proto,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    return header + payload


def ipv6(src: str, dst: str, next_header: int, payload: bytes) -> bytes:
    header = struct.pack(
        ">IHBB16s16s",
        6 << 28,
        len(payload),
        next_header,
        64,
        ipaddress.IPv6Address(src).packed,
        ipaddress.IPv6Address(dst).packed,
    )
    return header + payload


def tcp(sport: int, dport: int, flags: int, seq: int = 0, ack: int = 0, data: bytes = b"") -> bytes:
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data


def udp(sport: int, dport: int, data: bytes) -> bytes:
    return struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data


def ipv4_fragments(
    src: str, dst: str, proto: int, payload: bytes, ident: int, size: int
) -> list[bytes]:
    """``payload`` (a transport segment) cut into IPv4 fragments of ``size``
    bytes (a multiple of 8), first fragment first (RFC 791 section 2.3)."""
    pieces = [payload[i : i + size] for i in range(0, len(payload), size)]
    return [
        ipv4(src, dst, proto, piece, ident, more=i < len(pieces) - 1, offset=i * size)
        for i, piece in enumerate(pieces)
    ]


def ipv6_fragments(
    src: str, dst: str, next_header: int, payload: bytes, ident: int, size: int
) -> list[bytes]:
    """``payload`` cut into IPv6 fragments (RFC 8200 section 4.5)."""
    pieces = [payload[i : i + size] for i in range(0, len(payload), size)]
    packets = []
    for i, piece in enumerate(pieces):
        more = 1 if i < len(pieces) - 1 else 0
        header = struct.pack(">BBHI", next_header, 0, (i * size) | more, ident)
        packets.append(ipv6(src, dst, 44, header + piece))
    return packets


@dataclass(frozen=True, slots=True)
class Record:
    """One packet record: seconds since the epoch, the bytes captured, and the
    length on the wire when more was sent than captured."""

    time: float
    data: bytes
    wire_length: int | None = None


def write_pcap(path: Path, records: Iterable[Record], snaplen: int = 65535) -> Path:
    """A little-endian microsecond pcap of Ethernet frames."""
    out = bytearray(PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1))
    for record in records:
        seconds = int(record.time)
        micros = round((record.time - seconds) * 1_000_000)
        wire = record.wire_length or len(record.data)
        out += RECORD_HEADER.pack(seconds, micros, len(record.data), wire) + record.data
    path.write_bytes(bytes(out))
    return path


@dataclass(frozen=True, slots=True)
class RecordScan:
    """How a classic pcap file's records end: complete records, and the bytes
    of a last record cut short (0 when the file ends on a record boundary)."""

    complete: int
    trailing: int


def scan_records(path: Path) -> RecordScan:
    """Walk the record headers of a little- or big-endian classic pcap."""
    data = path.read_bytes()
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    header = struct.Struct(order + "IIII")
    pos, complete = PCAP_HEADER.size, 0
    while pos + header.size <= len(data):
        _sec, _frac, caplen, _wire = header.unpack_from(data, pos)
        if pos + header.size + caplen > len(data):
            break
        pos += header.size + caplen
        complete += 1
    return RecordScan(complete, len(data) - pos)
