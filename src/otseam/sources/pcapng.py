"""pcapng files: blocks, sections and interfaces (draft-ietf-opsawg-pcapng).

Python reads the metadata blocks (Section Header, Interface Description with
``if_tsresol`` and ``if_tsoffset``); the compiled walker takes the runs of
packet blocks (Enhanced, Simple, obsolete Packet) between them.
"""

from __future__ import annotations

import struct
from typing import Final

import numpy as np

from otseam.decode.engine import FrameDecoder
from otseam.decode.layout import INTERFACE, Counter, WalkStatus
from otseam.sources.linktypes import describe, is_supported
from otseam.sources.problems import Problem, count, plural
from otseam.sources.stream import ByteStream

__all__ = ["read_pcapng"]

SHB: Final = 0x0A0D0D0A
IDB: Final = 0x00000001
BYTE_ORDER_MAGIC: Final = 0x1A2B3C4D
MAX_BLOCK: Final = 16 * 1024 * 1024
OPT_TSRESOL: Final = 9
OPT_TSOFFSET: Final = 14


class _Section:
    def __init__(self, swapped: bool) -> None:
        self.swapped = swapped
        self.order = ">" if swapped else "<"
        self.interfaces = np.zeros(0, dtype=INTERFACE)
        self.unsupported: dict[int, str] = {}

    def add_interface(self, body: bytes) -> None:
        linktype, _reserved, snaplen = struct.unpack(self.order + "HHI", body[:8])
        resol, offset = _interface_options(body[8:], self.order)
        row = np.zeros(1, dtype=INTERFACE)
        row["linktype"] = linktype if is_supported(linktype) else -1
        row["snaplen"] = snaplen
        if resol & 0x80:
            row["mode"], row["shift"] = 2, resol & 0x7F
        elif resol <= 9:
            row["mode"], row["mul"] = 0, 10 ** (9 - resol)
        else:
            row["mode"], row["div"] = 1, 10 ** min(resol - 9, 18)
        if not is_supported(linktype):
            self.unsupported[len(self.interfaces)] = describe(linktype)
        row["offset_ns"] = offset * 1_000_000_000  # if_tsoffset: seconds to add
        self.interfaces = np.concatenate([self.interfaces, row])


def _interface_options(options: bytes, order: str) -> tuple[int, int]:
    resol, offset, pos = 6, 0, 0
    while pos + 4 <= len(options):
        code, length = struct.unpack(order + "HH", options[pos : pos + 4])
        value = options[pos + 4 : pos + 4 + length]
        if code == 0:
            break
        if code == OPT_TSRESOL and length >= 1:
            resol = value[0]
        elif code == OPT_TSOFFSET and length == 8:
            (offset,) = struct.unpack(order + "q", value)
        pos += 4 + ((length + 3) & ~3)
    return resol, offset


def read_pcapng(stream: ByteStream, decoder: FrameDecoder) -> list[Problem]:
    """Decode every packet block of a pcapng stream into ``decoder``."""
    problems: list[Problem] = []
    section: _Section | None = None
    sections: list[_Section] = []
    swapped = False
    while True:
        window = stream.window()
        if len(window) < 12:
            window.release()
            problems += _truncated(stream, stream.offset, sections)
            break
        if section is not None and len(section.interfaces):
            consumed, status, btype, blen = decoder.walker.walk_pcapng(
                window, swapped, section.interfaces.tobytes(), MAX_BLOCK
            )
            decoder.collect(window)
        else:
            consumed, status = 0, WalkStatus.META
            btype, blen = struct.unpack(("<" if not swapped else ">") + "II", window[:8])
        window.release()
        stream.advance(consumed)
        if status == WalkStatus.MORE:
            if consumed == 0 and stream.eof:
                problems += _truncated(stream, stream.offset, sections)
                break
            if consumed == 0:
                stream.more()  # a block longer than the window
            continue
        if status == WalkStatus.NOMEM:
            problems.append(Problem(stream.name, "out of memory", stream.offset, fatal=True))
            break
        if status == WalkStatus.DAMAGED:
            problems.append(_damaged(stream, btype, blen))
            break
        block_offset = stream.offset
        head = stream.read_exact(12)
        if head is None:
            problems += _truncated(stream, block_offset, sections)
            break
        if struct.unpack("<I", head[:4])[0] == SHB:
            magic = struct.unpack("<I", head[8:12])[0]
            if magic not in (BYTE_ORDER_MAGIC, 0x4D3C2B1A):
                problems.append(
                    Problem(
                        stream.name,
                        "section header with a bad byte-order magic",
                        block_offset,
                        fatal=True,
                    )
                )
                stream.drain()
                break
            swapped = magic != BYTE_ORDER_MAGIC
            section = _Section(swapped)
            sections.append(section)
        order = ">" if swapped else "<"
        btype, blen = struct.unpack(order + "II", head[:8])
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            problems.append(_damaged_at(stream, block_offset, btype, blen))
            break
        body = stream.read_exact(blen - 12)
        if body is None:
            problems += _truncated(stream, block_offset, sections)
            break
        if btype == IDB and section is not None:
            if len(body) < 8:  # snaplen and the trailing length; options are optional
                problems.append(_damaged_at(stream, block_offset, btype, blen))
                break
            # Interface options start after linktype, reserved, snaplen.
            section.add_interface(head[8:12] + body[:-4])
        elif section is None:
            problems.append(
                Problem(
                    stream.name, "packet data before any section header", block_offset, fatal=True
                )
            )
            stream.drain()
            break
    return problems + _skipped_packets(stream.name, sections, decoder)


def _truncated(stream: ByteStream, offset: int, sections: list[_Section]) -> list[Problem]:
    """The stream ended inside a block; fatal if no interface was described yet."""
    left = stream.remaining_in_window()
    stream.advance(left)
    if stream.damage is not None or (not left and offset == stream.offset):
        return []  # a clean end, or a damaged stream that says so itself
    if not any(len(s.interfaces) for s in sections):
        message = "the file is truncated inside its header blocks"
        return [Problem(stream.name, message, offset, fatal=True)]
    return [Problem(stream.name, "the last block is truncated", offset)]


def _skipped_packets(name: str, sections: list[_Section], decoder: FrameDecoder) -> list[Problem]:
    """Packets on interfaces of unsupported link types, or on no interface at all."""
    counters = decoder.walker.counters()[0]
    problems = []
    unsupported = counters[Counter.UNSUPPORTED_LINK]
    if unsupported:
        described = [
            f"{link} on interface {index}"
            for s in sections
            for index, link in s.unsupported.items()
        ]
        one = len(described) == 1
        message = (
            f"link type{'' if one else 's'} {' and '.join(described)} "
            f"{'is' if one else 'are'} not supported; {plural(unsupported, 'packet')} skipped"
        )
        usable = any(len(s.interfaces) > len(s.unsupported) for s in sections)
        problems.append(Problem(name, message, fatal=not usable))
    orphans = counters[Counter.BAD_INTERFACE]
    if orphans:
        message = (
            f"{count(orphans, 'packet block')} for an interface that no interface "
            "description block declared; skipped"
        )
        problems.append(Problem(name, message))
    return problems


def _damaged(stream: ByteStream, btype: int, blen: int) -> Problem:
    rest = stream.drain()
    return Problem(
        stream.name,
        f"block of type 0x{btype:08x} has a bad length ({blen}); "
        f"the file is damaged here and its last {rest} bytes were skipped",
        stream.offset - rest,
        fatal=True,
    )


def _damaged_at(stream: ByteStream, offset: int, btype: int, blen: int) -> Problem:
    rest = stream.drain()
    return Problem(
        stream.name,
        f"block of type 0x{btype:08x} has a bad length ({blen}); "
        f"the file is damaged here and its last {rest + 12} bytes were skipped",
        offset,
        fatal=True,
    )
