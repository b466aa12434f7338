"""S7comm (Siemens S7-300/400/1200 "S7 communication") on ISO-on-TCP.

Layers: TPKT (RFC 1006 section 6: version 3, reserved, 16-bit length of
the whole packet), COTP (ISO 8073 / X.224 section 13: length indicator,
PDU type; CR and CC carry the calling and called TSAPs as parameters 0xC1
and 0xC2; DT carries user data), and in a DT either an S7comm PDU
(protocol id 0x32), an S7comm-plus frame (0x72, ``s7comm_plus``) or an ISO
session SPDU for MMS (IEC 61850, ISO 9506, module ``mms``), which also runs
on TCP 102: its roles label the conversation ``mms`` (``carries``).

The S7comm header (the layout Wireshark's and ICSNPP's dissectors decode;
Siemens has not published the protocol) is protocol id, ROSCTR (1 Job,
2 Ack, 3 Ack_Data, 7 Userdata), redundancy id, PDU reference, parameter
length and data length, plus error class and code for Ack and Ack_Data.
A Job's parameter starts with its function code; a Userdata parameter
holds the method, type and function group, subfunction and sequence
number. Read SZL answers carry the module identity (``s7szl``).
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
from otseam.protocols import mms, s7comm_plus
from otseam.protocols.registry import Framing, ProtocolSpec
from otseam.protocols.s7szl import IDENTITY_LISTS, SzlFragments, szl_identity

__all__ = ["FUNCTIONS", "PI_SERVICES", "PROTOCOL", "USERDATA_FUNCTIONS", "dissect"]

NAME: Final = "s7comm"
PORT: Final = 102
TPKT_VERSION: Final = 3
COTP_CR: Final = 0xE0
COTP_CC: Final = 0xD0
COTP_DT: Final = 0xF0
S7_ID: Final = 0x32
JOB, ACK, ACK_DATA, USERDATA = 1, 2, 3, 7
PI_SERVICE, DOWNLOAD_BLOCK, DOWNLOAD_ENDED = 0x28, 0x1B, 0x1C
KEY_SKIP: Final = 4  # from the COTP header on; the TPKT length is in the group key anyway
KEY_LEN: Final = 72  # up to a PI service name after a list of five blocks
KEY_END: Final = KEY_SKIP + KEY_LEN
MASKS: Final = (
    (11, 2),  # S7 PDU reference (S7comm-plus: opcode, reserved byte)
    (18, 2),  # S7comm-plus sequence number (S7: Job item count, Ack_Data function)
    (24, 2),  # Userdata sequence number and data unit reference
)

USERDATA_CODE_BASE: Final = 0x7000  # code = 0x7000 | group << 8 | subfunction
READ_SZL: Final = (4, 1)

# Job function code -> (name, operation)
FUNCTIONS: Final[dict[int, tuple[str, str]]] = {
    0x00: ("CPU services", "other"),
    0x04: ("Read Var", "read"),
    0x05: ("Write Var", "write"),
    0x1A: ("Request download", "program_download"),
    0x1B: ("Download block", "program_download"),
    0x1C: ("Download ended", "program_download"),
    0x1D: ("Start upload", "program_upload"),
    0x1E: ("Upload", "program_upload"),
    0x1F: ("End upload", "program_upload"),
    0x28: ("PI-Service", "control"),
    0x29: ("PLC Stop", "plc_stop"),
    0xF0: ("Setup communication", "session"),
}

# PI service name (Job function 0x28) -> (meaning, operation)
PI_SERVICES: Final[dict[str, tuple[str, str]]] = {
    "_INSE": ("activate block", "program_download"),
    "_INS2": ("activate block", "program_download"),
    "_DELE": ("delete block", "block_delete"),
    "P_PROGRAM": ("start PLC", "plc_start"),
    "_MODU": ("copy RAM to ROM", "config_change"),
    "_GARB": ("compress memory", "control"),
    "_N_LOGIN_": ("login", "auth"),
    "_N_LOGOUT": ("logout", "auth"),
    "_N_NEWPWD": ("new password", "auth"),
    "_N_F_DELE": ("delete file", "file_write"),
    "_N_F_DELR": ("delete file", "file_write"),
    "_N_DELVAR": ("delete data block", "block_delete"),
    "_N_F_XFER": ("select file for upload", "file_read"),
    "_N_F_OPEN": ("open file", "file_read"),
    "_N_F_OPER": ("open file read-only", "file_read"),
    "_N_F_CLOS": ("close file", "file_read"),
    "_N_F_COPY": ("copy file", "file_write"),
    "_N_F_RENA": ("rename file", "file_write"),
    "_N_F_PROT": ("protect file", "file_write"),
    "_N_SELECT": ("select program", "control"),
    "_N_CONFIG": ("reconfigure machine data", "config_change"),
}

# Userdata function group -> (name, operation of subfunctions not listed)
USERDATA_GROUPS: Final[dict[int, tuple[str, str]]] = {
    0x0: ("Mode-transition", "control"),
    0x1: ("Programmer commands", "diagnostic"),
    0x2: ("Cyclic services", "read"),
    0x3: ("Block functions", "read"),
    0x4: ("CPU functions", "diagnostic"),
    0x5: ("Security", "auth"),
    0x6: ("PBC BSEND/BRECV", "write"),
    0x7: ("Time functions", "read"),
    0xF: ("NC programming", "other"),
}

# (group, subfunction) -> (name, operation)
USERDATA_FUNCTIONS: Final[dict[tuple[int, int], tuple[str, str]]] = {
    (0x0, 0x00): ("STOP", "control"),
    (0x0, 0x01): ("Warm Restart", "control"),
    (0x0, 0x02): ("RUN", "control"),
    (0x0, 0x03): ("Hot Restart", "control"),
    (0x0, 0x04): ("HOLD", "control"),
    (0x0, 0x06): ("Cold Restart", "control"),
    (0x0, 0x09): ("RUN_R (H-System redundant)", "control"),
    (0x0, 0x0B): ("LINK-UP", "control"),
    (0x0, 0x0C): ("UPDATE", "control"),
    (0x1, 0x01): ("Block status", "read"),
    (0x1, 0x02): ("Variable status", "read"),
    (0x1, 0x03): ("Output ISTACK", "diagnostic"),
    (0x1, 0x04): ("Output BSTACK", "diagnostic"),
    (0x1, 0x05): ("Output LSTACK", "diagnostic"),
    (0x1, 0x06): ("Time measurement from to", "diagnostic"),
    (0x1, 0x07): ("Force selection", "read"),
    (0x1, 0x08): ("Modify variable", "write"),
    (0x1, 0x09): ("Force", "write"),
    (0x1, 0x0A): ("Breakpoint", "control"),
    (0x1, 0x0B): ("Exit HOLD", "control"),
    (0x1, 0x0C): ("Memory reset", "memory_reset"),
    (0x1, 0x0D): ("Disable job", "diagnostic"),
    (0x1, 0x0E): ("Enable job", "diagnostic"),
    (0x1, 0x0F): ("Delete job", "diagnostic"),
    (0x1, 0x10): ("Read job list", "diagnostic"),
    (0x1, 0x11): ("Read job", "diagnostic"),
    (0x1, 0x12): ("Replace job", "diagnostic"),
    (0x1, 0x13): ("Block status v2", "read"),
    (0x1, 0x16): ("Flash LED", "flash_led"),
    (0x2, 0x01): ("Cyclic transfer", "read"),
    (0x2, 0x04): ("Unsubscribe", "read"),
    (0x2, 0x05): ("Change driven transfer", "read"),
    (0x2, 0x07): ("Change driven transfer modify", "read"),
    (0x2, 0x08): ("RDREC", "read"),
    (0x3, 0x01): ("List blocks", "read"),
    (0x3, 0x02): ("List blocks of type", "read"),
    (0x3, 0x03): ("Get block info", "read"),
    (0x4, 0x01): ("Read SZL", "identify"),
    (0x4, 0x02): ("Message service", "diagnostic"),
    (0x4, 0x03): ("Diagnostic message", "diagnostic"),
    (0x4, 0x05): ("ALARM_8 indication", "diagnostic"),
    (0x4, 0x06): ("NOTIFY indication", "diagnostic"),
    (0x4, 0x07): ("ALARM_8 lock", "diagnostic"),
    (0x4, 0x08): ("ALARM_8 unlock", "diagnostic"),
    (0x4, 0x09): ("SCAN indication", "diagnostic"),
    (0x4, 0x0B): ("ALARM ack", "diagnostic"),
    (0x4, 0x0C): ("ALARM ack indication", "diagnostic"),
    (0x4, 0x0D): ("ALARM lock indication", "diagnostic"),
    (0x4, 0x0E): ("ALARM unlock indication", "diagnostic"),
    (0x4, 0x11): ("ALARM_SQ indication", "diagnostic"),
    (0x4, 0x12): ("ALARM_S indication", "diagnostic"),
    (0x4, 0x13): ("ALARM query", "diagnostic"),
    (0x4, 0x16): ("NOTIFY_8 indication", "diagnostic"),
    (0x5, 0x01): ("PLC password", "auth"),
    (0x7, 0x01): ("Read clock", "read"),
    (0x7, 0x02): ("Set clock", "set_time"),
    (0x7, 0x03): ("Read clock (following)", "read"),
    (0x7, 0x04): ("Set clock", "set_time"),
    (0xF, 0x01): ("Request download", "program_download"),
    (0xF, 0x02): ("Download block", "program_download"),
    (0xF, 0x03): ("Continue download", "program_download"),
    (0xF, 0x04): ("Download ended", "program_download"),
    (0xF, 0x06): ("Start upload", "program_upload"),
    (0xF, 0x07): ("Upload", "program_upload"),
    (0xF, 0x08): ("Continue upload", "program_upload"),
}


def userdata_function(group: int, sub: int) -> tuple[str, str]:
    """``("<group name>: <subfunction name>", operation)``; unknown codes
    are named ``unknown-<n>``."""
    group_name, default = USERDATA_GROUPS.get(group, (f"unknown-{group}", "unknown"))
    name, operation = USERDATA_FUNCTIONS.get((group, sub), (f"unknown-{sub}", default))
    return f"{group_name}: {name}", operation


_FRAGMENTS = SzlFragments()


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from every TPKT packet in one message."""
    pos = 0
    while pos < len(message):
        if len(message) - pos < 7 or message[pos] != TPKT_VERSION:
            yield Malformed(ctx.src, ctx.dst, NAME, "not a TPKT packet", message[pos : pos + 64])
            return
        (length,) = struct.unpack_from(">H", message, pos + 2)
        if length < 7 or pos + length > len(message):
            reason = f"TPKT length {length} does not fit the {len(message) - pos} bytes left"
            yield Malformed(ctx.src, ctx.dst, NAME, reason, message[pos : pos + 64])
            return
        yield from _cotp(message[pos + 4 : pos + length], ctx)
        pos += length


def _cotp(tpdu: bytes, ctx: MessageContext) -> Iterator[Observation]:
    li = tpdu[0]
    if li < 2 or li >= len(tpdu):
        return
    kind = tpdu[1] & 0xF0
    if kind == COTP_DT:
        payload = tpdu[li + 1 :]
        if payload[:1] == bytes([S7_ID]):
            yield from _s7(payload, KEY_END - (4 + li + 1), ctx)
        elif s7comm_plus.is_plus(payload):
            yield from s7comm_plus.dissect_plus(payload, ctx, PORT)
        elif mms.is_mms(payload):
            yield from mms.dissect_session(payload, ctx, KEY_END - (4 + li + 1))
    elif kind in (COTP_CR, COTP_CC):
        client, server = (ctx.src, ctx.dst) if kind == COTP_CR else (ctx.dst, ctx.src)
        yield from _connection(tpdu[: li + 1], client, server)


def _connection(tpdu: bytes, client: str, server: str) -> Iterator[Observation]:
    """Roles from a CR or CC with S7 TSAPs; the rack and slot of the PLC
    from the called TSAP (connection type, then rack << 5 | slot).

    The group key masks bytes inside the TSAP parameters, so a SIMATIC
    name (S7-1200/1500 TSAPs) is looked for with those bytes as wildcards, and a
    decision that needs the parameters' structure comes with an Identity,
    which the engine never reuses for another message.
    """
    keyed = tpdu[: KEY_END - KEY_SKIP]
    masked = {start - KEY_SKIP + i for start, size in MASKS for i in range(size)}
    simatic = any(
        all(keyed[at + i] == c or at + i in masked for i, c in enumerate(b"SIMATIC"))
        for at in range(len(keyed) - 6)
    )
    tsaps = _tsaps(tpdu[7:])
    called = tsaps.get(0xC2, b"")
    classic = len(tsaps) == 2 and all(len(t) == 2 and t[0] in (1, 2, 3) for t in tsaps.values())
    if not simatic and not classic:
        return  # MMS and other ISO transport users (TSAPs 0x0001, 4-byte selectors)
    yield ProtocolRole(server, NAME, "server")
    yield ProtocolRole(client, NAME, "client")
    if classic:
        yield Identity(
            server, NAME, (("rack", str(called[1] >> 5)), ("slot", str(called[1] & 0x1F)))
        )


def _tsaps(params: bytes) -> dict[int, bytes]:
    """Calling (0xC1) and called (0xC2) TSAPs from COTP parameters."""
    found, pos = {}, 0
    while pos + 2 <= len(params):
        code, size = params[pos], params[pos + 1]
        if code in (0xC1, 0xC2):
            found[code] = params[pos + 2 : pos + 2 + size]
        pos += 2 + size
    return found


def _s7(pdu: bytes, keyed: int, ctx: MessageContext) -> Iterator[Observation]:
    """One S7comm PDU; its first ``keyed`` bytes are in the group key."""
    if len(pdu) < 10 or pdu[1] not in (JOB, ACK, ACK_DATA, USERDATA):
        yield Malformed(ctx.src, ctx.dst, NAME, "S7 header too short or bad ROSCTR", pdu[:64])
        return
    rosctr = pdu[1]
    plen, dlen = struct.unpack_from(">HH", pdu, 6)
    header = 12 if rosctr in (ACK, ACK_DATA) else 10
    if header + plen + dlen > len(pdu):
        reason = f"S7 parameter ({plen}) and data ({dlen}) longer than the PDU"
        yield Malformed(ctx.src, ctx.dst, NAME, reason, pdu[:64])
        return
    param = pdu[header : header + plen]
    data = pdu[header + plen : header + plen + dlen]
    in_key = param[: max(keyed - header, 0)]  # what operations and roles may depend on
    if rosctr == JOB and in_key:
        yield from _job(in_key, ctx)
    elif rosctr == USERDATA and len(param) >= 8 and len(in_key) >= 7:
        yield from _userdata(param, data, ctx)
    # Ack and Ack_Data repeat the Job's function; the Job gave roles already.


def _job(param: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """A Job request; ``param`` is cut where the group key ends, so that
    what is reported depends on key bytes only (a PI service name past it
    is reported as unknown)."""
    func = param[0]
    name, operation = FUNCTIONS.get(func, (f"unknown-{func}", "unknown"))
    if func == PI_SERVICE:
        service = _pi_service(param)
        label, operation = PI_SERVICES.get(service, ("", "control"))
        name = f"{name} {service or 'unknown'}" + (f" ({label})" if label else "")
    # In a download the PLC asks the programming device for each block
    # (Download block, Download ended): the PLC is the server all the same.
    plc_asks = func in (DOWNLOAD_BLOCK, DOWNLOAD_ENDED)
    client, server = (ctx.dst, ctx.src) if plc_asks else (ctx.src, ctx.dst)
    yield Operation(client, server, NAME, operation, func, name)
    yield ProtocolRole(server, NAME, "server")
    yield ProtocolRole(client, NAME, "client")


def _pi_service(param: bytes) -> str:
    """The PI service name: function, 7 bytes, block length, block, name.
    The block length's high byte is masked out of the group key (it shares
    the place of the Userdata data unit reference) and is taken as zero."""
    if len(param) < 11:
        return ""
    at = 10 + param[9]
    if at >= len(param):
        return ""
    raw = param[at + 1 : at + 1 + param[at]]
    text = raw.decode("latin-1")
    return text if text and len(raw) == param[at] and _is_name(text) else ""


def _is_name(text: str) -> bool:
    return len(text) <= 16 and all(c.isalnum() or c == "_" for c in text) and text.isascii()


def _userdata(param: bytes, data: bytes, ctx: MessageContext) -> Iterator[Observation]:
    # param: head (3), length, method, type << 4 | group, subfunction, sequence,
    # then for answers: data unit reference, last data unit, error code
    kind, group, sub = param[5] >> 4, param[5] & 0x0F, param[6]
    if kind == 4:  # request
        code = USERDATA_CODE_BASE | group << 8 | sub
        name, operation = userdata_function(group, sub)
        yield Operation(ctx.src, ctx.dst, NAME, operation, code, name)
        yield ProtocolRole(ctx.dst, NAME, "server")
        yield ProtocolRole(ctx.src, NAME, "client")
        return
    if kind not in (0, 8) or group not in USERDATA_GROUPS:
        return
    yield ProtocolRole(ctx.src, NAME, "server")  # answers and pushed messages come from the PLC
    yield ProtocolRole(ctx.dst, NAME, "client")
    if kind == 8 and (group, sub) == READ_SZL and len(param) >= 12:
        attributes = _szl_answer(param, data, ctx)
        if attributes:
            yield Identity(ctx.src, NAME, attributes)


def _szl_answer(param: bytes, data: bytes, ctx: MessageContext) -> tuple[tuple[str, str], ...]:
    ref, more, error = param[8], param[9] != 0, param[10:12]
    if error != b"\x00\x00" or len(data) < 4 or data[0] != 0xFF:
        return ()
    body = data[4:]
    key = (ctx.flow, ctx.sport, ctx.dport, ref)
    starts = len(body) >= 8 and body[1] in IDENTITY_LISTS and body[0] & 0xF0 == 0
    if starts:
        if more:
            _FRAGMENTS.first(key, body)
        return szl_identity(body)
    joined = _FRAGMENTS.follow(key, body, last=not more)
    return szl_identity(joined) if joined is not None else ()


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="S7comm / S7comm-plus on ISO-on-TCP (RFC 1006)",
    tcp_ports=(PORT,),
    dissector=dissect,
    framing=Framing(len_offset=2, len_size=2, magic=TPKT_VERSION, max_length=65535),
    mode="representative",
    key_skip=KEY_SKIP,
    key_len=KEY_LEN,
    key_masks=MASKS,
    key_anchor="cotp-dt",  # MMS in a DT: no masks but its invoke id (decode.anchors)
    carries=(mms.NAME,),
    memory=_FRAGMENTS,
    doc="docs/protocols/s7comm.md",
)
