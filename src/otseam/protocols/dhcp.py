"""DHCP (RFC 2131; options RFC 2132, client FQDN RFC 4702).

A BOOTP message (RFC 2131 section 2) is a 236-byte fixed part (op, htype,
hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname,
file), the magic cookie 99.130.83.99 and options (tag, length, value; 0 is
padding, 255 the end). The client's own statements (host name 12, vendor
class 60, parameter request list 55, FQDN 81) identify it by its hardware
address, since its IP is often still 0.0.0.0; the server answers (op 2) on
port 68.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Final

from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    ProtocolRole,
)
from otseam.protocols.registry import ProtocolSpec

__all__ = ["MESSAGE_TYPES", "PROTOCOL", "dissect", "options"]

FIXED: Final = 236
COOKIE: Final = b"\x63\x82\x53\x63"
MAX_OPTIONS: Final = 128

# option 53 (RFC 2132 section 9.6, RFC 4388, RFC 6926)
MESSAGE_TYPES: Final[dict[int, str]] = {
    1: "DHCPDISCOVER",
    2: "DHCPOFFER",
    3: "DHCPREQUEST",
    4: "DHCPDECLINE",
    5: "DHCPACK",
    6: "DHCPNAK",
    7: "DHCPRELEASE",
    8: "DHCPINFORM",
    10: "DHCPLEASEQUERY",
    13: "DHCPBULKLEASEQUERY",
}
OPT_HOSTNAME: Final = 12
OPT_REQUESTED_IP: Final = 50
OPT_MESSAGE_TYPE: Final = 53
OPT_SERVER_ID: Final = 54
OPT_PARAMETERS: Final = 55
OPT_VENDOR_CLASS: Final = 60
OPT_FQDN: Final = 81


def options(message: bytes, start: int = FIXED + 4) -> dict[int, bytes]:
    """Option tag -> value; a repeated tag's values are joined (RFC 3396)."""
    found: dict[int, bytes] = {}
    pos = start
    for _ in range(MAX_OPTIONS):
        if pos >= len(message):
            break
        tag = message[pos]
        if tag == 255:
            break
        if tag == 0:
            pos += 1
            continue
        if pos + 1 >= len(message):
            raise ValueError(f"option {tag} length cut at offset {pos}")
        length = message[pos + 1]
        value = message[pos + 2 : pos + 2 + length]
        if len(value) < length:
            raise ValueError(f"option {tag} cut at offset {pos}")
        found[tag] = found.get(tag, b"") + value
        pos += 2 + length
    return found


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace").strip("\x00 ").strip()


def _fqdn(value: bytes) -> str:
    """Option 81: flags, two obsolete rcodes, then the name (RFC 4702 section 2)."""
    if len(value) < 4:
        return ""
    name = value[3:]
    if value[0] & 0x04:  # E bit: canonical wire format
        labels: list[str] = []
        pos = 0
        while pos < len(name) and name[pos] and len(labels) < 64:
            labels.append(name[pos + 1 : pos + 1 + name[pos]].decode("utf-8", "replace"))
            pos += 1 + name[pos]
        return ".".join(labels)
    return _text(name).rstrip(".")


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Roles and the client's identity from one DHCP message."""
    if len(message) < FIXED + 4 or message[FIXED : FIXED + 4] != COOKIE:
        yield Malformed(
            ctx.src, ctx.dst, "dhcp", "no DHCP magic cookie at offset 236", message[:64]
        )
        return
    op, htype, hlen = message[0], message[1], message[2]
    try:
        found = options(message)
    except ValueError as exc:
        yield Malformed(ctx.src, ctx.dst, "dhcp", str(exc), message[:256])
        return
    if op == 2:
        yield ProtocolRole(ctx.src, "dhcp", "server")
    elif op == 1:
        yield ProtocolRole(ctx.src, "dhcp", "client")
    if htype != 1 or hlen != 6:
        return  # only Ethernet hardware addresses name an asset
    mac = ":".join(f"{b:02x}" for b in message[28:34])
    attributes: list[tuple[str, str]] = []
    if op == 1:
        attributes += _client_attributes(found)
    elif op == 2 and _message_type(found) in ("DHCPOFFER", "DHCPACK", "BOOTP"):
        yiaddr = str(ipaddress.IPv4Address(message[16:20]))
        if yiaddr != "0.0.0.0":
            attributes.append(("dhcp_assigned_ip", yiaddr))
        # a server may hand the client its host name (RFC 2132 section 3.14)
        attributes.append(("name", _text(found.get(OPT_HOSTNAME, b""))))
    server = found.get(OPT_SERVER_ID, b"")
    if len(server) == 4:
        attributes.append(("dhcp_server", str(ipaddress.IPv4Address(server))))
    attributes = [(k, v) for k, v in attributes if v]
    if attributes:
        yield Identity(mac, "dhcp", tuple(attributes))


def _message_type(found: dict[int, bytes]) -> str:
    kind = found.get(OPT_MESSAGE_TYPE, b"")
    if len(kind) != 1:
        return "BOOTP"
    return MESSAGE_TYPES.get(kind[0], f"unknown-{kind[0]}")


def _client_attributes(found: dict[int, bytes]) -> list[tuple[str, str]]:
    attributes = [
        ("name", _text(found.get(OPT_HOSTNAME, b""))),
        ("vendor_class", _text(found.get(OPT_VENDOR_CLASS, b""))),
        ("dhcp_fingerprint", ",".join(str(b) for b in found.get(OPT_PARAMETERS, b""))),
    ]
    if OPT_FQDN in found:
        attributes.append(("fqdn", _fqdn(found[OPT_FQDN])))
    requested = found.get(OPT_REQUESTED_IP, b"")
    if len(requested) == 4:
        attributes.append(("dhcp_requested_ip", str(ipaddress.IPv4Address(requested))))
    return attributes


PROTOCOL: Final = ProtocolSpec(
    name="dhcp",
    title="DHCP",
    udp_ports=(67, 68),
    dissector=dissect,
    mode="representative",
    # All clients broadcast in one 0.0.0.0 -> 255.255.255.255 conversation:
    # the key must hold chaddr (28-43) and the first options; xid (4-7) and
    # secs (8-9) change with every message.
    key_len=255,
    key_masks=((4, 6),),
    doc="docs/protocols/dhcp.md",
)
