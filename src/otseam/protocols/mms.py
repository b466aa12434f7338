"""MMS (ISO 9506, the IEC 61850 client/server mapping) on ISO-on-TCP.

MMS shares TCP 102 with S7comm: after TPKT (RFC 1006) and a COTP DT
(ISO 8073), the user data is an ISO session SPDU (ISO 8327-1 / X.225)
carrying ISO presentation (ISO 8823) and ACSE (ISO 8650), then the MMS
PDU (ISO 9506-2 section 7). The S7comm module reads TPKT and COTP and
hands a DT payload here when it starts with neither S7comm's 0x32 nor
S7comm-plus's 0x72; this module tells MMS apart, reports client and
server roles (which label the conversation ``mms``, ``ProtocolSpec.carries``),
the service a request asks for, and the Identify response's identity.

Session SPDUs (X.225 section 8.3, SI codes): CONNECT (13) and CONNECT DATA
OVERFLOW (15) come from the calling side, ACCEPT (14), OVERFLOW ACCEPT (16)
and REFUSE (12) from the called side; GIVE TOKENS (1) followed by DATA
TRANSFER (1), PLEASE TOKENS (2), FINISH (9), DISCONNECT (10), NOT FINISHED
(8), ABORT (25) and ABORT ACCEPT (26) may come from either side, whose
roles are then taken from the port (the side on 102 is the server). MMS
PDUs sent without session (ISO 9506-2 section 7, MMSpdu tags):
confirmed-Request [0] and initiate-Request [8] come from the client,
confirmed-Response [1] and initiate-Response [9] from the server.

Where the MMS PDU is: after DATA TRANSFER's parameters, or in the User
Data parameter (PGI 193, 0xC1; Extended User Data 194, 0xC2) of the other
SPDUs; there, a CP/CPA PPDU (SET 0x31) holds normal-mode-parameters [2],
whose user data, like a TD PPDU's, is fully-encoded-data [APPLICATION 1]
0x61: a PDV-list (0x30) whose single-ASN1-type [0] holds the MMS PDU or an
ACSE AARQ/AARE (0x60/0x61), whose user-information [30] holds an EXTERNAL
(0x28) whose single-ASN1-type [0] holds the MMS PDU.

Sampling (``ProtocolSpec`` in ``registry``): the engine dissects one
message per group keyed on the first bytes after TPKT; ``keyed`` is how
many of the payload's bytes are in that key, and an operation is reported
only when every byte it depends on is among them. The MMS initiate-Request
of a session CONNECT lies past the key, so a CONNECT's operation (initiate)
is taken from the SPDU code. S7comm's key masks are not applied to MMS
(anchor ``cotp-dt``, ``otseam.decode.anchors``): every keyed byte is in the
key except the invoke id, which no output depends on.
"""

from __future__ import annotations

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
from otseam.protocols.ber import APPLICATION, CONTEXT, UNIVERSAL, Element, children, read_element
from otseam.protocols.mms_services import (
    ERROR_CLASSES,
    IDENTIFY_FIELDS,
    PDU_NAMES,
    REJECT_REASONS,
    SERVICES,
    SESSION_ERRORS,
    SESSION_REQUESTS,
    UNCONFIRMED,
)
from otseam.protocols.registry import ProtocolSpec

__all__ = [
    "ERROR_CLASSES",
    "FROM_CALLED",
    "FROM_CALLING",
    "PDU_CODE_BASE",
    "PDU_NAMES",
    "PROTOCOL",
    "SERVICES",
    "SPDU_NAMES",
    "UNCONFIRMED",
    "UNCONFIRMED_CODE_BASE",
    "dissect_session",
    "is_mms",
    "locate",
]

NAME: Final = "mms"
PORT: Final = 102
# Every MMSpdu choice (section 7.1) in its own form: constructed, except
# cancel-Request/Response (Unsigned32) and conclude-Request/Response (NULL).
BARE_PDUS: Final = frozenset(
    {*range(0xA0, 0xA5), 0x85, 0x86, 0xA7, 0xA8, 0xA9, 0xAA, 0x8B, 0x8C, 0xAD}
)
SI_DATA: Final = 0x01  # GIVE TOKENS, and DATA TRANSFER after it
SI_CONNECT: Final = 0x0D
USER_DATA: Final = frozenset({0xC1, 0xC2})
TOP: Final = 1 << 24  # no SPDU or PDU is longer: a bigger length is garbage
PDU_CODE_BASE: Final = 0x100  # code of a PDU that is no confirmed-Request
UNCONFIRMED_CODE_BASE: Final = 0x200  # code of an unconfirmed service
CONFIRMED_REQUEST, CONFIRMED_RESPONSE, CONFIRMED_ERROR, UNCONFIRMED_PDU, REJECT = range(5)
IDENTIFY: Final = 2

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


def dissect_session(
    payload: bytes, ctx: MessageContext, keyed: int | None = None
) -> Iterator[Observation]:
    """Roles, the request's operation and the Identify response's identity
    from one ISO session SPDU or bare MMS PDU (``is_mms`` holds). Only the
    first ``keyed`` bytes (all when None) may decide the operation: they are
    the group key, unmasked but for the invoke id, which is never read."""
    yield from _roles(payload[0], ctx)
    pdu = locate(payload)
    limit = len(payload) if keyed is None else min(keyed, len(payload))
    operation = None
    if pdu is not None:
        operation = _operation(payload, pdu, limit, ctx)
        if operation is None and pdu.number == CONFIRMED_REQUEST and pdu.end <= limit:
            # the whole request is keyed, yet names no service (section 7.2 requires one)
            raw = payload[pdu.at : pdu.end]
            yield Malformed(ctx.src, ctx.dst, NAME, "confirmed-Request without a service", raw)
    if operation is None and payload[0] == SI_CONNECT:
        operation = Operation(ctx.src, ctx.dst, NAME, "session", PDU_CODE_BASE + 8, "initiate")
    if operation is not None:
        yield operation
    if pdu is not None and pdu.number == CONFIRMED_RESPONSE:
        attributes = _identify_response(payload, pdu)
        if attributes:
            yield Identity(ctx.src, NAME, attributes)


def _roles(first: int, ctx: MessageContext) -> Iterator[ProtocolRole]:
    """The direction of a CONNECT, ACCEPT, REFUSE or bare PDU decides; any
    other SPDU is sent by either side, and the side on TCP 102 serves."""
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


def locate(payload: bytes) -> Element | None:
    """The MMS PDU in a COTP DT payload, bare or under session,
    presentation and (in a CONNECT or ACCEPT) ACSE; None if there is none."""
    if not payload:
        return None
    if payload[0] & 0x80:  # context-specific class: a bare MMS PDU
        pdu = read_element(payload, 0, TOP)
        return pdu if pdu is not None and pdu.cls == CONTEXT else None
    found = _session_user_data(payload)
    return _presentation(payload, *found) if found is not None else None


def _spdu(payload: bytes, pos: int) -> tuple[int, int, int] | None:
    """(SI, first parameter byte, end of parameters) of the SPDU at ``pos``;
    a length indicator of 0xFF is followed by two length bytes (X.225 8.2.5)."""
    if pos + 2 > len(payload):
        return None
    si, size, start = payload[pos], payload[pos + 1], pos + 2
    if size == 0xFF:
        if pos + 4 > len(payload):
            return None
        size, start = int.from_bytes(payload[pos + 2 : pos + 4], "big"), pos + 4
    return si, start, start + size


def _session_user_data(payload: bytes) -> tuple[int, int] | None:
    """Where the presentation PPDU starts and ends: after GIVE TOKENS and
    DATA TRANSFER, or in the User Data parameter of another SPDU."""
    spdu = _spdu(payload, 0)
    if spdu is None:
        return None
    si, pos, end = spdu
    if si == SI_DATA:
        transfer = _spdu(payload, end)
        if transfer is None or transfer[0] != SI_DATA:
            return None
        return transfer[2], TOP
    while pos < end:  # PI and PGI units: code, length, value
        unit = _spdu(payload, pos)
        if unit is None:
            return None
        code, start, stop = unit
        if code in USER_DATA:
            return start, stop
        pos = stop
    return None


def _child(data: bytes, parent: Element | None, cls: int, number: int) -> Element | None:
    if parent is None:
        return None
    return next((c for c in children(data, parent) if (c.cls, c.number) == (cls, number)), None)


def _first(data: bytes, parent: Element | None) -> Element | None:
    return next(children(data, parent), None) if parent is not None else None


def _presentation(payload: bytes, start: int, end: int) -> Element | None:
    """The MMS PDU in a presentation PPDU (ISO 8823 section 8): CP or CPA
    (SET, normal-mode-parameters [2], user data) or bare user data."""
    ppdu = read_element(payload, start, end)
    if ppdu is not None and (ppdu.cls, ppdu.number) == (UNIVERSAL, 17):
        ppdu = _child(payload, _child(payload, ppdu, CONTEXT, 2), APPLICATION, 1)
    if ppdu is None or (ppdu.cls, ppdu.number) != (APPLICATION, 1):
        return None  # simply-encoded data or another PPDU: not used for MMS
    pdv_list = _child(payload, ppdu, UNIVERSAL, 16)
    inner = _first(payload, _child(payload, pdv_list, CONTEXT, 0))
    if inner is not None and inner.cls == APPLICATION and inner.number in (0, 1):
        # ACSE AARQ / AARE: user-information [30], EXTERNAL, single-ASN1-type [0]
        external = _child(payload, _child(payload, inner, CONTEXT, 30), UNIVERSAL, 8)
        inner = _first(payload, _child(payload, external, CONTEXT, 0))
    return inner if inner is not None and inner.cls == CONTEXT else None


def _operation(payload: bytes, pdu: Element, limit: int, ctx: MessageContext) -> Operation | None:
    """The operation a PDU reports, if the bytes that decide it are keyed."""
    kind = pdu.number
    if kind == CONFIRMED_REQUEST:
        service = next((c for c in children(payload, pdu) if c.cls == CONTEXT), None)
        if service is None or service.tag_end > limit:
            return None
        name, operation = SERVICES.get(service.number, (f"unknown-{service.number}", "unknown"))
        return Operation(ctx.src, ctx.dst, NAME, operation, service.number, name)
    if kind == UNCONFIRMED_PDU:
        service = _first(payload, pdu)
        if service is None or service.cls != CONTEXT or service.tag_end > limit:
            return None
        name = UNCONFIRMED.get(service.number, f"unknown-{service.number}")
        code = UNCONFIRMED_CODE_BASE + service.number
        return Operation(ctx.src, ctx.dst, NAME, "notify", code, name)
    if kind in (CONFIRMED_ERROR, REJECT):
        detail = _error_detail(payload, pdu, limit)
        if detail is None:
            return None
        name = f"{PDU_NAMES[kind]}: {detail}"
        code = PDU_CODE_BASE + kind
        return Operation(ctx.dst, ctx.src, NAME, "unknown", code, name, exception=True)
    if pdu.tag_end > limit:
        return None
    if kind in SESSION_REQUESTS:
        return Operation(ctx.src, ctx.dst, NAME, "session", PDU_CODE_BASE + kind, PDU_NAMES[kind])
    if kind in SESSION_ERRORS:
        code, name = PDU_CODE_BASE + kind, PDU_NAMES[kind]
        return Operation(ctx.dst, ctx.src, NAME, "session", code, name, exception=True)
    return None  # responses repeat the request; an unknown PDU has no operation


def _error_detail(payload: bytes, pdu: Element, limit: int) -> str | None:
    """``"<errorClass> <code>"`` of a confirmed-Error (serviceError [2],
    errorClass [0]) or ``"<rejected PDU> <code>"`` of a reject."""
    if pdu.number == CONFIRMED_ERROR:
        chosen = _first(payload, _child(payload, _child(payload, pdu, CONTEXT, 2), CONTEXT, 0))
        names = ERROR_CLASSES
    else:  # originalInvokeID [0] OPTIONAL, then rejectReason
        chosen = next((c for c in children(payload, pdu) if c.number != 0), None)
        names = REJECT_REASONS
    if chosen is None or chosen.cls != CONTEXT or chosen.end > limit:
        return None
    raw = chosen.contents(payload)
    if raw is None or not 1 <= len(raw) <= 4:
        return None
    name = names.get(chosen.number, f"unknown-{chosen.number}")
    return f"{name} {int.from_bytes(raw, 'big', signed=True)}"


def _identify_response(payload: bytes, pdu: Element) -> tuple[tuple[str, str], ...]:
    """vendorName [0], modelName [1], revision [2] of an Identify response
    (confirmed-Response with service [2]); any byte of it may be read."""
    service = next((c for c in children(payload, pdu) if c.cls == CONTEXT), None)
    if service is None or service.number != IDENTIFY or not service.constructed:
        return ()
    found: list[tuple[str, str]] = []
    for field in children(payload, service):
        raw = field.contents(payload)
        names = IDENTIFY_FIELDS.get(field.number, ()) if field.cls == CONTEXT else ()
        text = raw.decode("latin-1").strip("\x00 \r\n\t") if raw else ""
        if text and text.isprintable():
            found += [(name, text) for name in names]
    return tuple(found)


# Dissected by the S7comm module, which owns TCP 102 and names this
# protocol in its ``carries``: no ports of its own.
PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="MMS (ISO 9506, IEC 61850) on ISO-on-TCP",
    doc="docs/protocols/mms.md",
)
