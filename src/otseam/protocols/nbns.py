"""NetBIOS name service (RFC 1002 section 4.2): Windows host names.

The message has the DNS layout (RFC 1002 4.2.1); a NetBIOS name is 15
characters and a suffix byte, first-level encoded as 32 letters (RFC 1001
section 14.1, each nibble plus ``'A'``). A registration or refresh request
(opcode 5, 8, 9) carries the registering host's address in its additional
record, a positive query response the owner's in its answer (NB_FLAGS and an
IPv4 address per entry, 4.2.2.1); a node status response (4.2.18) lists the
names of the host that sends it. Unique names with the workstation (0x00) or
server (0x20) suffix become the host's ``name``.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from typing import Final

from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    ProtocolRole,
)
from otseam.protocols.dns import MAX_RECORDS, NameError_, read_name
from otseam.protocols.registry import ProtocolSpec

__all__ = ["OPCODES", "PROTOCOL", "decode_name", "dissect"]

OPCODES: Final[dict[int, str]] = {
    0: "query",
    5: "registration",
    6: "release",
    7: "wack",
    8: "refresh",
    9: "refresh",
    15: "multi-homed registration",
}
TYPE_NB: Final = 0x20
TYPE_NBSTAT: Final = 0x21
HOST_SUFFIXES: Final = (0x00, 0x20)
GROUP: Final = 0x8000


def decode_name(label: str) -> tuple[str, int] | None:
    """(name, suffix) of a first-level encoded NetBIOS label, or None."""
    first = label.split(".", 1)[0]
    if len(first) != 32 or not all("A" <= c <= "P" for c in first.upper()):
        return None
    raw = bytes(
        ((ord(first[i].upper()) - 65) << 4) | (ord(first[i + 1].upper()) - 65)
        for i in range(0, 32, 2)
    )
    return raw[:15].decode("latin-1").rstrip(" \x00"), raw[15]


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Roles and host names from one name service packet."""
    if len(message) < 12:
        yield Malformed(ctx.src, ctx.dst, "nbns", "shorter than a name service header", message)
        return
    _id, flags, qd, an, ns, ar = struct.unpack_from(">6H", message)
    response = bool(flags & 0x8000)
    opcode = (flags >> 11) & 0xF
    if response:
        yield ProtocolRole(ctx.src, "nbns", "server")
    try:
        found = list(_names(message, qd, an + ns + ar, response, opcode, ctx.src))
    except (NameError_, ValueError) as exc:
        yield Malformed(ctx.src, ctx.dst, "nbns", str(exc), message[:256])
        return
    for address, name in sorted(set(found)):
        yield Identity(address, "nbns", (("name", name),))


def _names(
    message: bytes, qd: int, records: int, response: bool, opcode: int, sender: str
) -> Iterator[tuple[str, str]]:
    pos = 12
    for _ in range(min(qd, MAX_RECORDS)):
        pos = read_name(message, pos)[1] + 4
    for _ in range(min(records, MAX_RECORDS)):
        owner, pos = read_name(message, pos)
        if pos + 10 > len(message):
            raise NameError_("record header cut")
        rtype, _cls, _ttl, rdlength = struct.unpack_from(">HHIH", message, pos)
        data, pos = pos + 10, pos + 10 + rdlength
        if pos > len(message):
            raise NameError_("record data cut")
        decoded = decode_name(owner)
        if rtype == TYPE_NBSTAT and response:
            yield from _node_status(message[data:pos], sender)
        elif rtype == TYPE_NB and decoded and decoded[1] in HOST_SUFFIXES and decoded[0]:
            if response and opcode != 0:
                continue  # a registration's answer echoes the request, maybe a refusal
            for entry in range(data, pos - 5, 6):
                nb_flags = struct.unpack_from(">H", message, entry)[0]
                if not nb_flags & GROUP:
                    yield str(ipaddress.IPv4Address(message[entry + 2 : entry + 6])), decoded[0]


def _node_status(rdata: bytes, sender: str) -> Iterator[tuple[str, str]]:
    """NODE_NAME entries (RFC 1002 4.2.18): 15-byte name, suffix, flags."""
    if not rdata:
        return
    for i in range(min(rdata[0], 64)):
        entry = rdata[1 + 18 * i : 19 + 18 * i]
        if len(entry) < 18:
            return
        name, suffix = entry[:15].decode("latin-1").rstrip(" \x00"), entry[15]
        flags = struct.unpack_from(">H", entry, 16)[0]
        if name and suffix in HOST_SUFFIXES and not flags & GROUP:
            yield sender, name


PROTOCOL: Final = ProtocolSpec(
    name="nbns",
    title="NetBIOS name service",
    udp_ports=(137,),
    dissector=dissect,
    mode="representative",
    key_len=255,
    key_masks=((0, 2),),  # the transaction id
    doc="docs/protocols/dns.md",
)
