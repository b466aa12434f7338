"""TLS handshake hellos (RFC 8446 TLS 1.3 sections 4.1.2-4.1.3 and 4.2; RFC
5246 TLS 1.2 section 7.4.1; RFC 6066 section 3 server_name; RFC 7301
application_layer_protocol_negotiation; RFC 8701 GREASE).

A TLS record is content type (1), legacy version (2), length (2) and the
fragment. Handshake records (type 22) start with the message type (1) and
its length (3). The ClientHello names the server it wants (SNI), the
versions and the application protocols it offers; the ServerHello the
version chosen (from supported_versions in TLS 1.3). Everything after the
hellos is encrypted in TLS 1.3 and is not read.

A hello may span TCP segments (a post-quantum key share makes a ClientHello
larger than one segment); what the first segment holds is read and the
rest ignored, without a Malformed: segments are dissected as they come.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from typing import Final

from otseam.model.observations import Identity, MessageContext, Observation, ProtocolRole
from otseam.protocols.registry import ProtocolSpec, Signature

__all__ = ["PROTOCOL", "VERSIONS", "dissect"]

NAME: Final = "tls"
HANDSHAKE: Final = 22
CLIENT_HELLO: Final = 1
SERVER_HELLO: Final = 2
EXT_SERVER_NAME: Final = 0
EXT_ALPN: Final = 16
EXT_SUPPORTED_VERSIONS: Final = 43
MAX_VALUE: Final = 200  # the store keeps identity values up to 255 characters

VERSIONS: Final[dict[int, str]] = {
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}

_HOST_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?")
_TOKEN: Final = re.compile(r"[!-~]{1,40}")


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from a ClientHello or ServerHello at the start of a segment."""
    if len(message) < 9 or message[0] != HANDSHAKE or message[1] != 3:
        return
    (length,) = struct.unpack_from(">H", message, 3)
    body = message[9 : 5 + length]  # the first handshake message, as far as present
    if message[5] == CLIENT_HELLO:
        yield from _client_hello(body, ctx)
    elif message[5] == SERVER_HELLO:
        yield from _server_hello(body, ctx)


def _client_hello(body: bytes, ctx: MessageContext) -> Iterator[Observation]:
    yield ProtocolRole(ctx.dst, NAME, "server")
    yield ProtocolRole(ctx.src, NAME, "client")
    legacy = _u16(body, 0)
    pos = _skip8(body, 34)  # version, random, session id
    pos = _skip16(body, pos)  # cipher suites
    pos = _skip8(body, pos)  # compression methods
    extensions = dict(_extensions(body, pos))
    offered = _versions_offered(extensions.get(EXT_SUPPORTED_VERSIONS, b""))
    if not offered and legacy is not None:
        offered = [legacy]
    versions = ",".join(_version(v) for v in offered[:8]) or "none"
    attributes = [("tls_versions_offered", versions)]
    alpn = _alpn(extensions.get(EXT_ALPN, b""))
    if alpn:
        attributes.append(("tls_alpn_offered", ",".join(alpn)[:MAX_VALUE]))
    yield Identity(ctx.src, NAME, tuple(attributes))
    name = _server_name(extensions.get(EXT_SERVER_NAME, b""))
    if name:
        yield Identity(ctx.dst, NAME, (("server_name", name),))


def _server_hello(body: bytes, ctx: MessageContext) -> Iterator[Observation]:
    yield ProtocolRole(ctx.src, NAME, "server")
    yield ProtocolRole(ctx.dst, NAME, "client")
    legacy = _u16(body, 0)
    pos = _skip8(body, 34)  # version, random, session id
    pos += 3  # cipher suite, compression method
    extensions = dict(_extensions(body, pos))
    chosen = _u16(extensions.get(EXT_SUPPORTED_VERSIONS, b""), 0) or legacy
    attributes = [("tls_version", _version(chosen) if chosen is not None else "unknown")]
    alpn = _alpn(extensions.get(EXT_ALPN, b""))
    if alpn:
        attributes.append(("tls_alpn", alpn[0]))
    yield Identity(ctx.src, NAME, tuple(attributes))


def _u16(data: bytes, pos: int) -> int | None:
    return int.from_bytes(data[pos : pos + 2], "big") if pos + 2 <= len(data) else None


def _skip8(data: bytes, pos: int) -> int:
    """Past a vector with a one-byte length at ``pos``."""
    return pos + 1 + data[pos] if pos < len(data) else len(data)


def _skip16(data: bytes, pos: int) -> int:
    size = _u16(data, pos)
    return pos + 2 + size if size is not None else len(data)


def _extensions(body: bytes, pos: int) -> Iterator[tuple[int, bytes]]:
    """(type, data) of each extension wholly present (RFC 8446 section 4.2)."""
    pos += 2  # the extensions' total length: the segment may end earlier
    while pos + 4 <= len(body):
        ext_type, size = struct.unpack_from(">HH", body, pos)
        data = body[pos + 4 : pos + 4 + size]
        if len(data) < size:
            return
        yield ext_type, data
        pos += 4 + size


def _is_grease(version: int) -> bool:
    return version & 0x0F0F == 0x0A0A and version >> 8 == version & 0xFF  # RFC 8701


def _versions_offered(data: bytes) -> list[int]:
    if not data:
        return []
    listed = data[1 : 1 + data[0]]
    versions = [int.from_bytes(listed[i : i + 2], "big") for i in range(0, len(listed) - 1, 2)]
    return [v for v in versions if not _is_grease(v)]


def _version(version: int) -> str:
    return VERSIONS.get(version, f"unknown-0x{version:04x}")


def _alpn(data: bytes) -> list[str]:
    """Protocol names of an ALPN extension (RFC 7301 section 3.1)."""
    names, pos = [], 2
    while pos < len(data):
        size = data[pos]
        name = data[pos + 1 : pos + 1 + size].decode("latin-1")
        pos += 1 + size
        if _TOKEN.fullmatch(name):  # GREASE values (RFC 8701) are not printable
            names.append(name)
    return names[:8]


def _server_name(data: bytes) -> str | None:
    """The host_name entry of a server_name extension (RFC 6066 section 3)."""
    pos = 2
    while pos + 3 <= len(data):
        name_type, size = data[pos], int.from_bytes(data[pos + 1 : pos + 3], "big")
        value = data[pos + 3 : pos + 3 + size].decode("latin-1")
        pos += 3 + size
        if name_type == 0 and len(value) <= 253 and _HOST_NAME.fullmatch(value):
            return value.lower().rstrip(".")
    return None


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="TLS",
    tcp_ports=(443, 8443),
    signatures=(
        # a handshake record of version 3.x whose first message is a ClientHello
        Signature("tcp", 0, b"\x16\x03\x00\x00\x00\x01", mask=b"\xff\xff\x00\x00\x00\xff"),
    ),
    dissector=dissect,
    mode="representative",
    max_messages=8,  # read from its opening; bulk data is counted, not dissected
    # content type, handshake type and length; the record's version and
    # length are masked, the random and session id lie beyond the key
    key_len=9,
    key_masks=((1, 4),),
    doc="docs/protocols/tls.md",
)
