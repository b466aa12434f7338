"""EtherNet/IP encapsulation (ODVA, The CIP Networks Library Volume 2,
chapter 2), its ListIdentity command (section 2-4.2) and the CIP messages
that SendRRData and SendUnitData carry (sections 2-4.7, 2-4.8, 2-6).

The 24-byte encapsulation header is command, length, session handle,
status, sender context and options, all little-endian. A ListIdentity
request has no data; a reply carries a CIP Identity item (type 0x0C) with
the device's vendor id, device type, product code, revision, serial number
and product name. Requests and replies are recognised by content, not by
port, because replies to a broadcast request come back in either direction.

SendRRData and SendUnitData data is an interface handle, a timeout and a
Common Packet Format item list (2-6): an address item (null 0x0000 or
connected 0x00A1 with a connection id) and a data item (unconnected 0x00B2,
or connected 0x00B1 whose first two bytes are a sequence count) holding one
CIP message, decoded by ``otseam.protocols.cip``.
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
from otseam.protocols import cip
from otseam.protocols.cip import DEVICE_TYPES, VENDORS
from otseam.protocols.registry import Framing, ProtocolSpec, Signature

__all__ = ["COMMANDS", "DEVICE_TYPES", "PROTOCOL", "VENDORS", "dissect"]

PORT: Final = 44818
LIST_IDENTITY: Final = 0x0063
IDENTITY_ITEM: Final = 0x000C

COMMANDS: Final[dict[int, tuple[str, str]]] = {
    0x0000: ("NOP", "other"),
    0x0004: ("ListServices", "identify"),
    0x0063: ("ListIdentity", "identify"),
    0x0064: ("ListInterfaces", "identify"),
    0x0065: ("RegisterSession", "session"),
    0x0066: ("UnRegisterSession", "session"),
    0x006F: ("SendRRData", "message"),
    0x0070: ("SendUnitData", "message"),
    0x0072: ("IndicateStatus", "other"),
    0x0073: ("Cancel", "other"),
}

SEND_RR_DATA: Final = 0x006F
SEND_UNIT_DATA: Final = 0x0070
UNCONNECTED_DATA_ITEM: Final = 0x00B2
CONNECTED_DATA_ITEM: Final = 0x00B1


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from every encapsulation message in one payload (a TCP
    segment may hold several)."""
    if len(message) < 24:
        yield Malformed(ctx.src, ctx.dst, "enip", "shorter than the 24-byte header", message)
        return
    pos = 0
    while pos + 24 <= len(message):
        (length,) = struct.unpack_from("<H", message, pos + 2)
        yield from _encapsulation(message[pos : pos + 24 + length], ctx)
        pos += 24 + length


def _encapsulation(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from one encapsulation message."""
    command, length = struct.unpack_from("<HH", message, 0)
    name, operation = COMMANDS.get(command, (f"unknown-{command}", "unknown"))
    data = message[24 : 24 + length]
    if command == LIST_IDENTITY and length:
        identity = _identity_item(data)
        if identity is None:
            yield Malformed(
                ctx.src,
                ctx.dst,
                "enip",
                "ListIdentity reply without a valid CIP Identity item",
                message[:128],
            )
            return
        yield Identity(ctx.src, "enip", identity)
        yield ProtocolRole(ctx.src, "enip", "server")
        yield ProtocolRole(ctx.dst, "enip", "client")
        return
    if command in (SEND_RR_DATA, SEND_UNIT_DATA):
        cip_message = _cip_message(data)
        if cip_message:
            yield from _cip(cip_message, ctx)
            return
    if _is_request(command, length, ctx):
        yield Operation(ctx.src, ctx.dst, "enip", operation, command, name)
        yield ProtocolRole(ctx.dst, "enip", "server")
        yield ProtocolRole(ctx.src, "enip", "client")


def _cip(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """A CIP message; its service code's response bit says who asked."""
    if message[0] & 0x80:
        client, server = ctx.dst, ctx.src
    else:
        client, server = ctx.src, ctx.dst
    yield ProtocolRole(server, "enip", "server")
    yield ProtocolRole(client, "enip", "client")
    yield from cip.dissect(message, client, server)


def _cip_message(data: bytes) -> bytes:
    """The CIP message of the CPF data item after the interface handle and
    timeout, or empty when there is none."""
    if len(data) < 8:
        return b""
    (count,) = struct.unpack_from("<H", data, 6)
    pos = 8
    for _ in range(min(count, 8)):
        if pos + 4 > len(data):
            return b""
        item_type, item_len = struct.unpack_from("<HH", data, pos)
        body = data[pos + 4 : pos + 4 + item_len]
        pos += 4 + item_len
        if item_type == UNCONNECTED_DATA_ITEM:
            return body
        if item_type == CONNECTED_DATA_ITEM:
            return body[2:]  # after the sequence count
    return b""


def _is_request(command: int, length: int, ctx: MessageContext) -> bool:
    if command in (0x0004, 0x0063, 0x0064):
        return length == 0  # list requests carry no data
    if ctx.dport == PORT and ctx.sport != PORT:
        return True
    return ctx.sport != PORT and ctx.dport < ctx.sport


def _identity_item(data: bytes) -> tuple[tuple[str, str], ...] | None:
    if len(data) < 2:
        return None
    (count,) = struct.unpack_from("<H", data, 0)
    pos = 2
    for _ in range(min(count, 16)):
        if pos + 4 > len(data):
            return None
        item_type, item_len = struct.unpack_from("<HH", data, pos)
        body = data[pos + 4 : pos + 4 + item_len]
        pos += 4 + item_len
        if item_type == IDENTITY_ITEM and len(body) >= 33:
            return _identity(body)
    return None


def _identity(body: bytes) -> tuple[tuple[str, str], ...]:
    # version(2) sockaddr(16, big-endian) vendor(2) type(2) product(2)
    # revision(1+1) status(2) serial(4) name(short string) state(1)
    vendor, dtype, product, major, minor, _status, serial = struct.unpack_from("<HHHBBHI", body, 18)
    name_len = body[32]
    product_name = body[33 : 33 + name_len].decode("latin-1").strip("\x00 ")
    return (
        ("vendor_id", str(vendor)),
        ("vendor", VENDORS.get(vendor, f"unknown-{vendor}")),
        ("device_type_id", str(dtype)),
        ("device_type", DEVICE_TYPES.get(dtype, f"unknown-{dtype}")),
        ("product_code", str(product)),
        ("firmware", f"{major}.{minor:02d}"),
        ("serial", f"0x{serial:08x}"),
        ("product", product_name),
    )


PROTOCOL: Final = ProtocolSpec(
    name="enip",
    title="EtherNet/IP",
    tcp_ports=(PORT,),
    udp_ports=(PORT,),
    signatures=(
        # ListIdentity with status 0 and zero options, on any port
        Signature("udp", 0, b"\x63\x00", min_payload=24),
    ),
    dissector=dissect,
    framing=Framing(len_offset=2, len_size=2, big_endian=False, adjust=24, max_length=65535 + 24),
    mode="representative",
    # command, length, the CPF items and the CIP service and path (of the
    # request an Unconnected_Send carries too); masked: the session handle,
    # the sender context and SendUnitData's sequence count (see enip.md)
    key_len=64,
    key_masks=((4, 4), (12, 8), (44, 2)),
    # ...and nothing after the CIP path (or reply status): the values a
    # Write_Tag writes or a Read_Tag reply returns do not change the result
    key_anchor="enip-cip",
    doc="docs/protocols/enip.md",
)
