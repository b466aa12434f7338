"""Modbus/TCP (Modbus Application Protocol Specification V1.1b3; Modbus
Messaging on TCP/IP Implementation Guide V1.0b).

An ADU is the 7-byte MBAP header (transaction id, protocol id = 0, length,
unit id) and a PDU (function code, data). Requests go to the server port 502;
a function code with bit 7 set is an exception response (section 7). Read
Device Identification (function 43, MEI type 14, section 6.21) carries the
server's identity objects.
"""

from __future__ import annotations

import struct
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
from otseam.protocols.registry import Framing, ProtocolSpec

__all__ = ["FUNCTIONS", "PROTOCOL", "dissect"]

PORT: Final = 502

# function code -> (name, operation)
FUNCTIONS: Final[dict[int, tuple[str, str]]] = {
    1: ("Read Coils", "read"),
    2: ("Read Discrete Inputs", "read"),
    3: ("Read Holding Registers", "read"),
    4: ("Read Input Registers", "read"),
    5: ("Write Single Coil", "write"),
    6: ("Write Single Register", "write"),
    7: ("Read Exception Status", "read"),
    8: ("Diagnostics", "diagnostic"),
    11: ("Get Comm Event Counter", "read"),
    12: ("Get Comm Event Log", "read"),
    15: ("Write Multiple Coils", "write"),
    16: ("Write Multiple Registers", "write"),
    17: ("Report Server ID", "identify"),
    20: ("Read File Record", "file_read"),
    21: ("Write File Record", "file_write"),
    22: ("Mask Write Register", "write"),
    23: ("Read/Write Multiple Registers", "write"),
    24: ("Read FIFO Queue", "read"),
    43: ("Encapsulated Interface Transport", "read"),
    90: ("Schneider UMAS", "vendor"),
}

# Diagnostics (function 8) sub-functions that change the device's state.
DIAGNOSTICS: Final[dict[int, tuple[str, str]]] = {
    0: ("Return Query Data", "diagnostic"),
    1: ("Restart Communications Option", "restart"),
    4: ("Force Listen Only Mode", "comm_control"),
    10: ("Clear Counters and Diagnostic Register", "diagnostic"),
}

MEI_TYPES: Final[dict[int, tuple[str, str]]] = {
    13: ("CANopen General Reference", "read"),
    14: ("Read Device Identification", "identify"),
}

EXCEPTIONS: Final[dict[int, str]] = {
    1: "Illegal Function",
    2: "Illegal Data Address",
    3: "Illegal Data Value",
    4: "Server Device Failure",
    5: "Acknowledge",
    6: "Server Device Busy",
    8: "Memory Parity Error",
    10: "Gateway Path Unavailable",
    11: "Gateway Target Device Failed to Respond",
}

# Read Device Identification object ids (section 6.21, table of objects).
DEVICE_OBJECTS: Final[dict[int, str]] = {
    0: "vendor",
    1: "product_code",
    2: "firmware",
    3: "vendor_url",
    4: "product",
    5: "model",
    6: "application",
}


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from every ADU in one TCP payload."""
    is_request = _is_request(ctx)
    client, server = (ctx.src, ctx.dst) if is_request else (ctx.dst, ctx.src)
    yield ProtocolRole(server, "modbus", "server")
    yield ProtocolRole(client, "modbus", "client")
    pos = 0
    while pos + 8 <= len(message):
        _tid, proto, length, _unit = struct.unpack_from(">HHHB", message, pos)
        if proto != 0 or length < 2 or length > 254:
            yield Malformed(
                ctx.src,
                ctx.dst,
                "modbus",
                f"bad MBAP header (protocol id {proto}, length {length})",
                message[pos : pos + 64],
            )
            return
        pdu = message[pos + 7 : pos + 6 + length]
        if len(pdu) < length - 1:
            yield Malformed(
                ctx.src,
                ctx.dst,
                "modbus",
                f"ADU truncated: {len(pdu) + 1} of {length} bytes",
                message[pos:],
            )
            return
        yield from _pdu(pdu, ctx, client, server, is_request)
        pos += 6 + length


def _is_request(ctx: MessageContext) -> bool:
    if ctx.dport == PORT and ctx.sport != PORT:
        return True
    if ctx.sport == PORT and ctx.dport != PORT:
        return False
    return ctx.dport < ctx.sport  # no 502: the lower port is the server's


def _pdu(
    pdu: bytes, ctx: MessageContext, client: str, server: str, is_request: bool
) -> Iterator[Observation]:
    fc = pdu[0]
    base = fc & 0x7F
    name, operation = _function(base, pdu)
    if fc & 0x80:
        reason = EXCEPTIONS.get(pdu[1], f"unknown-{pdu[1]}") if len(pdu) > 1 else "no code"
        yield Operation(
            client, server, "modbus", operation, base, f"{name}: {reason}", exception=True
        )
        return
    if is_request:
        yield Operation(client, server, "modbus", operation, base, name)
    elif base == 43 and len(pdu) > 1 and pdu[1] == 14:
        attributes = _device_identification(pdu)
        if attributes:
            yield Identity(server, "modbus", attributes)


def _function(fc: int, pdu: bytes) -> tuple[str, str]:
    name, operation = FUNCTIONS.get(fc, (f"unknown-{fc}", "unknown"))
    if fc == 8 and len(pdu) >= 3:
        sub = struct.unpack_from(">H", pdu, 1)[0]
        sub_name, operation = DIAGNOSTICS.get(sub, (f"unknown-{sub}", "diagnostic"))
        name = f"{name}: {sub_name}"
    elif fc == 43 and len(pdu) >= 2:
        mei_name, operation = MEI_TYPES.get(pdu[1], (f"unknown-{pdu[1]}", "unknown"))
        name = f"{name}: {mei_name}"
    return name, operation


def _device_identification(pdu: bytes) -> tuple[tuple[str, str], ...]:
    # fc, MEI type, read code, conformity, more follows, next id, count, objects
    if len(pdu) < 7:
        return ()
    count = pdu[6]
    pos, found = 7, []
    for _ in range(count):
        if pos + 2 > len(pdu):
            break
        oid, olen = pdu[pos], pdu[pos + 1]
        value = pdu[pos + 2 : pos + 2 + olen].decode("latin-1").strip("\x00 ").strip()
        pos += 2 + olen
        key = DEVICE_OBJECTS.get(oid, f"object_{oid}")
        if value and pos <= len(pdu):
            found.append((key, value))
    return tuple(found)


PROTOCOL: Final = ProtocolSpec(
    name="modbus",
    title="Modbus/TCP",
    tcp_ports=(PORT,),
    dissector=dissect,
    framing=Framing(
        len_offset=4, len_size=2, adjust=6, max_length=260
    ),  # MBAP length counts from unit id
    mode="representative",
    key_skip=2,  # the transaction id changes with every request
    key_len=8,
    doc="docs/protocols/modbus.md",
)
