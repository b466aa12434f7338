"""DNS, multicast DNS and LLMNR: the names hosts are known by.

DNS message format (RFC 1035 section 4.1): a 12-byte header (id, flags,
four section counts), then questions and resource records whose names are
label sequences with compression pointers (section 4.1.4). mDNS (RFC 6762)
and LLMNR (RFC 4795) use the same format on UDP 5353 and 5355; there a host
answers (or announces, section 8.3 of RFC 6762) for its own name, so an A or
AAAA record names the device at that address. A unicast DNS answer is a
server's statement about another host: it is kept as ``dns_name``, not as
the device's own ``name``.
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
from otseam.protocols.registry import Framing, ProtocolSpec

__all__ = ["LLMNR", "MDNS", "PROTOCOL", "PROTOCOLS", "dissect", "normalise", "read_name"]

HEADER: Final = 12
MAX_POINTERS: Final = 16  # compression hops per name; a loop stops here
MAX_NAME: Final = 255  # octets of a name (RFC 1035 section 2.3.4)
MAX_RECORDS: Final = 64  # records read per message
TYPE_A: Final = 1
TYPE_PTR: Final = 12
TYPE_AAAA: Final = 28
TYPE_SRV: Final = 33
TYPES: Final[dict[int, str]] = {
    1: "A",
    2: "NS",
    5: "CNAME",
    6: "SOA",
    12: "PTR",
    15: "MX",
    16: "TXT",
    28: "AAAA",
    33: "SRV",
    47: "NSEC",
    255: "ANY",
}


class NameError_(ValueError):
    """A name that runs past the message, loops, or is too long."""


def read_name(message: bytes, pos: int) -> tuple[str, int]:
    """The dotted name at ``pos`` and the offset after it (RFC 1035 4.1.4).

    Compression pointers are followed at most ``MAX_POINTERS`` times and the
    name is cut at ``MAX_NAME`` octets, so a crafted loop cannot hang.
    """
    labels: list[str] = []
    end = -1
    hops = total = 0
    while True:
        if pos >= len(message):
            raise NameError_("name runs past the message")
        length = message[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(message):
                raise NameError_("compression pointer cut")
            hops += 1
            if hops > MAX_POINTERS:
                raise NameError_("compression pointer loop")
            if end < 0:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | message[pos + 1]
            continue
        if length & 0xC0:
            raise NameError_(f"unknown label type {length >> 6}")
        if length == 0:
            return ".".join(labels), (end if end >= 0 else pos + 1)
        total += length + 1
        if total > MAX_NAME or pos + 1 + length > len(message):
            raise NameError_("name too long or cut")
        labels.append(message[pos + 1 : pos + 1 + length].decode("utf-8", "replace"))
        pos += 1 + length


def normalise(name: str) -> str:
    """A host name without the trailing dot and the mDNS ``.local`` domain."""
    name = name.rstrip(".")
    if name.lower().endswith(".local"):
        name = name[: -len(".local")]
    return name


def _reverse_address(name: str) -> str | None:
    """The address a PTR owner name such as ``5.0.0.10.in-addr.arpa`` stands for."""
    lower = name.lower().rstrip(".")
    try:
        if lower.endswith(".in-addr.arpa"):
            parts = lower[: -len(".in-addr.arpa")].split(".")
            return str(ipaddress.IPv4Address(".".join(reversed(parts))))
        if lower.endswith(".ip6.arpa"):
            nibbles = "".join(reversed(lower[: -len(".ip6.arpa")].split(".")))
            return str(ipaddress.IPv6Address(int(nibbles, 16)))
    except ValueError:
        return None
    return None


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Roles and host names from one DNS, mDNS or LLMNR message."""
    if ctx.transport == "tcp":
        message = message[2:]  # the 2-byte length prefix (RFC 1035 section 4.2.2)
    if len(message) < HEADER:
        yield Malformed(ctx.src, ctx.dst, ctx.protocol, "shorter than a DNS header", message)
        return
    _id, flags, qd, an, ns, ar = struct.unpack_from(">6H", message)
    if not flags & 0x8000:
        return  # a query: who asks says nothing about itself
    yield ProtocolRole(ctx.src, ctx.protocol, "server")
    if ctx.protocol == "dns":
        yield ProtocolRole(ctx.dst, ctx.protocol, "client")
    attribute = "dns_name" if ctx.protocol == "dns" else "name"
    try:
        pos = HEADER
        for _ in range(min(qd, MAX_RECORDS)):
            pos = read_name(message, pos)[1] + 4
        names: dict[str, set[str]] = {}
        for _ in range(min(an + ns + ar, MAX_RECORDS)):
            owner, pos = read_name(message, pos)
            if pos + 10 > len(message):
                raise NameError_("record header cut")
            rtype, _cls, _ttl, rdlength = struct.unpack_from(">HHIH", message, pos)
            data = pos + 10
            pos = data + rdlength
            if pos > len(message):
                raise NameError_("record data cut")
            for address, name in _record(message, rtype, owner, data, rdlength):
                if name:
                    names.setdefault(address, set()).add(name)
    except NameError_ as exc:
        yield Malformed(ctx.src, ctx.dst, ctx.protocol, str(exc), message[:256])
        return
    for address in sorted(names):
        for name in sorted(names[address]):
            yield Identity(address, ctx.protocol, ((attribute, name),))


def _record(
    message: bytes, rtype: int, owner: str, data: int, rdlength: int
) -> Iterator[tuple[str, str]]:
    """(address, host name) pairs one resource record states."""
    if rtype == TYPE_A and rdlength == 4:
        yield str(ipaddress.IPv4Address(message[data : data + 4])), normalise(owner)
    elif rtype == TYPE_AAAA and rdlength == 16:
        yield str(ipaddress.IPv6Address(message[data : data + 16])), normalise(owner)
    elif rtype == TYPE_PTR:
        address = _reverse_address(owner)
        if address is not None:
            yield address, normalise(read_name(message, data)[0])


def _spec(name: str, title: str, port: int, doc: str) -> ProtocolSpec:
    return ProtocolSpec(
        name=name,
        title=title,
        tcp_ports=(port,) if name == "dns" else (),
        udp_ports=(port,),
        dissector=dissect,
        framing=Framing(len_offset=0, len_size=2, adjust=2) if name == "dns" else None,
        mode="representative",
        key_len=255,  # names and addresses are the content: key on all of it
        key_masks=((0, 2),),  # the transaction id (on TCP the length, after it the id)
        doc=doc,
    )


PROTOCOL: Final = _spec("dns", "DNS", 53, "docs/protocols/dns.md")
MDNS: Final = _spec("mdns", "mDNS", 5353, "docs/protocols/dns.md")
LLMNR: Final = _spec("llmnr", "LLMNR", 5355, "docs/protocols/dns.md")
PROTOCOLS: Final = (PROTOCOL, MDNS, LLMNR)
