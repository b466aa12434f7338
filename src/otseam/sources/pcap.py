"""Classic libpcap files: a 24-byte header, then 16-byte record headers.

Both byte orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d)
timestamps. The records themselves are walked by the compiled walker.
"""

from __future__ import annotations

import struct
from typing import Final

from otseam.decode.engine import FrameDecoder
from otseam.decode.layout import Counter, WalkStatus
from otseam.sources.linktypes import describe, is_supported
from otseam.sources.problems import Problem, count
from otseam.sources.stream import ByteStream

__all__ = ["MAGICS", "read_pcap"]

MAGICS: Final = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}

# Wireshark's largest standard packet; a longer record means a damaged header.
MAX_RECORD: Final = 262144


def read_pcap(stream: ByteStream, decoder: FrameDecoder) -> list[Problem]:
    """Decode every record of a classic pcap stream into ``decoder``."""
    header = stream.read_exact(24)
    if header is None:
        got = stream.remaining_in_window()
        message = f"the pcap file header is truncated ({got} of 24 bytes)"
        return [Problem(stream.name, message, 0, fatal=True)]
    order, nano = MAGICS[header[:4]]
    _major, _minor, _zone, _sigfigs, snaplen, linkfield = struct.unpack(
        order + "HHiIII", header[4:]
    )
    linktype = linkfield & 0x0FFFFFF
    if not is_supported(linktype):
        message = f"link type {describe(linktype)} is not supported; the file was skipped"
        return [Problem(stream.name, message, fatal=True)]
    problems = _walk(stream, decoder, order == ">", nano, linktype, snaplen)
    over = decoder.walker.counters()[0][Counter.OVER_SNAPLEN]
    if over and snaplen:  # snaplen 0 is written by tools that set no limit
        problems.append(
            Problem(
                stream.name,
                f"{count(over, 'record')} longer than the snaplen of {snaplen} bytes "
                "in the file header; read as recorded",
            )
        )
    return problems


def _walk(
    stream: ByteStream,
    decoder: FrameDecoder,
    swapped: bool,
    nano: bool,
    linktype: int,
    snaplen: int,
) -> list[Problem]:
    limit = max(MAX_RECORD, min(snaplen, 16 * 1024 * 1024))
    while True:
        window = stream.window()
        if not window:
            window.release()
            return []
        consumed, status, claimed, _ = decoder.walker.walk_pcap(
            window, swapped, nano, linktype, snaplen, limit
        )
        decoder.collect(window)
        window.release()
        stream.advance(consumed)
        if status == WalkStatus.NOMEM:
            return [Problem(stream.name, "out of memory", stream.offset, fatal=True)]
        if status == WalkStatus.DAMAGED:
            rest = stream.drain()
            message = (
                f"record claims {claimed} captured bytes (snaplen {snaplen}); "
                f"the file is damaged here and its last {rest} bytes were skipped"
            )
            return [Problem(stream.name, message, stream.offset - rest, fatal=True)]
        if consumed == 0 and not stream.eof:
            stream.more()  # a record longer than the window
        elif consumed == 0:
            return _truncated_tail(stream)


def _truncated_tail(stream: ByteStream) -> list[Problem]:
    left = stream.remaining_in_window()
    offset = stream.offset
    stream.advance(left)
    if not left or stream.damage is not None:  # a damaged stream says so itself
        return []
    message = f"the last record is truncated ({left} bytes of it present)"
    return [Problem(stream.name, message, offset)]
