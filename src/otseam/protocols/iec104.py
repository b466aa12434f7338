"""IEC 60870-5-104 on TCP port 2404 (IEC 60870-5-104:2006 clause 5, APCI;
IEC 60870-5-101:2003 clause 7, ASDU).

An APDU is the APCI (start 0x68, length, four control octets) and, in
I-format, an ASDU: type identification, variable structure qualifier, cause
of transmission (with the test and negative bits) and originator address,
common address (two octets, little-endian), information objects. The
control octets tell I-format (numbered information, send and receive
sequence numbers), S-format (supervisory, receive sequence number) and
U-format (STARTDT, STOPDT, TESTFR, each act or con) apart.

The controlling station (client) sends commands in the control direction
with cause activation, deactivation or request; the controlled station
(server) sends monitored information and the confirmations.
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
from otseam.protocols.registry import Framing, ProtocolSpec

__all__ = ["CAUSES", "PROTOCOL", "TYPES", "U_FUNCTIONS", "dissect"]

PORT: Final = 2404
START: Final = 0x68
ASDU_HEADER: Final = 6
GLOBAL_ADDRESS: Final = 0xFFFF

_CONTROL = "control"
_WRITE = "write"
# type identification -> (name, operation); operation "" for monitored information
TYPES: Final[dict[int, tuple[str, str]]] = {
    1: ("M_SP_NA_1", ""), 2: ("M_SP_TA_1", ""), 3: ("M_DP_NA_1", ""),
    4: ("M_DP_TA_1", ""), 5: ("M_ST_NA_1", ""), 6: ("M_ST_TA_1", ""),
    7: ("M_BO_NA_1", ""), 8: ("M_BO_TA_1", ""), 9: ("M_ME_NA_1", ""),
    10: ("M_ME_TA_1", ""), 11: ("M_ME_NB_1", ""), 12: ("M_ME_TB_1", ""),
    13: ("M_ME_NC_1", ""), 14: ("M_ME_TC_1", ""), 15: ("M_IT_NA_1", ""),
    16: ("M_IT_TA_1", ""), 17: ("M_EP_TA_1", ""), 18: ("M_EP_TB_1", ""),
    19: ("M_EP_TC_1", ""), 20: ("M_PS_NA_1", ""), 21: ("M_ME_ND_1", ""),
    30: ("M_SP_TB_1", ""), 31: ("M_DP_TB_1", ""), 32: ("M_ST_TB_1", ""),
    33: ("M_BO_TB_1", ""), 34: ("M_ME_TD_1", ""), 35: ("M_ME_TE_1", ""),
    36: ("M_ME_TF_1", ""), 37: ("M_IT_TB_1", ""), 38: ("M_EP_TD_1", ""),
    39: ("M_EP_TE_1", ""), 40: ("M_EP_TF_1", ""),
    45: ("C_SC_NA_1", _CONTROL), 46: ("C_DC_NA_1", _CONTROL), 47: ("C_RC_NA_1", _CONTROL),
    48: ("C_SE_NA_1", _WRITE), 49: ("C_SE_NB_1", _WRITE), 50: ("C_SE_NC_1", _WRITE),
    51: ("C_BO_NA_1", _WRITE),
    58: ("C_SC_TA_1", _CONTROL), 59: ("C_DC_TA_1", _CONTROL), 60: ("C_RC_TA_1", _CONTROL),
    61: ("C_SE_TA_1", _WRITE), 62: ("C_SE_TB_1", _WRITE), 63: ("C_SE_TC_1", _WRITE),
    64: ("C_BO_TA_1", _WRITE),
    70: ("M_EI_NA_1", ""),
    100: ("C_IC_NA_1", "read"), 101: ("C_CI_NA_1", "read"), 102: ("C_RD_NA_1", "read"),
    103: ("C_CS_NA_1", "set_time"), 104: ("C_TS_NA_1", "diagnostic"),
    105: ("C_RP_NA_1", "restart"), 106: ("C_CD_NA_1", "diagnostic"),
    107: ("C_TS_TA_1", "diagnostic"),
    110: ("P_ME_NA_1", "config_change"), 111: ("P_ME_NB_1", "config_change"),
    112: ("P_ME_NC_1", "config_change"), 113: ("P_AC_NA_1", "config_change"),
    120: ("F_FR_NA_1", "file"), 121: ("F_SR_NA_1", "file"), 122: ("F_SC_NA_1", "file"),
    123: ("F_LS_NA_1", "file"), 124: ("F_AF_NA_1", "file"), 125: ("F_SG_NA_1", "file"),
    126: ("F_DR_TA_1", "file"), 127: ("F_SC_NB_1", "file"),
}  # fmt: skip

# File types a controlling station sends when it reads a file (select/call,
# acknowledge, query log); the others it sends only when it writes one.
_FILE_READ: Final = frozenset({122, 124, 127})

# cause of transmission (101 clause 7.2.3)
CAUSES: Final[dict[int, str]] = {
    1: "periodic", 2: "background scan", 3: "spontaneous", 4: "initialized",
    5: "request", 6: "activation", 7: "activation confirmation", 8: "deactivation",
    9: "deactivation confirmation", 10: "activation termination",
    11: "return information remote", 12: "return information local", 13: "file transfer",
    20: "interrogated by station", 37: "requested by general counter request",
    44: "unknown type identification", 45: "unknown cause of transmission",
    46: "unknown common address", 47: "unknown information object address",
}  # fmt: skip
_REQUESTS: Final = frozenset({5, 6, 8})  # sent by the controlling station

# U-format control octet (104 clause 5.3), function bits only
U_FUNCTIONS: Final[dict[int, str]] = {
    0x04: "STARTDT act", 0x08: "STARTDT con", 0x10: "STOPDT act",
    0x20: "STOPDT con", 0x40: "TESTFR act", 0x80: "TESTFR con",
}  # fmt: skip


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from every APDU in one TCP payload.

    S- and U-format APDUs give none: the control octets are left out of the
    message-group key (they hold the sequence numbers), so a dissection of
    one of them could not stand for the others of its group."""
    pos = 0
    while pos < len(message):
        if message[pos] != START:
            reason = f"no APCI start 0x68 at offset {pos}"
            yield Malformed(ctx.src, ctx.dst, "iec104", reason, message[pos : pos + 64])
            return
        if pos + 2 > len(message) or message[pos + 1] < 4:
            reason = f"APCI length missing or below 4 at offset {pos}"
            yield Malformed(ctx.src, ctx.dst, "iec104", reason, message[pos : pos + 64])
            return
        end = pos + 2 + message[pos + 1]
        if end > len(message):
            reason = f"APDU truncated: {len(message) - pos} of {end - pos} bytes"
            yield Malformed(ctx.src, ctx.dst, "iec104", reason, message[pos:])
            return
        if not message[pos + 2] & 1:  # I-format
            yield from _asdu(message[pos + 6 : end], ctx)
        pos = end


def _asdu(asdu: bytes, ctx: MessageContext) -> Iterator[Observation]:
    if len(asdu) < ASDU_HEADER:
        reason = f"ASDU shorter than its {ASDU_HEADER}-byte header"
        yield Malformed(ctx.src, ctx.dst, "iec104", reason, asdu)
        return
    type_id, cause = asdu[0], asdu[2] & 0x3F
    negative = bool(asdu[2] & 0x40)
    common_address = int.from_bytes(asdu[4:6], "little")
    name, operation = TYPES.get(type_id, (f"unknown-{type_id}", "unknown"))
    from_client = _from_controlling_station(type_id, cause, operation, ctx)
    if from_client is None:
        return
    client, server = (ctx.src, ctx.dst) if from_client else (ctx.dst, ctx.src)
    yield ProtocolRole(server, "iec104", "server")
    yield ProtocolRole(client, "iec104", "client")
    if 0 < common_address < GLOBAL_ADDRESS:
        yield Identity(server, "iec104", (("common_address", str(common_address)),))
    if operation == "file":
        operation = "file_read" if (type_id in _FILE_READ) == from_client else "file_write"
    if from_client and operation:
        if cause == 8:
            name = f"{name}: deactivation"
        yield Operation(client, server, "iec104", operation, type_id, name)
    elif operation and negative and cause in (7, 9):
        reason = CAUSES[cause]
        yield Operation(
            client, server, "iec104", operation, type_id, f"{name}: negative {reason}", True
        )


def _from_controlling_station(
    type_id: int, cause: int, operation: str, ctx: MessageContext
) -> bool | None:
    """Whether the sender is the controlling station; None if the ASDU
    does not tell (unknown type)."""
    if operation == "unknown":
        return None
    if operation == "file":  # both stations send file types with cause 13
        return ctx.dport == PORT and ctx.sport != PORT
    if not operation:
        return False  # monitored information comes from the controlled station
    return cause in _REQUESTS


PROTOCOL: Final = ProtocolSpec(
    name="iec104",
    title="IEC 60870-5-104",
    tcp_ports=(PORT,),
    dissector=dissect,
    framing=Framing(len_offset=1, len_size=1, adjust=2, magic=START, max_length=255),
    mode="representative",
    # the four APCI control octets hold the send and receive sequence numbers;
    # the key is the ASDU header: type, qualifier, cause, originator, common address
    key_skip=6,
    key_len=6,
    doc="docs/protocols/iec104.md",
)
