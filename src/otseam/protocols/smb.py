"""SMB over TCP 445 and NetBIOS 139 ([MS-CIFS] 2.2.3.1 and 2.2.4.52 SMB1
header and Negotiate; [MS-SMB2] 2.2.1, 2.2.3, 2.2.4 SMB2 header and
Negotiate; [MS-NLMP] 2.2.1.1-2.2.1.3 and 2.2.2.1 NTLMSSP messages and
AV_PAIRs; RFC 1002 section 4.3 NetBIOS session service).

Every SMB message follows a 4-byte session header (type 0, then a 24-bit
length). SMB1 (``\\xffSMB``) is outdated and risky: every sender of SMB1
other than a negotiation offer is flagged ``smb1``. SMB2/3 (``\\xfeSMB``)
negotiation names the dialects offered and the one chosen. The NTLMSSP
messages inside a session setup carry the computer's names and Windows
version: the server's CHALLENGE its NetBIOS and DNS computer and domain
names, the client's NEGOTIATE and AUTHENTICATE its version and workstation
name. User names are never read. The side on 445 or 139 is the server.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

from otseam.model.observations import Identity, MessageContext, Observation, ProtocolRole
from otseam.protocols.registry import ProtocolSpec

__all__ = ["DIALECTS", "PROTOCOL", "WINDOWS", "dissect", "ntlmssp"]

NAME: Final = "smb"
PORTS: Final = (445, 139)
SMB1: Final = b"\xffSMB"
SMB2: Final = b"\xfeSMB"
NEGOTIATE_SMB1: Final = 0x72
NEGOTIATE_SMB2: Final = 0x0000
NTLMSSP: Final = b"NTLMSSP\x00"
MAX_PDUS: Final = 16
MAX_VALUE: Final = 200  # the store keeps identity values up to 255 characters

DIALECTS: Final[dict[int, str]] = {
    0x0202: "2.0.2",
    0x0210: "2.1",
    0x02FF: "2.???",
    0x0300: "3.0",
    0x0302: "3.0.2",
    0x0311: "3.1.1",
}

# NTLMSSP AV_PAIR ids ([MS-NLMP] 2.2.2.1) -> Identity attribute
AV_PAIRS: Final[dict[int, str]] = {
    1: "name",
    2: "domain",
    3: "dns_name",
    4: "dns_domain",
    5: "dns_forest",
}

# product major.minor of an NTLMSSP VERSION ([MS-NLMP] 2.2.2.10, appendix)
WINDOWS: Final[dict[tuple[int, int], str]] = {
    (5, 0): "Windows 2000",
    (5, 1): "Windows XP",
    (5, 2): "Windows Server 2003 or XP x64",
    (6, 0): "Windows Vista or Server 2008",
    (6, 1): "Windows 7 or Server 2008 R2",
    (6, 2): "Windows 8 or Server 2012",
    (6, 3): "Windows 8.1 or Server 2012 R2",
    (10, 0): "Windows 10/11 or Server 2016+",
}

NEGOTIATE_UNICODE: Final = 0x00000001
NEGOTIATE_VERSION: Final = 0x02000000


def dissect(message: bytes, ctx: MessageContext) -> Iterator[Observation]:
    """Observations from the session messages of one segment."""
    server, client = (ctx.src, ctx.dst) if _from_server(ctx) else (ctx.dst, ctx.src)
    pos, seen = 0, False
    for _ in range(MAX_PDUS):
        if pos + 8 > len(message):
            break
        length = int.from_bytes(message[pos + 1 : pos + 4], "big")
        pdu = message[pos + 4 : pos + 4 + length]
        if message[pos] != 0:
            break  # a NetBIOS session request or keep-alive, or not a PDU start
        attributes = _smb(pdu)
        if attributes:
            if not seen:
                yield ProtocolRole(server, NAME, "server")
                yield ProtocolRole(client, NAME, "client")
                seen = True
            yield Identity(ctx.src, NAME, attributes)
        pos += 4 + length


def _from_server(ctx: MessageContext) -> bool:
    if (ctx.sport in PORTS) != (ctx.dport in PORTS):
        return ctx.sport in PORTS
    return ctx.sport < ctx.dport


def _smb(pdu: bytes) -> tuple[tuple[str, str], ...]:
    """Identity attributes of the sender of one SMB message."""
    found: list[tuple[str, str]] = []
    if pdu.startswith(SMB1) and len(pdu) >= 32:
        if pdu[4] == NEGOTIATE_SMB1 and not pdu[9] & 0x80:
            offered = _smb1_dialects(pdu)
            found.append(("smb_dialects_offered", ",".join(offered)[:MAX_VALUE] or "none"))
            if not any(d.startswith("SMB 2") for d in offered):
                found.append(("smb1", "true"))
        else:
            found.append(("smb1", "true"))
    elif pdu.startswith(SMB2) and len(pdu) >= 64:
        (command,) = struct.unpack_from("<H", pdu, 12)
        response = bool(pdu[16] & 1)
        if command == NEGOTIATE_SMB2 and response and len(pdu) >= 70:
            found.append(("smb_dialect", _dialect(struct.unpack_from("<H", pdu, 68)[0])))
        elif command == NEGOTIATE_SMB2 and not response and len(pdu) >= 68:
            (count,) = struct.unpack_from("<H", pdu, 66)
            codes = pdu[100 : 100 + 2 * min(count, 16)]
            dialects = [
                _dialect(int.from_bytes(codes[i : i + 2], "little"))
                for i in range(0, len(codes) - 1, 2)
            ]
            found.append(("smb_dialects_offered", ",".join(dialects) or "none"))
        else:
            found.append(("smb2", "true"))
    else:
        return ()
    start = pdu.find(NTLMSSP)
    if start >= 0:
        found += ntlmssp(pdu[start:])
    return tuple(found)


def _smb1_dialects(pdu: bytes) -> list[str]:
    # word count (0), byte count, then 0x02 "dialect\0" ([MS-CIFS] 2.2.4.52.1)
    names = pdu[35:].split(b"\x00")
    offered = [n[1:].decode("latin-1") for n in names if n[:1] == b"\x02"]
    return ["".join(c for c in d if c.isprintable()) for d in offered][:16]


def _dialect(code: int) -> str:
    return DIALECTS.get(code, f"unknown-0x{code:04x}")


def ntlmssp(data: bytes) -> list[tuple[str, str]]:
    """Identity attributes of an NTLMSSP message's sender: names and the
    Windows version; user names are never read."""
    if len(data) < 12:
        return []
    (kind,) = struct.unpack_from("<I", data, 8)
    found: list[tuple[str, str]] = []
    if kind == 1 and len(data) >= 16:  # NEGOTIATE, version at 32
        flags = struct.unpack_from("<I", data, 12)[0]
        found += _version(data, 32, flags)
    elif kind == 2 and len(data) >= 48:  # CHALLENGE: target info at 40, version at 48
        flags = struct.unpack_from("<I", data, 20)[0]
        found += _av_pairs(_field(data, 40))
        found += _version(data, 48, flags)
    elif kind == 3 and len(data) >= 64:  # AUTHENTICATE: workstation at 44, version at 64
        flags = struct.unpack_from("<I", data, 60)[0]
        workstation = _text(_field(data, 44), unicode=bool(flags & NEGOTIATE_UNICODE))
        if workstation:
            found.append(("name", workstation))
        found += _version(data, 64, flags)
    return found


def _field(data: bytes, at: int) -> bytes:
    """The bytes a (length, max length, offset) field at ``at`` points to."""
    if at + 8 > len(data):
        return b""
    length, _max, offset = struct.unpack_from("<HHI", data, at)
    return data[offset : offset + length]


def _av_pairs(info: bytes) -> list[tuple[str, str]]:
    found, pos = [], 0
    while pos + 4 <= len(info):
        av_id, size = struct.unpack_from("<HH", info, pos)
        if av_id == 0:
            break
        value = _text(info[pos + 4 : pos + 4 + size], unicode=True)
        if av_id in AV_PAIRS and value:
            found.append((AV_PAIRS[av_id], value))
        pos += 4 + size
    return found


def _version(data: bytes, at: int, flags: int) -> list[tuple[str, str]]:
    if not flags & NEGOTIATE_VERSION or at + 8 > len(data):
        return []
    major, minor, build = struct.unpack_from("<BBH", data, at)
    if major == 0:
        return []
    os = WINDOWS.get((major, minor), f"unknown-{major}.{minor}")
    return [("os_version", f"{major}.{minor}.{build}"), ("os_hint", os)]


def _text(raw: bytes, unicode: bool) -> str:
    text = raw.decode("utf-16-le", "replace") if unicode else raw.decode("latin-1")
    return "".join(c for c in text if c.isprintable())[:100].strip()


PROTOCOL: Final = ProtocolSpec(
    name=NAME,
    title="SMB",
    tcp_ports=PORTS,
    dissector=dissect,
    mode="representative",
    max_messages=16,  # read from its opening; bulk data is counted, not dissected
    # after the session header: SMB1 protocol, command, status, flags,
    # flags2, PID high and (masked) the signature's first bytes; SMB2
    # protocol, header size, credit charge, status, command, (masked) credits
    key_skip=4,
    key_len=16,
    key_masks=((18, 2),),
    doc="docs/protocols/smb.md",
)
