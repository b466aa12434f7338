"""Services the synthetic "many-conversations" capture talks, with one exchange each.

Every conversation carries one request and one response whose first bytes
look like the real protocol (Modbus read, COTP connect, ENIP RegisterSession,
DNS query, Who-Is ...), so a dissector has something plausible to chew on.
Where a dissector checks one (the DNP3 link CRCs), it is right; other
checksums inside these payloads are not meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass

TCP, UDP = 6, 17


@dataclass(frozen=True)
class Service:
    name: str
    proto: int  # IP protocol number
    port: int  # server port
    weight: float  # share of conversations
    request: bytes
    response: bytes


def _dns(response: bool) -> bytes:
    qname = b"".join(bytes([len(p)]) + p for p in (b"historian", b"plant", b"local")) + b"\0"
    header = bytes.fromhex("1a2b" + ("8180" if response else "0100") + "0001")
    header += bytes.fromhex("0001" if response else "0000") + bytes(4)
    question = qname + bytes.fromhex("00010001")
    answer = bytes.fromhex("c00c00010001000000780004") + bytes([10, 1, 2, 3]) if response else b""
    return header + question + answer


def _bacnet(apdu: bytes) -> bytes:
    npdu = bytes.fromhex("0120ffff00ff")
    body = npdu + apdu
    return bytes.fromhex("810b") + (4 + len(body)).to_bytes(2, "big") + body


def _enip(command: int, data: bytes, session: int = 0) -> bytes:
    return (
        command.to_bytes(2, "little")
        + len(data).to_bytes(2, "little")
        + session.to_bytes(4, "little")
        + bytes(4)  # status
        + b"otseam\0\0"  # sender context
        + bytes(4)  # options
        + data
    )


def _dnp3_crc(data: bytes) -> bytes:
    """CRC-16/DNP (reflected polynomial 0xA6BC, inverted), least significant byte first."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
    return (~crc & 0xFFFF).to_bytes(2, "little")


def _dnp3(control: int, dst: int, src: int, user_data: bytes) -> bytes:
    """A DNP3 link frame: header and every 16-byte block of user data with its CRC."""
    header = b"\x05\x64" + bytes([5 + len(user_data), control])
    header += dst.to_bytes(2, "little") + src.to_bytes(2, "little")
    frame = header + _dnp3_crc(header)
    for start in range(0, len(user_data), 16):
        block = user_data[start : start + 16]
        frame += block + _dnp3_crc(block)
    return frame


def _tls_handshake(kind: int, length: int) -> bytes:
    message = bytes([kind]) + length.to_bytes(3, "big") + b"\x03\x03" + bytes(length - 2)
    return b"\x16\x03\x01" + len(message).to_bytes(2, "big") + message


_COTP_PARAMS = bytes.fromhex("c0010ac1020100c2020102")
_SNMP_REQUEST = bytes.fromhex(
    "302602010104067075626c6963a019020101020100020100300e300c06082b060102010101000500"
)
_SNMP_RESPONSE = (
    bytes.fromhex(
        "302902010104067075626c6963a21c020101020100020100301130" + "0f06082b06010201010100" + "0403"
    )
    + b"PLC"
)

SERVICES: tuple[Service, ...] = (
    Service(
        "modbus",
        TCP,
        502,
        0.20,
        bytes.fromhex("00010000000601030000000a"),
        bytes.fromhex("000100000017010314") + bytes(range(20)),
    ),
    Service(
        "s7comm",
        TCP,
        102,
        0.10,
        bytes.fromhex("0300001611e00000000100") + _COTP_PARAMS,
        bytes.fromhex("0300001611d00001000100") + _COTP_PARAMS,
    ),
    Service(
        "enip",
        TCP,
        44818,
        0.10,
        _enip(0x65, bytes.fromhex("01000000")),
        _enip(0x65, bytes.fromhex("01000000"), session=0x01020304),
    ),
    Service(
        "dnp3",
        TCP,
        20000,
        0.05,
        _dnp3(0xC4, 3, 4, bytes.fromhex("c0c1013c0206")),  # read class 1
        _dnp3(0x44, 4, 3, bytes.fromhex("c0c1810000")),  # its response, no IIN bits
    ),
    Service(
        "iec104", TCP, 2404, 0.05, bytes.fromhex("680407000000"), bytes.fromhex("68040b000000")
    ),
    Service(
        "opcua",
        TCP,
        4840,
        0.03,
        b"HELF" + (32).to_bytes(4, "little") + bytes(24),
        b"ACKF" + (28).to_bytes(4, "little") + bytes(20),
    ),
    Service(
        "https",
        TCP,
        443,
        0.10,
        _tls_handshake(1, 56),  # ClientHello
        _tls_handshake(2, 48),  # ServerHello
    ),
    Service(
        "http",
        TCP,
        80,
        0.03,
        b"GET /status HTTP/1.1\r\nHost: hmi\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ),
    Service(
        "smb",
        TCP,
        445,
        0.04,
        bytes.fromhex("00000040fe534d4240000000") + bytes(56),
        bytes.fromhex("00000048fe534d4240000100") + bytes(64),
    ),
    Service(
        "rdp",
        TCP,
        3389,
        0.02,
        bytes.fromhex("030000130ee000000000000100080003000000"),
        bytes.fromhex("030000130ed000001234000200080001000000"),
    ),
    Service("ssh", TCP, 22, 0.02, b"SSH-2.0-OpenSSH_9.2\r\n", b"SSH-2.0-OpenSSH_8.4p1\r\n"),
    Service("dns", UDP, 53, 0.08, _dns(False), _dns(True)),
    Service("ntp", UDP, 123, 0.04, b"\x23" + bytes(47), b"\x24\x02" + bytes(46)),
    Service("snmp", UDP, 161, 0.05, _SNMP_REQUEST, _SNMP_RESPONSE),
    Service(
        "bacnet",
        UDP,
        47808,
        0.04,
        _bacnet(bytes.fromhex("1008")),
        _bacnet(bytes.fromhex("1000c4020000012205c49100210f")),
    ),
    Service(
        "enip-io",
        UDP,
        2222,
        0.05,
        bytes.fromhex("0200028008000100000002b1000600") + bytes(5),
        bytes.fromhex("0200028008000200000002b1000600") + bytes(5),
    ),
)
