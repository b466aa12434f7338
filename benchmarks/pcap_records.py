"""Minimal capture record reader and writer for the ingest benchmark.

Reads classic pcap (either byte order, micro- or nanosecond timestamps) and
pcapng (SHB, IDB, EPB, SPB, OPB; every section keeps its own byte order and
every interface its own link type and timestamp resolution). Only Ethernet
(linktype 1) packets are returned. Anything the reader cannot walk cleanly
raises `CaptureDamaged` so the caller can skip the file with a note.

Format references: the pcap file format and pcapng drafts published by the
IETF OPSAWG (draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

LINKTYPE_ETHERNET = 1
# libpcap's MAXIMUM_SNAPLEN: a larger captured length means a broken record.
MAX_CAPLEN = 262_144

PCAP_GLOBAL_HEADER = struct.Struct("<IHHiIII")
PCAP_RECORD_HEADER = struct.Struct("<IIII")

_PCAP_MAGICS: dict[bytes, tuple[str, int]] = {
    # first four bytes on disk -> (struct byte order, fraction units per second)
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_BLOCK_IDB, _BLOCK_OPB, _BLOCK_SPB, _BLOCK_EPB = 1, 2, 3, 6


class CaptureDamaged(Exception):
    """The file is truncated, inconsistent or not a capture; `str()` says where."""


class NotEthernet(Exception):
    """The file holds no Ethernet interface; `str()` names the link types it has."""


@dataclass(frozen=True, slots=True)
class Packet:
    """One captured Ethernet frame; `ts_us` is microseconds since the epoch."""

    ts_us: int
    orig_len: int
    data: bytes


@dataclass(slots=True)
class _Interface:
    linktype: int
    snaplen: int
    units_per_s: int = 1_000_000
    offset_s: int = 0


def read_ethernet_packets(path: Path) -> tuple[list[Packet], int]:
    """Return the Ethernet packets of `path` and how many non-Ethernet ones were skipped."""
    raw = path.read_bytes()
    magic = raw[:4]
    if magic in _PCAP_MAGICS:
        return _read_pcap(raw)
    if magic == _PCAPNG_SHB:
        return _read_pcapng(raw)
    raise CaptureDamaged(f"unknown magic {magic.hex() or '(empty file)'}: not pcap or pcapng")


def _read_pcap(raw: bytes) -> tuple[list[Packet], int]:
    order, units = _PCAP_MAGICS[raw[:4]]
    if len(raw) < 24:
        raise CaptureDamaged("global header truncated")
    linktype = struct.unpack_from(order + "I", raw, 20)[0] & 0xFFFF
    if linktype != LINKTYPE_ETHERNET:
        raise NotEthernet(f"linktype {linktype}")
    record = struct.Struct(order + "IIII")
    packets: list[Packet] = []
    pos, end = 24, len(raw)
    while pos < end:
        if pos + 16 > end:
            raise CaptureDamaged(f"record header truncated at offset {pos}")
        sec, frac, caplen, origlen = record.unpack_from(raw, pos)
        if caplen > MAX_CAPLEN:
            raise CaptureDamaged(f"captured length {caplen} at offset {pos} is implausible")
        if pos + 16 + caplen > end:
            raise CaptureDamaged(f"packet data truncated at offset {pos}")
        ts_us = sec * 1_000_000 + frac * 1_000_000 // units
        packets.append(Packet(ts_us, origlen, raw[pos + 16 : pos + 16 + caplen]))
        pos += 16 + caplen
    return packets, 0


def _units_per_second(tsresol: int) -> int:
    # High bit set: negative power of two; otherwise negative power of ten.
    return 1 << (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol


def _parse_idb(raw: bytes, pos: int, length: int, order: str) -> _Interface:
    if length < 20:
        raise CaptureDamaged(f"interface block at offset {pos} too short")
    linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", raw, pos + 8)
    iface = _Interface(linktype, snaplen)
    opt, opt_end = pos + 16, pos + length - 4
    while opt + 4 <= opt_end:
        code, olen = struct.unpack_from(order + "HH", raw, opt)
        if code == 0:
            break
        value = raw[opt + 4 : opt + 4 + olen]
        if code == 9 and olen >= 1:  # if_tsresol
            iface.units_per_s = _units_per_second(value[0])
        elif code == 14 and olen >= 8:  # if_tsoffset, seconds
            iface.offset_s = struct.unpack(order + "q", value[:8])[0]
        opt += 4 + olen + (-olen % 4)
    return iface


def _pcapng_blocks(raw: bytes) -> Iterator[tuple[int, int, int, str]]:
    """Yield (block type, offset, total length, byte order) after validating framing."""
    pos, end, order = 0, len(raw), "<"
    while pos < end:
        if pos + 12 > end:
            raise CaptureDamaged(f"block header truncated at offset {pos}")
        if raw[pos : pos + 4] == _PCAPNG_SHB:
            bom = raw[pos + 8 : pos + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                raise CaptureDamaged(f"section header at offset {pos} has a bad byte-order magic")
        btype, length = struct.unpack_from(order + "II", raw, pos)
        if length < 12 or length % 4 or pos + length > end:
            raise CaptureDamaged(f"block at offset {pos} has a bad length {length}")
        if struct.unpack_from(order + "I", raw, pos + length - 4)[0] != length:
            raise CaptureDamaged(f"block at offset {pos}: trailing length does not match")
        yield btype, pos, length, order
        pos += length


@dataclass(frozen=True, slots=True)
class _PacketBlock:
    if_id: int
    ticks: int | None  # None for a simple packet block, which has no timestamp
    caplen: int
    origlen: int
    data_at: int


def _packet_block(
    btype: int, raw: bytes, pos: int, length: int, order: str, interfaces: list[_Interface]
) -> _PacketBlock | None:
    """Decode the fixed part of an EPB, OPB or SPB; None for any other block type."""
    if btype in (_BLOCK_EPB, _BLOCK_OPB):
        if length < 32:
            raise CaptureDamaged(f"packet block at offset {pos} too short")
        fmt = order + ("5I" if btype == _BLOCK_EPB else "HxxIIII")
        if_id, ts_hi, ts_lo, caplen, origlen = struct.unpack_from(fmt, raw, pos + 8)
        block = _PacketBlock(if_id, (ts_hi << 32) | ts_lo, caplen, origlen, pos + 28)
    elif btype == _BLOCK_SPB:
        if length < 16 or not interfaces:
            raise CaptureDamaged(f"simple packet block at offset {pos} without interface")
        origlen = struct.unpack_from(order + "I", raw, pos + 8)[0]
        caplen = min(origlen, length - 16, interfaces[0].snaplen or origlen)
        block = _PacketBlock(0, None, caplen, origlen, pos + 12)
    else:
        return None  # name resolution, statistics, decryption secrets, custom blocks
    if block.if_id >= len(interfaces):
        raise CaptureDamaged(
            f"packet block at offset {pos} names undeclared interface {block.if_id}"
        )
    if block.caplen > MAX_CAPLEN or block.data_at + block.caplen > pos + length - 4:
        raise CaptureDamaged(
            f"packet block at offset {pos}: captured length {block.caplen} overruns"
        )
    return block


def _read_pcapng(raw: bytes) -> tuple[list[Packet], int]:
    packets: list[Packet] = []
    interfaces: list[_Interface] = []  # of the current section
    linktypes_seen: set[int] = set()
    skipped = 0
    ts_us = 0
    for btype, pos, length, order in _pcapng_blocks(raw):
        if btype == 0x0A0D0D0A:
            interfaces = []
        elif btype == _BLOCK_IDB:
            interfaces.append(_parse_idb(raw, pos, length, order))
            linktypes_seen.add(interfaces[-1].linktype)
        elif block := _packet_block(btype, raw, pos, length, order, interfaces):
            iface = interfaces[block.if_id]
            if iface.linktype != LINKTYPE_ETHERNET:
                skipped += 1
                continue
            if block.ticks is not None:  # else reuse the previous timestamp
                ts_us = iface.offset_s * 1_000_000 + block.ticks * 1_000_000 // iface.units_per_s
            data = raw[block.data_at : block.data_at + block.caplen]
            packets.append(Packet(ts_us, block.origlen, data))
    if linktypes_seen and LINKTYPE_ETHERNET not in linktypes_seen:
        raise NotEthernet("linktypes " + ", ".join(map(str, sorted(linktypes_seen))))
    return packets, skipped


def write_pcap_header(out: BinaryIO, snaplen: int = MAX_CAPLEN) -> None:
    """Write a little-endian, microsecond, Ethernet classic pcap global header."""
    out.write(PCAP_GLOBAL_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))
