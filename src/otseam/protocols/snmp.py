"""SNMP version 1 and 2c (RFC 1157, RFC 3416; BER as in X.690 section 8).

A message is SEQUENCE { version, community, PDU }. The PDU's context tag
says what it is (RFC 3416 section 3): get, get-next, get-bulk (reads), set,
response, trap, inform, report. Request PDUs carry request-id, error-status,
error-index and variable bindings (OID, value); a version 1 trap carries
enterprise, agent address, generic and specific trap, time stamp and
bindings (RFC 1157 section 4.1.6). A response with the MIB-II system group
(RFC 3418) identifies the agent. The community string is a password and is
never kept; the defaults ``public``/``private`` are flagged.
SNMPv3 (version 3) messages get roles only.
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
from otseam.protocols.registry import ProtocolSpec

__all__ = ["PDU_TYPES", "PROTOCOL", "SYSTEM", "dissect", "read_oid", "read_tlv"]

# PDU tag (low 5 bits of the context tag 0xA0-0xA8) -> (name, operation)
PDU_TYPES: Final[dict[int, tuple[str, str]]] = {
    0: ("GetRequest", "read"),
    1: ("GetNextRequest", "read"),
    2: ("Response", ""),
    3: ("SetRequest", "config_change"),
    4: ("Trap", "other"),
    5: ("GetBulkRequest", "read"),
    6: ("InformRequest", "other"),
    7: ("SNMPv2-Trap", "other"),
    8: ("Report", ""),
}
NOTIFICATIONS: Final = (4, 6, 7)
# MIB-II system group (RFC 3418) instance OIDs -> identity attribute
SYSTEM: Final[dict[str, str]] = {
    "1.3.6.1.2.1.1.1.0": "description",
    "1.3.6.1.2.1.1.2.0": "sys_object_id",
    "1.3.6.1.2.1.1.5.0": "name",
    "1.3.6.1.2.1.1.6.0": "location",
}
DEFAULT_COMMUNITIES: Final = (b"public", b"private")
MAX_VARBINDS: Final = 64
MAX_ARCS: Final = 128
TAG_OID: Final = 0x06
TAG_SEQUENCE: Final = 0x30


class BerError(ValueError):
    """A BER element that runs past its container or is not what SNMP allows."""


def read_tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at ``pos`` (X.690 8.1).

    Only low tag numbers and definite lengths of up to 4 bytes: SNMP uses no
    other, and a bound length keeps a crafted message from reaching far.
    """
    if pos + 2 > end:
        raise BerError(f"element header cut at offset {pos}")
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise BerError(f"high tag number at offset {pos}")
    pos += 2
    if first & 0x80:
        size = first & 0x7F
        if size == 0 or size > 4 or pos + size > end:
            raise BerError(f"bad length of {size} bytes at offset {pos - 1}")
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    else:
        length = first
    if pos + length > end:
        raise BerError(f"element of {length} bytes at offset {pos} runs past its container")
    return tag, pos, pos + length


def read_oid(raw: bytes) -> str:
    """Dotted text of an OBJECT IDENTIFIER's contents (X.690 8.19)."""
    arcs: list[int] = []
    value = 0
    for byte in raw[: MAX_ARCS * 5]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            if not arcs:
                first = min(value // 40, 2)
                arcs += [first, value - 40 * first]
            else:
                arcs.append(value)
            value = 0
    return ".".join(str(a) for a in arcs)


def _integer(data: bytes, pos: int, end: int) -> tuple[int, int]:
    tag, start, stop = read_tlv(data, pos, end)
    if tag != 0x02 or stop - start > 8:
        raise BerError(f"expected an INTEGER at offset {pos}")
    return int.from_bytes(data[start:stop], "big", signed=True), stop


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Operation, roles and the agent's identity from one SNMP message."""
    try:
        yield from _message(message, ctx)
    except BerError as exc:
        yield Malformed(ctx.src, ctx.dst, "snmp", str(exc), message[:256])


def _message(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    tag, pos, end = read_tlv(message, 0, len(message))
    if tag != TAG_SEQUENCE:
        raise BerError("not a BER SEQUENCE")
    version, pos = _integer(message, pos, end)
    tag, start, pos = read_tlv(message, pos, end)
    if version == 3 or tag != 0x04:
        # SNMPv3 (RFC 3412): the request/response flag is inside encryption
        server = ctx.dst if ctx.dport in (161, 162) else ctx.src
        yield ProtocolRole(server, "snmp", "server")
        return
    default = message[start:pos] in DEFAULT_COMMUNITIES
    tag, pos, end = read_tlv(message, pos, end)
    kind = tag & 0x1F
    if tag & 0xE0 != 0xA0 or kind not in PDU_TYPES:
        raise BerError(f"unknown PDU tag 0x{tag:02x}")
    name, operation = PDU_TYPES[kind]
    responder = kind in (2, 8)
    agent_sends = responder or kind in NOTIFICATIONS
    agent, manager = (ctx.src, ctx.dst) if agent_sends else (ctx.dst, ctx.src)
    if kind in NOTIFICATIONS:  # the manager listens for notifications (port 162)
        yield ProtocolRole(manager, "snmp", "server")
        yield ProtocolRole(agent, "snmp", "client")
    else:
        yield ProtocolRole(agent, "snmp", "server")
        yield ProtocolRole(manager, "snmp", "client")
    if operation:
        yield Operation(ctx.src, ctx.dst, "snmp", operation, kind, name)
    attributes: list[tuple[str, str]] = []
    if default:
        attributes.append(("community_default", "true"))
    if responder:
        attributes += _system(message, pos, end)
    if attributes:
        yield Identity(agent, "snmp", tuple(attributes))


def _system(message: bytes, pos: int, end: int) -> list[tuple[str, str]]:
    """MIB-II system values among a response's variable bindings."""
    for _ in range(3):  # request-id, error-status, error-index
        _value, pos = _integer(message, pos, end)
    tag, pos, end = read_tlv(message, pos, end)
    if tag != TAG_SEQUENCE:
        raise BerError(f"expected the variable bindings at offset {pos}")
    found: list[tuple[str, str]] = []
    for _ in range(MAX_VARBINDS):
        if pos >= end:
            break
        tag, start, pos = read_tlv(message, pos, end)
        tag, oid_start, oid_end = read_tlv(message, start, pos)
        if tag != TAG_OID:
            raise BerError(f"expected an OID at offset {start}")
        attribute = SYSTEM.get(read_oid(message[oid_start:oid_end]))
        if attribute is None:
            continue
        tag, value_start, value_end = read_tlv(message, oid_end, pos)
        raw = message[value_start:value_end]
        if tag == TAG_OID:
            found.append((attribute, read_oid(raw)))
        elif tag == 0x04:
            text = raw.decode("utf-8", "replace").strip("\x00 \r\n").strip()
            if text:
                found.append((attribute, text))
    return found


PROTOCOL: Final = ProtocolSpec(
    name="snmp",
    title="SNMP",
    udp_ports=(161, 162),
    dissector=dissect,
    mode="representative",
    # The request-id's offset depends on the community's length, so no mask:
    # messages are grouped by their whole first 255 bytes.
    key_len=255,
    doc="docs/protocols/snmp.md",
)
