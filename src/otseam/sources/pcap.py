"""Classic libpcap files: a 24-byte header, then 16-byte record headers.

Both byte orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d)
timestamps. The records themselves are walked by the compiled walker.
"""

from __future__ import annotations

import struct
from typing import Final

from otseam.decode.engine import FrameDecoder
from otseam.decode.layout import WalkStatus
from otseam.sources.linktypes import describe, is_supported
from otseam.sources.problems import Problem
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
        return [Problem(stream.name, "the pcap file header is truncated", 0, fatal=True)]
    order, nano = MAGICS[header[:4]]
    _major, _minor, _zone, _sigfigs, snaplen, linkfield = struct.unpack(order + "HHiIII", header[4:])
    linktype = linkfield & 0x0FFFFFF
    if not is_supported(linktype):
        return [
            Problem(stream.name, f"link type {describe(linktype)} is not supported", fatal=True)
        ]
    swapped = order == ">"
    limit = max(MAX_RECORD, min(snaplen, 16 * 1024 * 1024))
    problems: list[Problem] = []
    while True:
        window = stream.window()
        if not window:
            break
        consumed, status, claimed, _ = decoder.walker.walk_pcap(
            window, swapped, nano, linktype, snaplen, limit
        )
        decoder.collect(window)
        window.release()
        stream.advance(consumed)
        if status == WalkStatus.NOMEM:
            problems.append(Problem(stream.name, "out of memory", stream.offset, fatal=True))
            break
        if status == WalkStatus.DAMAGED:
            rest = stream.drain()
            problems.append(
                Problem(
                    stream.name,
                    f"record claims {claimed} captured bytes (snaplen {snaplen}); "
                    f"the file is damaged here and its last {rest} bytes were skipped",
                    stream.offset - rest,
                    fatal=True,
                )
            )
            break
        if stream.eof and consumed == 0:
            left = stream.remaining_in_window()
            if left:
                problems.append(
                    Problem(
                        stream.name,
                        f"the last record is truncated ({left} bytes of it present)",
                        stream.offset,
                    )
                )
                stream.advance(left)
            break
    return problems
