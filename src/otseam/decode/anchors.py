"""The key masks the walker applies to one PDU, for the engine's header
keys (``engine._key_bytes``): a header-key cache hit must never join
messages the walker keeps in different groups.

A spec's ``key_masks`` apply as declared, except under the ``cotp-dt``
anchor (S7comm's spec; the walker's twin is ``cotp_dt_user_data`` and
``mms_invoke_id`` in ``_framewalk.c``, which state the same rule):

A TPKT packet whose COTP TPDU is a DT (p[5] & 0xF0 == 0xF0, length
indicator p[4] >= 2) with user data starting at 5 + p[4], inside the
message and inside the key, whose first byte is neither 0x32 (S7comm),
0x72 (S7comm-plus) nor 0x00, is keyed without the spec's masks (they were
placed for S7 and fall on MMS headers); in it, the MMS invoke id is zeroed
when ``invoke_id_span`` finds it. Anything else keeps the masks.

0x00 keeps the masks so that no such packet can have the key of an S7
one whose 0x32 fell on a masked byte (a length indicator of 6, 13, 14, 19
or 20). The ``enip-cip`` anchor needs no twin: the engine keys on more
bytes than the walker there, which never joins what the walker keeps apart.
"""

from __future__ import annotations

from typing import Final

from otseam.protocols import s7comm_plus
from otseam.protocols.registry import ProtocolSpec
from otseam.protocols.s7comm import COTP_DT, S7_ID

__all__ = ["invoke_id_span", "key_masks"]

COTP_OTHERS_KEEP_MASKS: Final = frozenset({0x00, S7_ID, s7comm_plus.PROTOCOL_ID})
SI_DATA: Final = 0x01  # GIVE TOKENS, and DATA TRANSFER after it (X.225 8.3)


def key_masks(spec: ProtocolSpec, pdu: bytes) -> tuple[tuple[int, int], ...]:
    """(offset, length) message ranges the walker zeroes in ``pdu``'s key."""
    if spec.key_anchor != "cotp-dt":
        return spec.key_masks
    at = _cotp_dt_user_data(spec, pdu)
    if at is None:
        return spec.key_masks
    span = invoke_id_span(pdu[at:])
    return () if span is None else ((at + span[0], span[1] - span[0]),)


def _cotp_dt_user_data(spec: ProtocolSpec, pdu: bytes) -> int | None:
    """Where a DT's user data starts, if it is keyed without the masks."""
    if len(pdu) < 6:
        return None
    li, data = pdu[4], 5 + pdu[4]
    if li < 2 or pdu[5] & 0xF0 != COTP_DT or data >= len(pdu):
        return None
    if data >= spec.key_skip + spec.key_len or pdu[data] in COTP_OTHERS_KEEP_MASKS:
        return None
    return data


def invoke_id_span(payload: bytes) -> tuple[int, int] | None:
    """Where the MMS invoke id's value bytes are in COTP DT user data, as
    (start, end) offsets in it; None when not found (the walker's twin is
    ``mms_invoke_id``, with the same rule):

    Either GIVE TOKENS (01) and DATA TRANSFER (01) SPDUs, then 61 L, 30 L,
    02 L <context id>, a0 L; or nothing (a bare PDU). Then a0 L or a1 L
    (confirmed-Request / -Response: invokeID 02 L) or a2 L (confirmed-Error:
    invokeID [0] 80 L), each element the first in its container. Lengths:
    short form, 0x81, 0x82; any other length, tag, or a value running past
    the message: not found. (ISO 9506-2 section 7.2; X.225 8.2.5 for the
    SPDU length indicator; docs/protocols/mms.md, Sampling.)
    """
    pos: int | None = 0
    if payload[:1] == bytes([SI_DATA]):
        pos = _session_spdu(payload, _session_spdu(payload, 0))
        pos, _ = _ber_header(payload, pos, 0x61)
        pos, _ = _ber_header(payload, pos, 0x30)
        pos, size = _ber_header(payload, pos, 0x02)
        pos, _ = _ber_header(payload, None if pos is None else pos + size, 0xA0)
    if pos is None or pos >= len(payload) or not 0xA0 <= payload[pos] <= 0xA2:
        return None
    invoke_tag = 0x80 if payload[pos] == 0xA2 else 0x02
    pos, _ = _ber_header(payload, pos, payload[pos])
    pos, size = _ber_header(payload, pos, invoke_tag)
    if pos is None or size > len(payload) - pos:
        return None
    return pos, pos + size


def _session_spdu(payload: bytes, pos: int | None) -> int | None:
    """Past the GIVE TOKENS / DATA TRANSFER SPDU at ``pos``: SI, length
    indicator (0xFF: two length bytes follow), parameters."""
    if pos is None or pos + 2 > len(payload) or payload[pos] != SI_DATA:
        return None
    size, start = payload[pos + 1], pos + 2
    if size == 0xFF:
        if pos + 4 > len(payload):
            return None
        size, start = int.from_bytes(payload[pos + 2 : pos + 4], "big"), pos + 4
    return start + size


def _ber_header(payload: bytes, pos: int | None, tag: int) -> tuple[int | None, int]:
    """(contents start, length) of an element with identifier ``tag`` at
    ``pos`` whose length is in short form or long form 0x81 / 0x82."""
    if pos is None or pos + 2 > len(payload) or payload[pos] != tag:
        return None, 0
    first = payload[pos + 1]
    if first < 0x80:
        return pos + 2, first
    count = first - 0x80
    if count not in (1, 2) or pos + 2 + count > len(payload):
        return None, 0
    return pos + 2 + count, int.from_bytes(payload[pos + 2 : pos + 2 + count], "big")
