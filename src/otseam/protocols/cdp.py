"""Cisco Discovery Protocol, version 1 and 2 (Cisco's published frame
format; Wireshark's packet-cdp.c lists the TLV types).

CDP frames are IEEE 802.3 with LLC/SNAP, OUI 00:00:0C and protocol id 0x2000;
the walker hands dissectors the SNAP payload under that protocol id. The
payload is version, time to live, checksum and TLVs of a 2-byte type and a
2-byte length that counts the 4-byte header: device id (1), addresses (2),
port id (3), capabilities (4), software version (5), platform (6), native
VLAN (10), management addresses (22).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

from otseam.model.observations import Identity, Malformed, MessageContext, Observation
from otseam.protocols.lldp import address_text
from otseam.protocols.registry import ProtocolSpec

__all__ = ["PROTOCOL", "TLV_TYPES", "dissect"]

TLV_TYPES: Final[dict[int, str]] = {
    1: "Device ID",
    2: "Addresses",
    3: "Port ID",
    4: "Capabilities",
    5: "Software Version",
    6: "Platform",
    10: "Native VLAN",
    11: "Duplex",
    22: "Management Addresses",
}
TEXT_FIELDS: Final = {1: "name", 3: "port_id", 5: "description", 6: "model"}
MAX_TLVS: Final = 64
NLPID_IP: Final = b"\xcc"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip("\x00 \r\n").strip()


def _addresses(value: bytes) -> Iterator[str]:
    """Address TLV: a count, then protocol type, length, protocol, address."""
    if len(value) < 4:
        return
    count, pos = struct.unpack_from(">I", value)[0], 4
    for _ in range(min(count, 16)):
        if pos + 2 > len(value):
            return
        plen = value[pos + 1]
        proto = value[pos + 2 : pos + 2 + plen]
        pos += 2 + plen
        if pos + 2 > len(value):
            return
        alen = struct.unpack_from(">H", value, pos)[0]
        raw = value[pos + 2 : pos + 2 + alen]
        pos += 2 + alen
        if proto == NLPID_IP and len(raw) == 4:
            yield address_text(1, raw)
        elif len(raw) == 16:
            yield address_text(2, raw)


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """The sender's identity from one CDP frame."""
    if len(message) < 4 or message[0] not in (1, 2):
        yield Malformed(ctx.src, ctx.dst, "cdp", "not a CDP version 1 or 2 header", message[:64])
        return
    attributes: list[tuple[str, str]] = [("cdp_version", str(message[0]))]
    pos = 4
    for _ in range(MAX_TLVS):
        if pos + 4 > len(message):
            break
        tlv, length = struct.unpack_from(">HH", message, pos)
        if length < 4 or pos + length > len(message):
            yield Malformed(ctx.src, ctx.dst, "cdp", f"TLV {tlv} cut at offset {pos}", message)
            break
        value = message[pos + 4 : pos + length]
        pos += length
        if tlv in TEXT_FIELDS:
            text = _text(value)
            if tlv == 5:
                text = text.splitlines()[0] if text else ""
            attributes.append((TEXT_FIELDS[tlv], text))
        elif tlv in (2, 22):
            attributes += [("management_address", a) for a in _addresses(value)]
        elif tlv == 10 and len(value) == 2:
            attributes.append(("native_vlan", str(struct.unpack(">H", value)[0])))
    attributes = list(dict.fromkeys((k, v) for k, v in attributes if v))
    yield Identity(ctx.src, "cdp", tuple(attributes))


PROTOCOL: Final = ProtocolSpec(
    name="cdp",
    title="Cisco Discovery Protocol",
    ethertypes=(0x2000,),  # the SNAP protocol id, as the walker reports it
    dissector=dissect,
    mode="representative",
    key_len=255,
    doc="docs/protocols/lldp.md",
)
