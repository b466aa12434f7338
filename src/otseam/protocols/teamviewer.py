"""TeamViewer-style remote access on TCP 5938 (proprietary; no public
specification).

What is recognised is only what public traffic classifiers agree on: every
TCP message starts with the magic bytes 0x17 0x24 (nDPI and libprotoident
match on them), and the next byte is a command. UDP 5938 (where nDPI finds
the magic at offset 11) is labelled by port only. Nothing else is decoded.
The side on 5938 is the server (a relay or the remote host); each message
the other side sends with the magic is a ``remote_session`` operation. The
bundled sample's session starts ``17 24 10``: the signature on other ports
is the magic alone, as nDPI's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from otseam.model.observations import MessageContext, Observation, Operation, ProtocolRole
from otseam.protocols.registry import ProtocolSpec, Signature

__all__ = ["MAGIC", "PROTOCOL", "dissect"]

NAME: Final = "teamviewer"
PORT: Final = 5938
MAGIC: Final = b"\x17\x24"
MESSAGE_CODE: Final = 0x1724


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from one message that starts with the magic."""
    if ctx.transport != "tcp" or len(message) < 3 or not message.startswith(MAGIC):
        return  # UDP 5938 is labelled by port only
    from_server = ctx.sport == PORT if PORT in (ctx.sport, ctx.dport) else ctx.sport < ctx.dport
    server, client = (ctx.src, ctx.dst) if from_server else (ctx.dst, ctx.src)
    yield ProtocolRole(server, NAME, "server")
    yield ProtocolRole(client, NAME, "client")
    if not from_server:
        yield Operation(client, server, NAME, "remote_session", MESSAGE_CODE, "TeamViewer message")


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="TeamViewer",
    tcp_ports=(PORT,),
    udp_ports=(PORT,),
    signatures=(Signature("tcp", 0, MAGIC, min_payload=5),),
    dissector=dissect,
    mode="representative",
    max_messages=8,  # read from its opening; bulk data is counted, not dissected
    key_len=3,  # the magic and the command; the rest is encrypted
    doc="docs/protocols/teamviewer.md",
)
