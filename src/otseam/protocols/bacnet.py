"""BACnet/IP (ANSI/ASHRAE 135-2020): BVLL (Annex J.2), NPDU (clause 6.2),
APDU (clause 20.1) and the services that reveal identity and change state
(clauses 13-16, 21).

A UDP payload is a 4-octet BVLC header (type 0x81, function, length), for a
Forwarded-NPDU also the originating B/IP address, then the NPDU: version 1,
control, optional DNET/DLEN/DADR, SNET/SLEN/SADR and hop count, then either
a network-layer message or an APDU. Identity comes from I-Am (device
instance, max APDU, segmentation, vendor id) and from ReadProperty /
ReadPropertyMultiple acknowledgements of the Device object's properties.
Segmented Complex-ACKs (clause 5.4, 20.1.5) are put back together in
sequence order (``bacnet_segments``) and decoded once their last segment is
in; the first segment is also decoded as far as its values are complete.
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
from otseam.protocols.bacnet_segments import SegmentedAcks
from otseam.protocols.bacnet_tags import (
    BVLC_FUNCTIONS,
    CONFIRMED,
    NETWORK_MESSAGES,
    UNCONFIRMED,
    device_properties,
    i_am,
    service_detail,
)
from otseam.protocols.registry import ProtocolSpec

__all__ = ["PROTOCOL", "dissect"]

PORT: Final = 47808
NAME: Final = "bacnet"
ORIGINAL_UNICAST: Final = 0x0A
FORWARDED: Final = 0x04
NPDU_FUNCTIONS: Final = frozenset({FORWARDED, 0x09, ORIGINAL_UNICAST, 0x0B})
BVLC_ANSWERS: Final = frozenset({0x00, 0x03, 0x07})  # Result, Read-BDT-Ack, Read-FDT-Ack

# Unfinished segmented replies of every conversation, keyed by the ports (the
# addresses are placeholders, see docs/protocols/README.md), the Forwarded-NPDU
# origin, the invoke id and the service choice.
_SEGMENTS = SegmentedAcks()


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from one BACnet/IP UDP payload."""
    if len(message) < 4 or message[0] != 0x81:
        yield Malformed(ctx.src, ctx.dst, NAME, "no BVLC header (type 0x81)", message[:64])
        return
    function = message[1]
    length = int.from_bytes(message[2:4], "big")
    if length < 4 or length > len(message):
        yield Malformed(
            ctx.src, ctx.dst, NAME, f"BVLC length {length}, payload {len(message)}", message[:64]
        )
        return
    message = message[:length]
    if function not in NPDU_FUNCTIONS:
        yield from _bvlc(function, ctx)
        return
    origin, start, via = ctx.src, 4, ""
    if function == FORWARDED:
        if length < 10:
            yield Malformed(ctx.src, ctx.dst, NAME, "Forwarded-NPDU without origin", message)
            return
        origin = via = ".".join(str(b) for b in message[4:8])
        start = 10
    unicast = function == ORIGINAL_UNICAST
    yield from _npdu(message, start, (origin, via), ctx, unicast)


def _bvlc(function: int, ctx: MessageContext) -> Iterator[Observation]:
    """BVLL messages without an NPDU: BBMD and foreign-device management."""
    name, operation = BVLC_FUNCTIONS.get(function, (f"unknown-{function}", "unknown"))
    if function in BVLC_ANSWERS:
        yield ProtocolRole(ctx.src, NAME, "server")
        yield ProtocolRole(ctx.dst, NAME, "client")
        return
    yield Operation(ctx.src, ctx.dst, NAME, operation, function, name)
    yield ProtocolRole(ctx.dst, NAME, "server")
    yield ProtocolRole(ctx.src, NAME, "client")


def _npdu(
    message: bytes, pos: int, sender: tuple[str, str], ctx: MessageContext, unicast: bool
) -> Iterator[Observation]:
    """``sender``: who sent the NPDU and, for a Forwarded-NPDU, the same
    address again (else "") for keying segmented replies."""
    origin, via = sender
    if pos + 2 > len(message) or message[pos] != 0x01:
        yield Malformed(ctx.src, ctx.dst, NAME, "NPDU version is not 1", message[:64])
        return
    control, pos = message[pos + 1], pos + 2
    routed_source = bool(control & 0x08)
    for present in (control & 0x20, control & 0x08):  # DNET/DADR, then SNET/SADR
        if present:
            if pos + 3 > len(message):
                yield Malformed(ctx.src, ctx.dst, NAME, "NPDU address truncated", message[:64])
                return
            pos += 3 + message[pos + 2]
    pos += 1 if control & 0x20 else 0  # hop count
    if pos >= len(message):
        yield Malformed(ctx.src, ctx.dst, NAME, "NPDU without a message", message[:64])
        return
    if control & 0x80:
        kind = message[pos]
        name, operation = NETWORK_MESSAGES.get(kind, (f"unknown-{kind}", "unknown"))
        if kind >= 0x80:
            name, operation = f"proprietary-{kind}", "vendor"
        yield Operation(origin, ctx.dst, NAME, operation, kind, name)
        return
    identity_at = None if routed_source else origin
    yield from _apdu(message[pos:], (origin, via), ctx, unicast, identity_at)


def _apdu(
    apdu: bytes,
    sender: tuple[str, str],
    ctx: MessageContext,
    unicast: bool,
    identity_at: str | None,
) -> Iterator[Observation]:
    origin, via = sender
    kind = apdu[0] >> 4
    if kind == 0:  # Confirmed-Request (20.1.2)
        header = 5 if apdu[0] & 0x08 else 3
        if len(apdu) <= header:
            yield Malformed(ctx.src, ctx.dst, NAME, "Confirmed-Request truncated", apdu[:64])
            return
        service = apdu[header]
        name, operation = CONFIRMED.get(service, (f"unknown-{service}", "unknown"))
        detail = service_detail(service, apdu, header + 1) if not apdu[0] & 0x08 else ""
        yield Operation(origin, ctx.dst, NAME, operation, service, name + detail)
        if unicast:
            yield ProtocolRole(ctx.dst, NAME, "server")
        yield ProtocolRole(origin, NAME, "client")
    elif kind == 1:  # Unconfirmed-Request (20.1.3)
        if len(apdu) < 2:
            yield Malformed(ctx.src, ctx.dst, NAME, "Unconfirmed-Request truncated", apdu[:64])
            return
        yield from _unconfirmed(apdu, origin, ctx, identity_at)
    elif kind in (2, 3, 5, 6):  # Simple-ACK, Complex-ACK, Error, Reject: from the server
        yield ProtocolRole(origin, NAME, "server")
        yield ProtocolRole(ctx.dst, NAME, "client")
        if kind == 3 and identity_at is not None:
            yield from _complex_ack(apdu, identity_at, (ctx.flow, ctx.sport, ctx.dport, via))
    elif kind in (4, 7):  # Segment-ACK, Abort: the SRV bit says who sent it
        sender_is_server = bool(apdu[0] & 0x01)
        yield ProtocolRole(origin, NAME, "server" if sender_is_server else "client")
        yield ProtocolRole(ctx.dst, NAME, "client" if sender_is_server else "server")
    else:
        yield Malformed(ctx.src, ctx.dst, NAME, f"reserved APDU type {kind}", apdu[:64])


def _unconfirmed(
    apdu: bytes, origin: str, ctx: MessageContext, identity_at: str | None
) -> Iterator[Observation]:
    service = apdu[1]
    name, operation = UNCONFIRMED.get(service, (f"unknown-{service}", "unknown"))
    if operation == "announce":  # I-Am, I-Have: the device speaks for itself
        yield ProtocolRole(origin, NAME, "server")
        if service == 0 and identity_at is not None:
            attributes = i_am(apdu, 2)
            if attributes is None:
                yield Malformed(ctx.src, ctx.dst, NAME, "I-Am not decodable", apdu[:64])
            else:
                yield Identity(identity_at, NAME, attributes)
        return
    yield Operation(origin, ctx.dst, NAME, operation, service, name)
    if operation in ("identify", "set_time", "write"):
        yield ProtocolRole(origin, NAME, "client")
    elif operation == "notify":
        yield ProtocolRole(origin, NAME, "server")


def _complex_ack(
    apdu: bytes, identity_at: str, conversation: tuple[int, int, int, str]
) -> Iterator[Observation]:
    """Identity in a Complex-ACK (clause 20.1.5): type and flags, invoke
    id, for a segment its sequence number and proposed window size, then
    the service ACK choice and the service ACK."""
    segmented = bool(apdu[0] & 0x08)
    header = 4 if segmented else 2
    if len(apdu) <= header:
        return
    service = apdu[header]
    if not segmented:
        attributes = device_properties(service, apdu, header + 1)
    else:
        sequence, more = apdu[2], bool(apdu[0] & 0x04)
        key = (*conversation, apdu[1], service)
        whole = _SEGMENTS.add(key, sequence, more, apdu[header + 1 :])
        # the first segment alone gives the values it holds whole, in case
        # a later one is lost; the reassembled reply gives all of them
        found = device_properties(service, apdu, header + 1) if sequence == 0 else ()
        if whole is not None:
            found += device_properties(service, whole, 0)
        attributes = tuple(dict.fromkeys(found))
    if attributes:
        yield Identity(identity_at, NAME, attributes)


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="BACnet/IP",
    udp_ports=(PORT,),
    dissector=dissect,
    mode="representative",
    # From the message start, so that the BVLC function, NPDU control and
    # (for the usual layouts, routed ones included) the APDU type and
    # service choice are in the key. The invoke id of a Confirmed-Request
    # without NPDU addresses (offset 8, the common case) is masked; acks,
    # whose invoke id sits at offset 7 next to the unconfirmed service
    # choice, keep it: their output is roles plus identity, never reused.
    key_skip=0,
    key_len=48,
    key_masks=((8, 1),),
    memory=_SEGMENTS,
    doc="docs/protocols/bacnet.md",
)
