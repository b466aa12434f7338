"""SSH identification strings (RFC 4253 section 4.2).

Each side opens with ``SSH-protoversion-softwareversion SP comments CR LF``
(the comments optional); a server may send other lines before it. The
software version and the comments name the implementation and often the
operating system's package ("OpenSSH_9.2p1 Debian-2+deb12u10"). Everything
after the identification is the binary packet protocol, encrypted after the
key exchange, and is not read. The side on port 22 is the server; on other
ports (found by signature) the side on the lower port. The client's
identification is a ``remote_session`` operation (an interactive shell,
a tunnel or a file copy: SSH does not say which before it is encrypted).
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

__all__ = ["PROTOCOL", "dissect", "os_hint"]

NAME: Final = "ssh"
PORT: Final = 22
MAX_LINES: Final = 8  # lines a server may send before its identification

_IDENTIFICATION: Final = re.compile(rb"SSH-([!-,.-~]{1,16})-([!-~]{1,200})(?: ([ -~]{0,200}))?")

# (pattern in software or comments, operating system); the first match wins
_OS_HINTS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\+deb(\d+)"), "Debian {0}"),
    (re.compile(r"Debian"), "Debian"),
    (re.compile(r"Raspbian"), "Raspbian"),
    (re.compile(r"Ubuntu"), "Ubuntu"),
    (re.compile(r"FreeBSD"), "FreeBSD"),
    (re.compile(r"NetBSD"), "NetBSD"),
    (re.compile(r"for_Windows"), "Windows"),
    (re.compile(r"^Cisco"), "Cisco IOS"),
    (re.compile(r"^ROSSSH"), "MikroTik RouterOS"),
)


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from an identification string in one segment."""
    found = _identification(message)
    if found is None:
        return
    protocol, software, comments = found
    server = ctx.sport == PORT if PORT in (ctx.sport, ctx.dport) else ctx.sport < ctx.dport
    yield ProtocolRole(ctx.src, NAME, "server" if server else "client")
    yield ProtocolRole(ctx.dst, NAME, "client" if server else "server")
    if not server:
        yield Operation(ctx.src, ctx.dst, NAME, "remote_session", 0, "Identification")
    attributes = [("ssh_protocol", protocol), ("ssh_software", software)]
    if comments:
        attributes.append(("ssh_comments", comments))
    hint = os_hint(software, comments)
    if hint:
        attributes.append(("os_hint", hint))
    yield Identity(ctx.src, NAME, tuple(attributes))


def _identification(message: bytes) -> tuple[str, str, str] | None:
    for line in message.split(b"\n", MAX_LINES)[:MAX_LINES]:
        match = _IDENTIFICATION.fullmatch(line.rstrip(b"\r"))
        if match is not None:
            comments = (match.group(3) or b"").decode("ascii").strip()
            return match.group(1).decode("ascii"), match.group(2).decode("ascii"), comments
    return None


def os_hint(software: str, comments: str) -> str | None:
    """The operating system a software version and comments suggest."""
    text = f"{software} {comments}"
    for pattern, hint in _OS_HINTS:
        match = pattern.search(text)
        if match is not None:
            return hint.format(*match.groups())
    return None


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="SSH",
    tcp_ports=(PORT,),
    signatures=(Signature("tcp", 0, b"SSH-"),),
    dissector=dissect,
    mode="representative",
    max_messages=8,  # read from its opening; bulk data is counted, not dissected
    key_len=8,  # "SSH-2.0-"; binary packets: length, padding and message code
    doc="docs/protocols/ssh.md",
)
