"""VNC: the Remote Framebuffer protocol's handshake (RFC 6143 sections 7.1.1
and 7.1.2; later security types from the IANA "RFB Security Types"
registry).

The server opens with ProtocolVersion ``RFB xxx.yyy\\n`` (12 bytes) and the
client answers with the version it will use. For 3.7 and later the server
then lists its security types (a count byte, one byte per type). A 3.3
server's imposed type (four bytes) is not told apart from later messages
without the connection's state and is not read, nor is anything after.
The side on a registered port (5900, 5901) is the server; elsewhere the
side on the lower port.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from otseam.model.observations import (
    Identity,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols.registry import ProtocolSpec, Signature

__all__ = ["PROTOCOL", "SECURITY_TYPES", "dissect"]

NAME: Final = "vnc"
PORTS: Final = (5900, 5901)
PROTOCOL_VERSION_CODE: Final = 0  # the handshake's first message has no code of its own

SECURITY_TYPES: Final[dict[int, str]] = {
    0: "Invalid",
    1: "None",
    2: "VNC Authentication",
    5: "RA2",
    6: "RA2ne",
    16: "Tight",
    17: "Ultra",
    18: "TLS",
    19: "VeNCrypt",
    20: "GTK-VNC SASL",
    21: "MD5 hash authentication",
    22: "Colin Dean xvp",
    23: "Secure Tunnel",
    24: "Integrated SSH",
    30: "Apple Remote Desktop",
    113: "MSLogonII",
}

_VERSION: Final = re.compile(rb"RFB (\d{3})\.(\d{3})\n")


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from a ProtocolVersion or the server's security types."""
    server_sent = _from_server(ctx)
    server, client = (ctx.src, ctx.dst) if server_sent else (ctx.dst, ctx.src)
    version = _VERSION.fullmatch(message)
    if version is not None:
        major, minor = int(version.group(1)), int(version.group(2))
        yield ProtocolRole(server, NAME, "server")
        yield ProtocolRole(client, NAME, "client")
        if not server_sent:
            yield Operation(
                client, server, NAME, "remote_session", PROTOCOL_VERSION_CODE, "ProtocolVersion"
            )
        yield Identity(ctx.src, NAME, (("rfb_version", f"{major}.{minor}"),))
        return
    if server_sent:
        types = _security_types(message)
        if types:
            yield Identity(ctx.src, NAME, (("rfb_security_types", types),))


def _from_server(ctx: MessageContext) -> bool:
    if ctx.sport in PORTS and ctx.dport not in PORTS:
        return True
    if ctx.dport in PORTS and ctx.sport not in PORTS:
        return False
    return ctx.sport < ctx.dport


def _security_types(message: bytes) -> str | None:
    """The types a 3.7+ server offers (a count, then distinct type codes);
    None when the message is not such a list. Without the connection's
    state a list is told by its shape, so unregistered codes are refused."""
    types = message[1:]
    if not types or message[0] != len(types) or len(set(types)) != len(types):
        return None
    if any(t == 0 or t not in SECURITY_TYPES for t in types):
        return None
    return ",".join(SECURITY_TYPES[t] for t in types)


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="VNC / RFB",
    tcp_ports=PORTS,
    signatures=(Signature("tcp", 0, b"RFB 0"),),
    dissector=dissect,
    mode="representative",
    max_messages=8,  # read from its opening; bulk data is counted, not dissected
    key_len=12,  # a whole ProtocolVersion message
    doc="docs/protocols/vnc.md",
)
