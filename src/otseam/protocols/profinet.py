"""PROFINET: DCP at layer 2 and CM (context management) over DCE/RPC
(IEC 61158-6-10: section 4.3 DCP services and blocks, section 4.10 RPC
interfaces and operations; ethertype 0x8892, UDP port 34964).

A layer-2 message starts with the 2-byte FrameID. DCP frames (0xFEFC Hello,
0xFEFD Get/Set, 0xFEFE Identify request, 0xFEFF Identify response) carry
service id, service type, Xid, a response delay and the length of the
blocks; each block is option, suboption, length and data padded to even.
Responses and Hello put a 2-byte BlockInfo before the data, Set requests a
2-byte BlockQualifier. Cyclic real-time frames are recognised, not decoded.

On UDP the PDU is a connectionless DCE/RPC request or response whose
interface UUID names the PNIO device, controller or supervisor interface
and whose opnum is the CM operation; a Connect request's ARBlockReq names
the initiating controller's station, and a Read response holding the I&M0
or I&M1 record of the device access point gives the responder's identity
(``profinet_records``).
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
from otseam.protocols.profinet_records import read_response_identity
from otseam.protocols.registry import ProtocolSpec

__all__ = ["DCP_SERVICES", "PROTOCOL", "RPC_OPERATIONS", "dissect"]

PORT: Final = 34964
ETHERTYPE: Final = 0x8892
HELLO, GET_SET, IDENTIFY_REQUEST, IDENTIFY_RESPONSE = 0xFEFC, 0xFEFD, 0xFEFE, 0xFEFF

# DCP service id -> (name, operation); service type 0 is a request
DCP_SERVICES: Final[dict[int, tuple[str, str]]] = {
    3: ("Get", "read"),
    4: ("Set", "config_change"),
    5: ("Identify", "identify"),
    6: ("Hello", "identify"),
}

# (option, suboption) -> name (section 4.3.1.3, tables of DCP options)
DCP_BLOCKS: Final[dict[tuple[int, int], str]] = {
    (1, 1): "MAC address",
    (1, 2): "IP parameter",
    (1, 3): "full IP suite",
    (2, 1): "TypeOfStation",
    (2, 2): "NameOfStation",
    (2, 3): "DeviceID",
    (2, 4): "DeviceRole",
    (2, 5): "DeviceOptions",
    (2, 6): "AliasName",
    (2, 7): "DeviceInstance",
    (2, 8): "OEM DeviceID",
    (3, 61): "DHCP client identifier",
    (5, 1): "Start transaction",
    (5, 2): "End transaction",
    (5, 3): "Signal",
    (5, 4): "Response",
    (5, 5): "Factory reset",
    (5, 6): "Reset to factory",
    (6, 1): "DeviceInitiative",
    (255, 255): "All",
}

# Set blocks that do more than configure: operation for each
SET_OPERATIONS: Final[dict[tuple[int, int], str]] = {
    (5, 3): "flash_led",
    (5, 5): "memory_reset",
    (5, 6): "memory_reset",
}

DEVICE_ROLES: Final[dict[int, str]] = {
    0x01: "IO-Device",
    0x02: "IO-Controller",
    0x04: "IO-Multidevice",
    0x08: "PN-Supervisor",
}

# PROFINET vendor ids (PI vendor list); only the ones we are sure of
VENDORS: Final[dict[int, str]] = {0x002A: "Siemens"}

# PNIO RPC interfaces (first UUID field, DEA0000x-6C97-11D1-8271-00A02442DF7D)
RPC_INTERFACES: Final[dict[int, str]] = {
    0xDEA00001: "Device",
    0xDEA00002: "Controller",
    0xDEA00003: "Supervisor",
    0xDEA00004: "ParameterServer",
}
RPC_OPERATIONS: Final[dict[int, tuple[str, str]]] = {
    0: ("Connect", "connect"),
    1: ("Release", "disconnect"),
    2: ("Read", "read"),
    3: ("Write", "write"),
    4: ("Control", "control"),
    5: ("Read Implicit", "read"),
}
AR_BLOCK_REQ: Final = 0x0101
READ_OPNUMS: Final = frozenset({2, 5})


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from one DCP frame (layer 2) or one CM RPC datagram."""
    if ctx.transport == "l2":
        yield from _frame(message, ctx)
    else:
        yield from _rpc(message, ctx)


def _frame(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    if len(message) < 2:
        yield Malformed(ctx.src, ctx.dst, "profinet", "no FrameID", message)
        return
    (frame_id,) = struct.unpack_from(">H", message)
    if not HELLO <= frame_id <= IDENTIFY_RESPONSE:
        return  # real-time cyclic or alarm frame: recognised, not decoded
    if len(message) < 12:
        yield Malformed(ctx.src, ctx.dst, "profinet", "DCP header truncated", message)
        return
    service, service_type = message[2], message[3]
    (length,) = struct.unpack_from(">H", message, 10)
    is_request = service_type == 0 and frame_id != IDENTIFY_RESPONSE
    with_info = not is_request or frame_id == HELLO
    blocks = list(_blocks(message[12 : 12 + length], with_info or service == 4))
    if service == 4 and is_request:
        yield from _set(blocks, ctx)
    elif is_request and frame_id != HELLO:
        # Identify and Get are reported as roles only: their target is not in
        # a layer-2 context (see profinet.md), and multicast Identify has none
        yield ProtocolRole(ctx.src, "profinet", "client")
    if not is_request or frame_id == HELLO:
        attributes = _identity(blocks)
        if attributes:
            yield Identity(ctx.src, "profinet", attributes)
        yield ProtocolRole(ctx.src, "profinet", "server")


def _blocks(data: bytes, skip_info: bool) -> Iterator[tuple[int, int, bytes]]:
    """(option, suboption, value) of each block, BlockInfo/Qualifier removed."""
    pos = 0
    while pos + 4 <= len(data):
        option, suboption, size = struct.unpack_from(">BBH", data, pos)
        body = data[pos + 4 : pos + 4 + size]
        pos += 4 + size + (size & 1)
        has_info = skip_info and (option, suboption) != (5, 4)  # Response has none
        yield option, suboption, body[2:] if has_info else body


def _set(blocks: list[tuple[int, int, bytes]], ctx: MessageContext) -> Iterator[Observation]:
    """A Set request: what it changes goes into code_name, because the target
    station's MAC is not part of a layer-2 message's context."""
    parts, operation = [], "config_change"
    for option, suboption, value in blocks:
        if (option, suboption) in ((5, 1), (5, 2)):
            continue  # transaction brackets
        label = DCP_BLOCKS.get((option, suboption), f"{option}.{suboption}")
        operation = SET_OPERATIONS.get((option, suboption), operation)
        if (option, suboption) == (2, 2):
            label += f" {value.decode('latin-1')!r}"
        elif (option, suboption) == (1, 2) and len(value) >= 12:
            ip, mask, gateway = (_ip(value[i : i + 4]) for i in (0, 4, 8))
            label += f" {ip}/{mask} gateway {gateway}"
        parts.append(label)
    code_name = "Set " + ", ".join(parts) if parts else "Set"
    yield Operation(ctx.src, ctx.dst, "profinet", operation, 4, code_name)
    yield ProtocolRole(ctx.src, "profinet", "client")


def _ip(raw: bytes) -> str:
    return ".".join(str(b) for b in raw)


def _identity(blocks: list[tuple[int, int, bytes]]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for option, suboption, value in blocks:
        key = (option, suboption)
        if key == (2, 2) and value:
            found.append(("name", value.decode("latin-1").strip("\x00 ")))
        elif key == (2, 1) and value:
            found.append(("product", value.decode("latin-1").strip("\x00 ")))
        elif key == (2, 3) and len(value) >= 4:
            vendor, device = struct.unpack_from(">HH", value)
            found.append(("vendor_id", str(vendor)))
            found.append(("vendor", VENDORS.get(vendor, f"unknown-{vendor}")))
            found.append(("product_code", f"0x{device:04x}"))
        elif key == (2, 4) and value:
            roles = [n for bit, n in DEVICE_ROLES.items() if value[0] & bit]
            found.append(("device_type_id", str(value[0])))
            found.append(("device_type", "+".join(roles) or f"unknown-{value[0]}"))
        elif key == (1, 2) and len(value) >= 12:
            found.append(("ip_address", _ip(value[0:4])))
            found.append(("netmask", _ip(value[4:8])))
            found.append(("gateway", _ip(value[8:12])))
    return tuple((k, v) for k, v in found if v)


def _rpc(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """A connectionless DCE/RPC PDU (C706 chapter 12): 80-byte header, body."""
    if len(message) < 80 or message[0] != 4:
        yield Malformed(ctx.src, ctx.dst, "profinet", "not a DCE/RPC v4 PDU", message[:80])
        return
    ptype = message[1]
    order = "<" if message[4] & 0x10 else ">"
    (interface,) = struct.unpack_from(f"{order}I", message, 24)
    (opnum,) = struct.unpack_from(f"{order}H", message, 68)
    kind = RPC_INTERFACES.get(interface)
    if kind is None or ptype not in (0, 2):
        return  # not a PNIO interface, or a ping/ack/fault: nothing to report
    name, operation = RPC_OPERATIONS.get(opnum, (f"unknown-{opnum}", "unknown"))
    if ptype == 2:  # response: the sender serves the interface
        yield ProtocolRole(ctx.src, "profinet", "server")
        yield ProtocolRole(ctx.dst, "profinet", "client")
        if opnum in READ_OPNUMS:
            attributes = read_response_identity(message[80:], VENDORS)
            if attributes:
                yield Identity(ctx.src, "profinet", attributes)
        return
    yield Operation(ctx.src, ctx.dst, "profinet", operation, opnum, f"{kind} {name}")
    yield ProtocolRole(ctx.dst, "profinet", "server")
    yield ProtocolRole(ctx.src, "profinet", "client")
    if opnum == 0:
        station = _initiator_station(message[80:])
        if station:
            yield Identity(ctx.src, "profinet", (("name", station),))


def _initiator_station(body: bytes) -> str:
    """CMInitiatorStationName of the ARBlockReq after the 20-byte NDR header."""
    pos = 20
    while pos + 6 <= len(body):
        block_type, size = struct.unpack_from(">HH", body, pos)
        # header (type, length, version), ARType, ARUUID, SessionKey, MAC,
        # object UUID, ARProperties, timeout factor, UDP port, name length
        if block_type == AR_BLOCK_REQ and pos + 4 + size <= len(body) and size >= 54:
            (n,) = struct.unpack_from(">H", body, pos + 56)
            return body[pos + 58 : pos + 58 + n].decode("latin-1").strip("\x00 ")
        pos += 4 + size
    return ""


PROTOCOL: Final = ProtocolSpec(
    name="profinet",
    title="PROFINET",
    udp_ports=(PORT,),
    ethertypes=(ETHERTYPE,),
    dissector=dissect,
    mode="representative",
    # DCP header and the first blocks (the values a Set writes are named in
    # the operation); the Xid varies per exchange. On UDP: the RPC header
    # with its sequence number (64) masked, and for Read requests and
    # responses the IODReadReq/ResHeader up to the record index, its
    # SeqNumber (106) masked, so that reads of different slots or records
    # are dissected apart. RT cyclic data also lands in the key: see
    # profinet.md.
    key_len=136,
    key_masks=((4, 4), (64, 4), (106, 2)),
    doc="docs/protocols/profinet.md",
)
