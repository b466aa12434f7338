"""HTTP/1.x (RFC 9110 HTTP Semantics; RFC 9112 HTTP/1.1 message syntax).

A message starts with a start line: a request line ``method SP
request-target SP HTTP-version`` (RFC 9112 section 3) or a status line
``HTTP-version SP status-code SP reason`` (section 4), then header fields up
to an empty line. Only the first start line of a segment and its headers
are read (a pipelined request after it is not); a segment that starts
neither (a body, the rest of a long header) yields nothing. URLs are never
stored: they may carry query strings or credentials. From the headers:

- ``User-Agent`` (RFC 9110 section 10.1.5) names the client's software;
- ``Server`` (section 10.2.4) names the server's software;
- ``Host`` (section 7.2) names the server when the request target is in
  origin form (a request to a proxy names another server).
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

__all__ = ["METHODS", "PROTOCOL", "dissect"]

NAME: Final = "http"
MAX_VALUE: Final = 200
HEADER_LIMIT: Final = 8192  # header bytes read from one segment
READ_FIELDS: Final = frozenset({"host", "server", "user-agent"})

# method -> (code, operation); RFC 9110 section 9 and RFC 4918 (WebDAV).
# HTTP methods have no numbers: the codes are otseam's, fixed here.
METHODS: Final[dict[str, tuple[int, str]]] = {
    "GET": (1, "read"),
    "HEAD": (2, "read"),
    "POST": (3, "write"),
    "PUT": (4, "write"),
    "DELETE": (5, "write"),
    "CONNECT": (6, "tunnel"),
    "OPTIONS": (7, "read"),
    "TRACE": (8, "diagnostic"),
    "PATCH": (9, "write"),
    "PROPFIND": (10, "read"),
    "PROPPATCH": (11, "write"),
    "MKCOL": (12, "write"),
    "COPY": (13, "write"),
    "MOVE": (14, "write"),
    "LOCK": (15, "write"),
    "UNLOCK": (16, "write"),
}

_REQUEST_LINE: Final = re.compile(rb"([A-Z][A-Z_-]{0,19}) (\S{1,8192}) HTTP/(\d)\.(\d)\r?$")
_STATUS_LINE: Final = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: .*)?\r?$")
_HOST: Final = re.compile(r"[A-Za-z0-9.-]{1,253}")
_IP_LITERAL: Final = re.compile(r"[0-9.]+|\[[0-9A-Fa-f:.]+\]")


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from the start line and headers of one segment."""
    head = message[:HEADER_LIMIT]
    line, _, rest = head.partition(b"\n")
    request = _REQUEST_LINE.fullmatch(line)
    if request is not None:
        version = f"{request.group(3).decode()}.{request.group(4).decode()}"
        yield from _request(request.group(1).decode(), request.group(2), version, rest, ctx)
        return
    status = _STATUS_LINE.fullmatch(line)
    if status is not None:
        yield ProtocolRole(ctx.src, NAME, "server")
        yield ProtocolRole(ctx.dst, NAME, "client")
        attributes = [("http_version", f"{status.group(1).decode()}.{status.group(2).decode()}")]
        server = _headers(rest).get("server")
        if server:
            attributes.append(("server_software", server))
        yield Identity(ctx.src, NAME, tuple(attributes))


def _request(
    method: str, target: bytes, version: str, rest: bytes, ctx: MessageContext
) -> Iterator[Observation]:
    code, operation = METHODS.get(method, (0, "unknown"))
    name = method if code else f"unknown-{method}"
    yield Operation(ctx.src, ctx.dst, NAME, operation, code, name)
    yield ProtocolRole(ctx.dst, NAME, "server")
    yield ProtocolRole(ctx.src, NAME, "client")
    headers = _headers(rest)
    # Always an Identity, so that the output is never taken for header-only
    # and reused for another conversation whose headers differ.
    attributes = [("http_version", version)]
    agent = headers.get("user-agent")
    if agent:
        attributes.append(("user_agent", agent))
    yield Identity(ctx.src, NAME, tuple(attributes))
    host = _host_name(headers.get("host", "")) if target.startswith(b"/") else None
    if host:
        yield Identity(ctx.dst, NAME, (("http_host", host),))


def _headers(block: bytes) -> dict[str, str]:
    """The fields of ``READ_FIELDS`` up to the empty line (or the end of the
    segment); names lower-cased, values printable ASCII and at most
    MAX_VALUE long. Other fields (credentials, cookies) are not looked at."""
    found: dict[str, str] = {}
    for raw in block.split(b"\n"):
        line = raw.rstrip(b"\r")
        if not line:
            break
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            continue
        key = name.decode("latin-1").lower()
        if key in READ_FIELDS and key not in found:
            found[key] = _printable(value)
    return found


def _printable(value: bytes) -> str:
    text = value.decode("latin-1").strip()
    return "".join(c for c in text if " " <= c <= "~")[:MAX_VALUE]


def _host_name(value: str) -> str | None:
    """The name in a Host field without its port; None for an address
    literal (the address is known already) or anything not a host name."""
    if value.startswith("["):
        return None
    host = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
    if not _HOST.fullmatch(host) or _IP_LITERAL.fullmatch(host):
        return None
    return host.lower().rstrip(".") or None


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="HTTP",
    tcp_ports=(80, 8080, 8000),
    signatures=(
        Signature("tcp", 0, b"GET "),
        Signature("tcp", 0, b"POST "),
        Signature("tcp", 0, b"HTTP/1."),
    ),
    dissector=dissect,
    mode="representative",
    max_messages=32,  # read from its opening; bulk data is counted, not dissected
    key_len=8,  # the method (longest common: "OPTIONS ", "PROPFIND") or "HTTP/1.x"
    doc="docs/protocols/http.md",
)
