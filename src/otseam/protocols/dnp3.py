"""DNP3 (IEEE 1815-2012) over TCP and UDP port 20000.

Three layers: the link frame (clause 9.2: start 0x0564, length, control,
destination, source, header CRC, then user data in 16-byte blocks each
followed by a CRC), the transport header (clause 8.2: FIN, FIR, sequence)
and the application fragment (clause 4.2.2: control, function code, and in
responses the internal indications, IIN). The link control's DIR bit is set
on every frame a master sends, which makes the master the client and the
outstation the server whatever the TCP ports say. The link destination and
source are each station's DNP3 address.

A TCP segment or UDP datagram may hold several link frames; an application
fragment spread over several frames of the same message is put back
together. Link frames are not reassembled across TCP segments: their
length on the wire is not a linear function of the length field (a CRC
every 16 bytes), which ``Framing`` cannot express.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols.dnp3_objects import RESPONSES, crc, device_attributes, function
from otseam.protocols.registry import ProtocolSpec, Signature

__all__ = ["PROTOCOL", "dissect"]

PORT: Final = 20000
START: Final = b"\x05\x64"
HEADER: Final = 10  # start, length, control, destination, source, CRC
BLOCK: Final = 16
DIR: Final = 0x80
PRM: Final = 0x40
USER_DATA: Final = (3, 4)  # primary link functions that carry a transport segment
FIR: Final = 0x40
FIN: Final = 0x80
FIRST_RESERVED_ADDRESS: Final = 0xFFF0  # 0xFFF0-0xFFFF: reserved and broadcast


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from every link frame in one TCP segment or UDP datagram."""
    pos = 0
    fragment: bytearray | None = None  # application fragment being put together
    seen: set[Observation] = set()
    while pos < len(message):
        end, problem = _frame_bounds(message, pos)
        if problem:
            yield Malformed(ctx.src, ctx.dst, "dnp3", problem, message[pos : pos + 64])
        if not end:  # not a frame: go on at the next frame start
            pos = _next_start(message, pos + 1)
            continue
        frame = message[pos:end]
        pos = end
        for obs in _link_header(frame, ctx):
            if obs not in seen:
                seen.add(obs)
                yield obs
        control = frame[3]
        if not control & PRM or control & 0x0F not in USER_DATA or len(frame) == HEADER:
            continue  # link-layer only: no transport segment
        data, bad_block = _user_data(frame)
        if bad_block:
            reason = f"link frame user data CRC mismatch in block {bad_block}"
            yield Malformed(ctx.src, ctx.dst, "dnp3", reason, frame[:64])
        if not data:
            fragment = None
            continue
        if data[0] & FIR:
            if fragment is not None:  # a fragment its sender abandoned
                yield from _application(bytes(fragment), ctx)
            fragment = bytearray(data[1:])
        elif fragment is not None:
            fragment += data[1:]
        if fragment is not None and (data[0] & FIN or bad_block):
            yield from _application(bytes(fragment), ctx)
            fragment = None
    if fragment is not None:  # the rest is in a later segment: read what came
        yield from _application(bytes(fragment), ctx)


def _next_start(message: bytes, pos: int) -> int:
    found = message.find(START, pos)
    return len(message) if found < 0 else found


def _frame_bounds(message: bytes, pos: int) -> tuple[int, str]:
    """End of the link frame at ``pos`` (0: none there), and what is wrong
    with it; a frame cut short ends where the message ends."""
    if message[pos : pos + 2] != START:
        skipped = _next_start(message, pos) - pos
        return 0, (
            f"{skipped} bytes at offset {pos} start no link frame"
            " (the rest of a frame split across TCP segments?)"
        )
    if len(message) - pos < HEADER:
        return 0, f"link header truncated: {len(message) - pos} of {HEADER} bytes"
    length = message[pos + 2]
    if length < 5:
        return 0, f"link length {length} below the minimum 5"
    if crc(message[pos : pos + 8]) != int.from_bytes(message[pos + 8 : pos + 10], "little"):
        return 0, f"link header CRC mismatch at offset {pos}"
    user = length - 5
    total = HEADER + user + 2 * ((user + BLOCK - 1) // BLOCK)
    if len(message) - pos < total:
        reason = f"link frame truncated: {len(message) - pos} of {total} bytes"
        return len(message), reason
    return pos + total, ""


def _link_header(frame: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Roles from the DIR bit, DNP3 addresses from destination and source."""
    from_master = bool(frame[3] & DIR)
    master, outstation = (ctx.src, ctx.dst) if from_master else (ctx.dst, ctx.src)
    yield ProtocolRole(outstation, "dnp3", "server")
    yield ProtocolRole(master, "dnp3", "client")
    destination = int.from_bytes(frame[4:6], "little")
    source = int.from_bytes(frame[6:8], "little")
    if source < FIRST_RESERVED_ADDRESS:
        yield Identity(ctx.src, "dnp3", (("dnp3_address", str(source)),))
    if destination < FIRST_RESERVED_ADDRESS:
        yield Identity(ctx.dst, "dnp3", (("dnp3_address", str(destination)),))


def _user_data(frame: bytes) -> tuple[bytes, int]:
    """User data with the block CRCs removed, up to the first block whose
    CRC is wrong (or that a truncated frame cut), and that block's number
    (from 1), or 0."""
    data = bytearray()
    pos, block = HEADER, 0
    user = frame[2] - 5
    while pos < len(frame):
        block += 1
        size = min(BLOCK, user - len(data))
        chunk = frame[pos : pos + size]
        check = frame[pos + size : pos + size + 2]
        if len(check) < 2:
            return bytes(data), 0  # cut by the end of the message, reported as truncated
        if crc(chunk) != int.from_bytes(check, "little"):
            return bytes(data), block
        data += chunk
        pos += len(chunk) + 2
    return bytes(data), 0


def _application(fragment: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Operation of a request; device attributes of a response (clause 4.2.2)."""
    if len(fragment) < 2:
        yield Malformed(ctx.src, ctx.dst, "dnp3", "application header truncated", fragment)
        return
    code = fragment[1]
    if code in RESPONSES:
        if len(fragment) < 4:
            reason = "response without internal indications (IIN)"
            yield Malformed(ctx.src, ctx.dst, "dnp3", reason, fragment[:64])
            return
        attributes = tuple(device_attributes(fragment[4:]))
        if attributes:
            yield Identity(ctx.src, "dnp3", attributes)
        return
    name, operation = function(code, fragment[2:])
    # requests go from master to outstation; a confirm may come from either
    yield Operation(ctx.src, ctx.dst, "dnp3", operation, code, name)


PROTOCOL: Final = ProtocolSpec(
    name="dnp3",
    title="DNP3",
    tcp_ports=(PORT,),
    udp_ports=(PORT,),
    signatures=(
        # a link frame start on any port, first frame of a conversation
        Signature("tcp", 0, START, min_payload=HEADER),
        Signature("udp", 0, START, min_payload=HEADER),
    ),
    dissector=dissect,
    mode="representative",
    # link header (control, addresses, header CRC), transport and application
    # control (masked: they hold the sequence numbers), function code, and
    # the first object's group and variation (request) or the IIN (response).
    # The first block's CRC depends on the sequence numbers: it follows the
    # key unless the frame carries fewer than 5 bytes of user data.
    key_len=15,
    key_masks=((10, 2),),
    doc="docs/protocols/dnp3.md",
)
