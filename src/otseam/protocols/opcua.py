"""OPC UA binary over TCP (OPC 10000-6, UA Part 6: Mappings, sections 5.2
(built-in types), 6.7 (secure conversation) and 7.1 (UA TCP); services from
OPC 10000-4).

Every chunk starts with an 8-octet header: message type (HEL, ACK, ERR, RHE,
OPN, MSG, CLO), chunk type (F final, C intermediate, A abort) and the chunk
size (little-endian, counting the header). OPN carries the asymmetric
security header (security policy URI, certificates); MSG and CLO the
secure channel id, token id, sequence number and request id, then, unless
the channel encrypts, the service's encoding NodeId and body.

Identity comes from the server's ApplicationDescription and
EndpointDescriptions in GetEndpoints and CreateSession responses, the
client's in CreateSession requests, and BuildInfo structures returned by
Read (the Server object's ServerStatus or BuildInfo variables).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Final

from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols.registry import Framing, ProtocolSpec, Signature

__all__ = ["PROTOCOL", "SERVICES", "dissect"]

PORT: Final = 4840
NAME: Final = "opcua"
MESSAGE_TYPES: Final = frozenset({b"HEL", b"ACK", b"ERR", b"RHE", b"OPN", b"MSG", b"CLO"})
# service encoding NodeId (namespace 0) -> (name, operation, is a request)
_SERVICE_PAIRS: Final[dict[str, tuple[int, str]]] = {
    "FindServers": (422, "identify"),
    "GetEndpoints": (428, "identify"),
    "RegisterServer": (437, "config_change"),
    "OpenSecureChannel": (446, "session"),
    "CloseSecureChannel": (452, "session"),
    "CreateSession": (461, "session"),
    "ActivateSession": (467, "auth"),
    "CloseSession": (473, "session"),
    "Cancel": (479, "session"),
    "AddNodes": (488, "config_change"),
    "AddReferences": (494, "config_change"),
    "DeleteNodes": (500, "config_change"),
    "DeleteReferences": (506, "config_change"),
    "Browse": (527, "browse"),
    "BrowseNext": (533, "browse"),
    "TranslateBrowsePathsToNodeIds": (554, "browse"),
    "RegisterNodes": (560, "browse"),
    "UnregisterNodes": (566, "browse"),
    "QueryFirst": (615, "read"),
    "QueryNext": (621, "read"),
    "Read": (631, "read"),
    "HistoryRead": (664, "read"),
    "Write": (673, "write"),
    "HistoryUpdate": (700, "write"),
    "Call": (712, "method_call"),
    "CreateMonitoredItems": (751, "subscribe"),
    "ModifyMonitoredItems": (763, "subscribe"),
    "SetMonitoringMode": (769, "subscribe"),
    "SetTriggering": (775, "subscribe"),
    "DeleteMonitoredItems": (781, "subscribe"),
    "CreateSubscription": (787, "subscribe"),
    "ModifySubscription": (793, "subscribe"),
    "SetPublishingMode": (799, "subscribe"),
    "Publish": (826, "subscribe"),
    "Republish": (832, "subscribe"),
    "TransferSubscriptions": (841, "subscribe"),
    "DeleteSubscriptions": (847, "subscribe"),
    "FindServersOnNetwork": (12208, "identify"),
    "RegisterServer2": (12211, "config_change"),
}
# A response's encoding id is the request's plus 3, except for the two
# services added in version 1.03 (plus 1).
SERVICES: Final[dict[int, tuple[str, str, bool]]] = {
    **{i: (f"{n}Request", op, True) for n, (i, op) in _SERVICE_PAIRS.items()},
    **{
        i + (1 if i > 12000 else 3): (f"{n}Response", op, False)
        for n, (i, op) in _SERVICE_PAIRS.items()
    },
    397: ("ServiceFault", "other", False),
}
SECURITY_MODES: Final = {1: "None", 2: "Sign", 3: "SignAndEncrypt"}
BUILD_INFO: Final = 340  # BuildInfo_Encoding_DefaultBinary
SERVER_STATUS: Final = 864  # ServerStatusDataType_Encoding_DefaultBinary
EXTENSION_OBJECT: Final = 22  # built-in type id of a Variant holding one


class Truncated(Exception):
    """The chunk ends before the structure being read (internal)."""


class Reader:
    """Built-in types of the binary encoding (UA Part 6, 5.2.2), read in order."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise Truncated
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def skip(self, n: int) -> None:
        self.take(n)

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def i32(self) -> int:
        return int(struct.unpack("<i", self.take(4))[0])

    def bytestring(self) -> bytes:
        n = self.i32()
        return b"" if n < 0 else self.take(n)

    def string(self) -> str:
        return self.bytestring().decode("utf-8", errors="replace")

    def strings(self) -> list[str]:
        return [self.string() for _ in range(self.array_length())]

    def array_length(self) -> int:
        n = self.i32()
        if n > len(self.data) - self.pos:  # every element takes at least a byte
            raise Truncated
        return max(n, 0)

    def node_id(self) -> tuple[int, int | None]:
        """(encoding byte, numeric identifier or None) of a (Expanded)NodeId."""
        mask = self.u8()
        encoding, numeric = mask & 0x0F, None
        if encoding == 0:
            numeric = self.u8()
        elif encoding == 1:
            self.skip(1)
            numeric = int.from_bytes(self.take(2), "little")
        elif encoding == 2:
            self.skip(2)
            numeric = self.u32()
        elif encoding in (3, 5):
            self.skip(2)
            self.bytestring()
        elif encoding == 4:
            self.skip(18)
        else:
            raise Truncated
        if mask & 0x80:
            self.string()  # namespace URI
        if mask & 0x40:
            self.skip(4)  # server index
        return mask, numeric

    def service_id(self) -> int | None:
        """The body's encoding NodeId when it is a plain namespace-0 numeric one."""
        mask, numeric = self.node_id()
        return numeric if mask == 0x01 else None

    def localized_text(self) -> str:
        mask = self.u8()
        if mask & 0x01:
            self.string()  # locale
        return self.string() if mask & 0x02 else ""

    def diagnostic_info(self, depth: int = 0) -> None:
        mask = self.u8()
        for bit in (0x01, 0x02, 0x04, 0x08):  # symbolic id, namespace, text, locale
            if mask & bit:
                self.skip(4)
        if mask & 0x10:
            self.string()
        if mask & 0x20:
            self.skip(4)
        if mask & 0x40:
            if depth > 8:
                raise Truncated
            self.diagnostic_info(depth + 1)

    def extension_object(self) -> tuple[int | None, bytes]:
        _, type_id = self.node_id()
        encoding = self.u8()
        return type_id, (self.bytestring() if encoding in (1, 2) else b"")

    def request_header(self) -> None:
        self.node_id()  # authentication token
        self.skip(16)  # timestamp, request handle, return diagnostics
        self.string()  # audit entry id
        self.skip(4)  # timeout hint
        self.extension_object()

    def response_header(self) -> None:
        self.skip(16)  # timestamp, request handle, service result
        self.diagnostic_info()
        self.strings()  # string table
        self.extension_object()


Attributes = list[tuple[str, str]]


def policy_name(uri: str) -> str:
    """The short name of a security policy URI (the part after '#')."""
    return uri.rpartition("#")[2] or uri


def _application(reader: Reader, found: Attributes) -> None:
    """ApplicationDescription (UA Part 4, 7.2)."""
    for key, value in (("application_uri", reader.string()), ("product_uri", reader.string())):
        if value:
            found.append((key, value))
    name = reader.localized_text()
    # A client's application name names the software, not the machine: it
    # must not become the asset's name (application type 1 = Client).
    client = reader.u32() == 1
    if name:
        found.append(("application_name" if client else "name", name))
    reader.string()  # gateway server URI
    reader.string()  # discovery profile URI
    reader.strings()  # discovery URLs


def _endpoints(reader: Reader, found: Attributes) -> None:
    """Array of EndpointDescription (UA Part 4, 7.14)."""
    for _ in range(reader.array_length()):
        reader.string()  # endpoint URL
        _application(reader, found)
        reader.bytestring()  # server certificate
        mode = reader.u32()
        found.append(("security_mode", SECURITY_MODES.get(mode, f"unknown-{mode}")))
        found.append(("security_policy", policy_name(reader.string())))
        if mode == 1:
            found.append(("insecure", "true"))
        for _ in range(reader.array_length()):  # UserTokenPolicy
            reader.string()
            reader.skip(4)
            reader.string()
            reader.string()
            reader.string()
        reader.string()  # transport profile URI
        reader.skip(1)  # security level


def get_endpoints_response(reader: Reader, found: Attributes) -> None:
    reader.response_header()
    _endpoints(reader, found)


def create_session_request(reader: Reader, found: Attributes) -> None:
    reader.request_header()
    _application(reader, found)


def create_session_response(reader: Reader, found: Attributes) -> None:
    reader.response_header()
    reader.node_id()  # session id
    reader.node_id()  # authentication token
    reader.skip(8)  # revised session timeout
    reader.bytestring()  # server nonce
    reader.bytestring()  # server certificate
    _endpoints(reader, found)


def build_info_results(reader: Reader, found: Attributes) -> None:
    """BuildInfo values among a ReadResponse's DataValues (UA Part 5, 12.4)."""
    reader.response_header()
    for _ in range(reader.array_length()):
        mask = reader.u8()
        if mask & 0x01:
            variant = reader.u8()
            if variant != EXTENSION_OBJECT:
                return  # other values need their request to be understood
            type_id, body = reader.extension_object()
            if type_id in (BUILD_INFO, SERVER_STATUS):
                _build_info(Reader(body, 20 if type_id == SERVER_STATUS else 0), found)
        for bit, size in ((0x02, 4), (0x04, 8), (0x08, 8), (0x10, 2), (0x20, 2)):
            if mask & bit:
                reader.skip(size)


def _build_info(reader: Reader, found: Attributes) -> None:
    keys = ("product_uri", "vendor", "product", "firmware", "build")
    for key in keys:
        value = reader.string()
        if value:
            found.append((key, value))


IdentityParser = Callable[[Reader, Attributes], None]


IDENTITY_PARSERS: Final[dict[int, IdentityParser]] = {
    431: get_endpoints_response,
    461: create_session_request,
    464: create_session_response,
    634: build_info_results,
}


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from every chunk in one TCP payload or reassembled PDU."""
    pos = 0
    while pos + 8 <= len(message):
        kind = message[pos : pos + 3]
        size = int.from_bytes(message[pos + 4 : pos + 8], "little")
        if kind not in MESSAGE_TYPES or size < 8:
            yield Malformed(ctx.src, ctx.dst, NAME, "not an OPC UA chunk header", message[:64])
            return
        chunk = message[pos : pos + size]
        if len(chunk) < size:
            yield Malformed(
                ctx.src, ctx.dst, NAME, f"chunk truncated: {len(chunk)} of {size} bytes", chunk[:64]
            )
            return
        yield from _chunk(kind, chunk, ctx)
        pos += size
    if len(message) - pos > 0:
        yield Malformed(ctx.src, ctx.dst, NAME, "bytes after the last chunk", message[pos:][:64])


def _chunk(kind: bytes, chunk: bytes, ctx: MessageContext) -> Iterator[Observation]:
    if kind in (b"HEL", b"RHE"):  # Hello goes to the server; ReverseHello comes from it
        yield from _roles(ctx, server_is_dst=kind == b"HEL")
        return
    if kind in (b"ACK", b"ERR"):
        yield from _roles(ctx, server_is_dst=False)
        return
    reader = Reader(chunk, 8)
    policy = None
    try:
        reader.skip(4)  # secure channel id
        if kind == b"OPN":
            policy = reader.string()
            reader.bytestring()  # sender certificate
            reader.bytestring()  # receiver certificate thumbprint
        else:
            reader.skip(4)  # token id
        reader.skip(8)  # sequence number, request id
        service = reader.service_id()
    except Truncated:
        service = None
    if service is None or service not in SERVICES:
        # an encrypted body, or a chunk continuing an earlier one
        yield from _roles_by_port(ctx)
        if policy and (ctx.sport == PORT) != (ctx.dport == PORT):
            yield Identity(ctx.dst if ctx.dport == PORT else ctx.src, NAME, _policy(policy))
        return
    name, operation, is_request = SERVICES[service]
    if is_request:
        yield Operation(ctx.src, ctx.dst, NAME, operation, service, name)
    yield from _roles(ctx, server_is_dst=is_request)
    if policy:  # the channel's policy is the server's, whoever names it
        yield Identity(ctx.dst if is_request else ctx.src, NAME, _policy(policy))
    attributes: list[tuple[str, str]] = []
    parser = IDENTITY_PARSERS.get(service)
    if parser is not None:
        with suppress(Truncated):  # keep what a first chunk of a longer message held
            parser(reader, attributes)
    if attributes:
        yield Identity(ctx.src, NAME, tuple(dict.fromkeys(attributes)))


def _policy(uri: str) -> tuple[tuple[str, str], ...]:
    name = policy_name(uri)
    if name == "None":
        return (("security_policy", name), ("security_mode", "None"), ("insecure", "true"))
    return (("security_policy", name),)


def _roles(ctx: MessageContext, server_is_dst: bool) -> Iterator[Observation]:
    server, client = (ctx.dst, ctx.src) if server_is_dst else (ctx.src, ctx.dst)
    yield ProtocolRole(server, NAME, "server")
    yield ProtocolRole(client, NAME, "client")


def _roles_by_port(ctx: MessageContext) -> Iterator[Observation]:
    if (ctx.sport == PORT) != (ctx.dport == PORT):
        yield from _roles(ctx, server_is_dst=ctx.dport == PORT)


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="OPC UA binary",
    tcp_ports=(PORT,),
    signatures=(Signature("tcp", 0, b"HELF", min_payload=32),),
    dissector=dissect,
    framing=Framing(len_offset=4, len_size=4, big_endian=False, max_length=1 << 24),
    mode="representative",
    # Message type, chunk type, size and (for MSG) the service NodeId at
    # offset 24; the secure channel id, token id, sequence number and
    # request id between them change per channel or per message.
    key_skip=0,
    key_len=28,
    key_masks=((8, 16),),
    doc="docs/protocols/opcua.md",
)
