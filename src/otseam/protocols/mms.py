"""MMS (ISO 9506, the IEC 61850 client/server mapping) on ISO-on-TCP.

MMS shares TCP 102 with S7comm: after TPKT (RFC 1006) and a COTP DT
(ISO 8073), the user data is an ISO session SPDU (ISO 8327-1 / X.225)
carrying ISO presentation (ISO 8823) and ACSE, then the MMS PDU. The
S7comm module reads TPKT and COTP and hands a DT payload here when it
starts with neither S7comm's 0x32 nor S7comm-plus's 0x72; this module
only tells MMS apart and reports client and server roles, which is what
labels the conversation ``mms`` (``ProtocolSpec.carries``).

Session SPDUs (X.225 section 8.3, SI codes): CONNECT (13) and CONNECT DATA
OVERFLOW (15) come from the calling side, ACCEPT (14), OVERFLOW ACCEPT (16)
and REFUSE (12) from the called side; GIVE TOKENS (1) followed by DATA
TRANSFER (1), PLEASE TOKENS (2), FINISH (9), DISCONNECT (10), NOT FINISHED
(8), ABORT (25) and ABORT ACCEPT (26) may come from either side, whose
roles are then taken from the port (the side on 102 is the server). MMS
PDUs sent without session (ISO 9506-2 section 7, MMSpdu tags):
confirmed-Request [0] and initiate-Request [8] come from the client,
confirmed-Response [1] and initiate-Response [9] from the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from otseam.model.observations import MessageContext, Observation, ProtocolRole
from otseam.protocols.registry import ProtocolSpec

__all__ = ["FROM_CALLED", "FROM_CALLING", "PROTOCOL", "SPDU_NAMES", "dissect_session", "is_mms"]

NAME: Final = "mms"
PORT: Final = 102
BARE_PDUS: Final = frozenset({0xA0, 0xA1, 0xA8, 0xA9})

SPDU_NAMES: Final[dict[int, str]] = {
    0x01: "GIVE TOKENS / DATA TRANSFER",
    0x02: "PLEASE TOKENS",
    0x08: "NOT FINISHED",
    0x09: "FINISH",
    0x0A: "DISCONNECT",
    0x0C: "REFUSE",
    0x0D: "CONNECT",
    0x0E: "ACCEPT",
    0x0F: "CONNECT DATA OVERFLOW",
    0x10: "OVERFLOW ACCEPT",
    0x19: "ABORT",
    0x1A: "ABORT ACCEPT",
}
# ISO session SPDUs and bare MMS PDUs whose sender is the calling side
# (client) or the called side (server).
FROM_CALLING: Final = frozenset({0x0D, 0x0F, 0xA0, 0xA8})
FROM_CALLED: Final = frozenset({0x0C, 0x0E, 0x10, 0xA1, 0xA9})


def is_mms(payload: bytes) -> bool:
    """Whether a COTP DT payload starts an ISO session SPDU (a known SI
    code and its length indicator) or a bare MMS PDU (request, response or
    initiate tag). The SPDU's length is not checked against the payload: a
    long CONNECT is split over several DTs (ISO 8073 segmenting)."""
    if not payload:
        return False
    first = payload[0]
    return first in BARE_PDUS or (first in SPDU_NAMES and len(payload) >= 2)


def dissect_session(payload: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Roles from one ISO session SPDU or bare MMS PDU (``is_mms`` holds).

    The direction of a CONNECT, ACCEPT, REFUSE or bare PDU decides; any
    other SPDU is sent by either side, and the side on TCP 102 serves.
    """
    first = payload[0]
    if first in FROM_CALLING:
        client, server = ctx.src, ctx.dst
    elif first in FROM_CALLED or ctx.sport == PORT:
        client, server = ctx.dst, ctx.src
    elif ctx.dport == PORT:
        client, server = ctx.src, ctx.dst
    else:
        return
    yield ProtocolRole(server, NAME, "server")
    yield ProtocolRole(client, NAME, "client")


# Dissected by the S7comm module, which owns TCP 102 and names this
# protocol in its ``carries``: no ports of its own.
PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="MMS (ISO 9506, IEC 61850) on ISO-on-TCP",
    doc="docs/protocols/mms.md",
)
