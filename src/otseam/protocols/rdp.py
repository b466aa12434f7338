"""RDP connection start ([MS-RDPBCGR] sections 2.2.1.1 and 2.2.1.2; TPKT RFC
1006; X.224 ITU-T X.224 / ISO 8073 section 13.3).

A client opens with a TPKT (version 3, reserved, length) around an X.224
Connection Request (code 0xE0), optionally followed by a routing token or a
cookie ``Cookie: mstshash=<user name>`` and an RDP Negotiation Request
(type 1) with the security protocols the client accepts. The server
answers with a Connection Confirm (0xD0) holding a Negotiation Response
(type 2, the protocol selected) or Failure (type 3). Everything after is TLS
or RDP encryption and is not read.

The cookie holds a user name, which is personal data: only its presence is
kept, and no observation carries the request's raw bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols.registry import ProtocolSpec

__all__ = ["FAILURES", "PROTOCOL", "PROTOCOLS", "dissect"]

NAME: Final = "rdp"
CONNECTION_REQUEST: Final = 0xE0
CONNECTION_CONFIRM: Final = 0xD0
NEG_REQUEST, NEG_RESPONSE, NEG_FAILURE = 1, 2, 3
HEADER: Final = 11  # TPKT (4) + X.224 length, code, dst-ref, src-ref, class

# requestedProtocols / selectedProtocol flags (section 2.2.1.1.1)
PROTOCOLS: Final[dict[int, str]] = {
    0x01: "TLS",
    0x02: "CredSSP",
    0x04: "RDSTLS",
    0x08: "CredSSP-EX",
    0x10: "RDSAAD",
}

# failureCode (section 2.2.1.2.2)
FAILURES: Final[dict[int, str]] = {
    1: "SSL_REQUIRED_BY_SERVER",
    2: "SSL_NOT_ALLOWED_BY_SERVER",
    3: "SSL_CERT_NOT_ON_SERVER",
    4: "INCONSISTENT_FLAGS",
    5: "HYBRID_REQUIRED_BY_SERVER",
    6: "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
}


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from a Connection Request or Confirm."""
    if len(message) < HEADER or message[0] != 3 or message[1] != 0:
        return  # not a TPKT: TLS or fast-path data after the connection start
    (length,) = struct.unpack_from(">H", message, 2)
    code = message[5] & 0xF0
    if code not in (CONNECTION_REQUEST, CONNECTION_CONFIRM):
        return
    if length > len(message) or message[4] + 5 > length:
        # keep the fixed header only: the rest may hold the cookie's user name
        yield Malformed(ctx.src, ctx.dst, NAME, "X.224 connection TPDU truncated", message[:HEADER])
        return
    variable = message[HEADER:length]
    if code == CONNECTION_REQUEST:
        yield from _request(variable, ctx)
    else:
        yield from _confirm(variable, ctx)


def _request(variable: bytes, ctx: MessageContext) -> Iterator[Observation]:
    yield Operation(
        ctx.src, ctx.dst, NAME, "remote_session", CONNECTION_REQUEST, "Connection Request"
    )
    yield ProtocolRole(ctx.dst, NAME, "server")
    yield ProtocolRole(ctx.src, NAME, "client")
    attributes = [("rdp_cookie", "present" if variable.startswith(b"Cookie: ") else "absent")]
    end = variable.find(b"\r\n")
    negotiation = variable[end + 2 :] if variable.startswith(b"Cookie: ") and end >= 0 else variable
    if len(negotiation) >= 8 and negotiation[0] == NEG_REQUEST:
        (requested,) = struct.unpack_from("<I", negotiation, 4)
        attributes.append(("rdp_requested_protocols", _protocols(requested, "RDP")))
    else:
        attributes.append(("rdp_requested_protocols", "RDP"))  # no negotiation: standard RDP
    yield Identity(ctx.src, NAME, tuple(attributes))


def _confirm(variable: bytes, ctx: MessageContext) -> Iterator[Observation]:
    yield ProtocolRole(ctx.src, NAME, "server")
    yield ProtocolRole(ctx.dst, NAME, "client")
    if len(variable) >= 8 and variable[0] == NEG_RESPONSE:
        (selected,) = struct.unpack_from("<I", variable, 4)
        value = _protocols(selected, "RDP")
    elif len(variable) >= 8 and variable[0] == NEG_FAILURE:
        (failure,) = struct.unpack_from("<I", variable, 4)
        value = "failure: " + FAILURES.get(failure, f"unknown-{failure}")
    else:
        value = "RDP"
    yield Identity(ctx.src, NAME, (("rdp_selected_protocol", value),))


def _protocols(flags: int, none: str) -> str:
    """Names of the protocol flags set; unknown bits become ``unknown-0x<bit>``."""
    names = [name for bit, name in PROTOCOLS.items() if flags & bit]
    names += [f"unknown-0x{1 << i:x}" for i in range(32) if flags & ~0x1F & (1 << i)]
    return ",".join(names) or none


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="Remote Desktop (RDP)",
    tcp_ports=(3389,),
    udp_ports=(3389,),
    dissector=dissect,
    mode="representative",
    max_messages=8,  # read from its opening; bulk data is counted, not dissected
    key_len=6,  # TPKT header, X.224 length indicator and TPDU code
    doc="docs/protocols/rdp.md",
)
