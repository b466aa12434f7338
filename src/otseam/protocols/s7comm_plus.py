"""S7comm-plus (S7-1200/1500, protocol id 0x72), recognised by its header.

Siemens has not published the protocol; the layout is the one the
Wireshark S7comm-plus plugin (Thomas Wiens) and ICSNPP-S7comm decode. A
frame is ``0x72``, a protocol version, a 16-bit data length, the data, and
(in the last frame of a PDU) a 4-byte trailer. Version 3 puts a digest
(length byte 0x20 and 32 bytes) before the data. The data starts with an
opcode (0x31 request, 0x32 response, 0x33 notification, 0x02 response
type 2); requests and responses continue with two reserved bytes, the
16-bit function code, two reserved bytes and a sequence number. Frames
that continue a PDU split over several COTP data units carry no opcode and
are skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

from otseam.model.observations import MessageContext, Observation, Operation, ProtocolRole

__all__ = ["FUNCTIONS", "NAME", "OPCODES", "dissect_plus"]

NAME: Final = "s7comm-plus"
PROTOCOL_ID: Final = 0x72
REQUEST: Final = 0x31
RESPONSE: Final = 0x32
NOTIFICATION: Final = 0x33
RESPONSE2: Final = 0x02
DIGEST_LENGTH: Final = 0x20

OPCODES: Final[dict[int, str]] = {
    REQUEST: "Request",
    RESPONSE: "Response",
    NOTIFICATION: "Notification",
    RESPONSE2: "Response2",
}

# function code -> (name, operation)
FUNCTIONS: Final[dict[int, tuple[str, str]]] = {
    0x04B1: ("Error", "other"),
    0x04BB: ("Explore", "read"),
    0x04CA: ("CreateObject", "session"),
    0x04D4: ("DeleteObject", "session"),
    0x04F2: ("SetVariable", "write"),
    0x04FC: ("GetVariable", "read"),
    0x0506: ("AddLink", "other"),
    0x051A: ("RemoveLink", "other"),
    0x0524: ("GetLink", "read"),
    0x0542: ("SetMultiVariables", "write"),
    0x054C: ("GetMultiVariables", "read"),
    0x0556: ("BeginSequence", "other"),
    0x0560: ("EndSequence", "other"),
    0x056B: ("Invoke", "method_call"),
    0x057C: ("SetVarSubStreamed", "write"),
    0x0586: ("GetVarSubStreamed", "read"),
    0x0590: ("GetVariablesAddress", "read"),
    0x059A: ("Abort", "control"),
}


def is_plus(payload: bytes) -> bool:
    """True when a COTP data unit holds an S7comm-plus frame."""
    if len(payload) < 4 or payload[0] != PROTOCOL_ID or payload[1] not in (1, 2, 3, 0xFE):
        return False
    (length,) = struct.unpack_from(">H", payload, 2)
    return len(payload) in (4 + length, 8 + length)


def dissect_plus(payload: bytes, ctx: MessageContext, port: int) -> Iterator[Observation]:
    """Roles and an operation for every request.

    The opcode shares its place with the S7comm PDU reference, which is
    masked out of the group key; so when one side is on ``port`` the
    direction says request (to it) or answer, and the opcode is read only
    when neither side is.
    """
    data = payload[4:]
    if payload[1] == 3 and len(data) > 1 + DIGEST_LENGTH:
        data = data[1 + DIGEST_LENGTH :]  # version 3: digest length and digest first
    if ctx.dport == port != ctx.sport:
        request = True
    elif ctx.sport == port != ctx.dport:
        request = False
    elif data[:1] in (bytes([REQUEST]), bytes([RESPONSE]), bytes([NOTIFICATION])):
        request = data[0] == REQUEST
    else:
        return
    # requests: opcode, reserved (2), function (2), reserved (2); a frame
    # continuing a split PDU has none of it
    if not request:
        yield ProtocolRole(ctx.src, NAME, "server")
        yield ProtocolRole(ctx.dst, NAME, "client")
        return
    if len(data) < 7 or data[2] != 0 or data[5:7] != b"\x00\x00":
        return
    (function,) = struct.unpack_from(">H", data, 3)
    name, operation = FUNCTIONS.get(function, (f"unknown-{function}", "unknown"))
    yield Operation(ctx.src, ctx.dst, NAME, operation, function, name)
    yield ProtocolRole(ctx.src, NAME, "client")
    yield ProtocolRole(ctx.dst, NAME, "server")
