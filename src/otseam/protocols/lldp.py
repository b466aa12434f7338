"""LLDP (IEEE 802.1AB-2016 section 8): what a switch or device says about itself.

An LLDPDU (ethertype 0x88CC) is a sequence of TLVs, each with a 7-bit type
and a 9-bit length (8.4): chassis id (1), port id (2), time to live (3), then
optional port description (4), system name (5), system description (6),
system capabilities (7), management address (8), organisation-specific (127)
and the end (0). The sender is the frame's source MAC, so the identity goes
on that station.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from typing import Final

from otseam.model.observations import Identity, Malformed, MessageContext, Observation
from otseam.protocols.registry import ProtocolSpec

__all__ = ["CAPABILITIES", "PROTOCOL", "TLV_TYPES", "address_text", "dissect"]

TLV_TYPES: Final[dict[int, str]] = {
    0: "End of LLDPDU",
    1: "Chassis ID",
    2: "Port ID",
    3: "Time To Live",
    4: "Port Description",
    5: "System Name",
    6: "System Description",
    7: "System Capabilities",
    8: "Management Address",
    127: "Organizationally Specific",
}
# system capabilities bits (8.5.8.1)
CAPABILITIES: Final = (
    "other",
    "repeater",
    "bridge",
    "wlan-access-point",
    "router",
    "telephone",
    "docsis-cable-device",
    "station-only",
    "c-vlan-component",
    "s-vlan-component",
    "two-port-mac-relay",
)
MAX_TLVS: Final = 64
MAC_SUBTYPE: Final = {1: 4, 2: 3}  # chassis id subtype 4, port id subtype 3: a MAC
ADDRESS_SUBTYPE: Final = {1: 5, 2: 4}  # ...subtype 5 / 4: a network address


def address_text(family: int, raw: bytes) -> str:
    """An IANA address family number and its bytes as text (IPv4, IPv6, MAC)."""
    if family == 1 and len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if family == 2 and len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))
    if family == 6 and len(raw) == 6:
        return ":".join(f"{b:02x}" for b in raw)
    return raw.hex()


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip("\x00 \r\n").strip()


def _id_text(tlv: int, value: bytes) -> str:
    """Chassis or port id (8.5.2, 8.5.3): a subtype byte, then the id."""
    if not value:
        return ""
    subtype, raw = value[0], value[1:]
    if subtype == MAC_SUBTYPE[tlv] and len(raw) == 6:
        return ":".join(f"{b:02x}" for b in raw)
    if subtype == ADDRESS_SUBTYPE[tlv] and raw:
        return address_text(raw[0], raw[1:])
    return _text(raw)


def _capabilities(value: bytes) -> str:
    if len(value) < 4:
        return ""
    enabled = struct.unpack_from(">H", value, 2)[0]
    return ",".join(name for bit, name in enumerate(CAPABILITIES) if enabled >> bit & 1)


def _management(value: bytes) -> str:
    """Management address (8.5.9): string length, subtype (family), address."""
    if len(value) < 2 or value[0] < 2 or len(value) < 1 + value[0]:
        return ""
    return address_text(value[1], value[2 : 1 + value[0]])


FIELDS: Final = {
    4: "port_description",
    5: "name",
    6: "description",
}


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """The sender's identity from one LLDPDU."""
    attributes: list[tuple[str, str]] = []
    pos = 0
    for _ in range(MAX_TLVS):
        if pos + 2 > len(message):
            break
        header = struct.unpack_from(">H", message, pos)[0]
        tlv, length = header >> 9, header & 0x1FF
        value = message[pos + 2 : pos + 2 + length]
        if len(value) < length:
            yield Malformed(
                ctx.src, ctx.dst, "lldp", f"TLV {tlv} cut at offset {pos}", message[:256]
            )
            break
        pos += 2 + length
        if tlv == 0:
            break
        if tlv in (1, 2):
            attributes.append(("chassis_id" if tlv == 1 else "port_id", _id_text(tlv, value)))
        elif tlv in FIELDS:
            attributes.append((FIELDS[tlv], _text(value)))
        elif tlv == 7:
            attributes.append(("capabilities", _capabilities(value)))
        elif tlv == 8:
            address = _management(value)
            if address not in ("0.0.0.0", "::"):
                attributes.append(("management_address", address))
    attributes = [(k, v) for k, v in attributes if v]
    if attributes:
        yield Identity(ctx.src, "lldp", tuple(attributes))


PROTOCOL: Final = ProtocolSpec(
    name="lldp",
    title="LLDP",
    ethertypes=(0x88CC,),
    dissector=dissect,
    mode="representative",
    key_len=255,  # the TLVs are the content; repeats every 30 s are identical
    doc="docs/protocols/lldp.md",
)
