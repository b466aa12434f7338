"""Hand-built captures for the documented differences the corpus lacks.

Each function writes one capture and returns its path; the addresses are
from the documentation ranges, the traffic as small as shows the point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from tests.oracle.pcapfile import (
    ACK,
    FIN,
    PSH,
    RST,
    SYN,
    Record,
    ethernet,
    ipv4,
    ipv4_fragments,
    ipv6_fragments,
    tcp,
    udp,
    write_pcap,
)

__all__ = [
    "fragments",
    "quiet_udp",
    "resent_with_new_data",
    "reused_port_pair",
    "shared_first_adu",
    "split_modbus",
    "wire_lengths",
]

MAC_A: Final = "02:00:00:00:00:0a"
MAC_B: Final = "02:00:00:00:00:0b"
IPV4: Final = 0x0800
IPV6: Final = 0x86DD
START: Final = 1_700_000_000.0


def _from_a(packet: bytes, ethertype: int = IPV4) -> bytes:
    return ethernet(MAC_A, MAC_B, ethertype, packet)


def _from_b(packet: bytes, ethertype: int = IPV4) -> bytes:
    return ethernet(MAC_B, MAC_A, ethertype, packet)


def reused_port_pair(path: Path) -> Path:
    """192.0.2.1:40000 -> 192.0.2.2:502 twice: a closed connection, and a
    minute later a new one on the same port pair (new initial sequence)."""
    a, b = "192.0.2.1", "192.0.2.2"

    def one(t: float, client_isn: int, server_isn: int) -> list[Record]:
        c, s = client_isn, server_isn
        request = bytes.fromhex("000100000006010300000001")
        return [
            Record(t, _from_a(ipv4(a, b, 6, tcp(40000, 502, SYN, c)))),
            Record(t + 0.001, _from_b(ipv4(b, a, 6, tcp(502, 40000, SYN | ACK, s, c + 1)))),
            Record(t + 0.002, _from_a(ipv4(a, b, 6, tcp(40000, 502, ACK, c + 1, s + 1)))),
            Record(
                t + 0.003,
                _from_a(ipv4(a, b, 6, tcp(40000, 502, PSH | ACK, c + 1, s + 1, request))),
            ),
            Record(t + 0.004, _from_a(ipv4(a, b, 6, tcp(40000, 502, FIN | ACK, c + 13, s + 1)))),
            Record(t + 0.005, _from_b(ipv4(b, a, 6, tcp(502, 40000, FIN | ACK, s + 1, c + 14)))),
            Record(t + 0.006, _from_a(ipv4(a, b, 6, tcp(40000, 502, ACK, c + 14, s + 2)))),
        ]

    records = one(START, 1000, 5000) + one(START + 60, 900_000, 700_000)
    records.append(Record(START + 60.01, _from_a(ipv4(a, b, 6, tcp(40000, 502, RST, 900_014)))))
    return write_pcap(path, records)


def quiet_udp(path: Path) -> Path:
    """One UDP port pair used at the start, an hour later and a day later."""
    a, b = "192.0.2.3", "192.0.2.4"
    records = []
    for gap in (0, 3600, 86400):
        records.append(Record(START + gap, _from_a(ipv4(a, b, 17, udp(40001, 161, b"get")))))
        records.append(Record(START + gap + 0.01, _from_b(ipv4(b, a, 17, udp(161, 40001, b"ok")))))
    return write_pcap(path, records)


def fragments(path: Path) -> Path:
    """Three fragmented UDP datagrams (3000 bytes of data each): IPv4 in
    order, IPv4 with the last fragment first, IPv6 in order."""
    a4, b4, a6, b6 = "198.51.100.1", "198.51.100.2", "2001:db8::1", "2001:db8::2"
    datagram = udp(5000, 6000, bytes(3000))
    in_order = ipv4_fragments(a4, b4, 17, datagram, ident=1, size=1480)
    last_first = ipv4_fragments(a4, b4, 17, datagram, ident=2, size=1480)
    last_first = [last_first[-1], *last_first[:-1]]
    v6 = ipv6_fragments(a6, b6, 17, datagram, ident=3, size=1448)
    frames = [_from_a(p) for p in in_order + last_first] + [_from_a(p, IPV6) for p in v6]
    return write_pcap(path, [Record(START + i / 100, f) for i, f in enumerate(frames)])


def wire_lengths(path: Path) -> Path:
    """A TCP ACK padded to the Ethernet minimum, and a 1000-byte UDP frame of
    which the capture kept only 64 bytes."""
    a, b = "192.0.2.5", "192.0.2.6"
    ack = _from_a(ipv4(a, b, 6, tcp(40002, 102, ACK, 1, 1)))
    big = _from_a(ipv4(a, b, 17, udp(40003, 2222, bytes(1000 - 14 - 20 - 8))))
    records = [Record(START, ack), Record(START + 1, big[:64], wire_length=len(big))]
    return write_pcap(path, records, snaplen=64)


def split_modbus(path: Path) -> Path:
    """Modbus requests 192.0.2.7:40004 -> 192.0.2.8:502: a whole ADU
    (function 3), one ADU (function 16) split over two segments, then a
    whole ADU (function 4) sent twice (a retransmission: same sequence
    number, same bytes)."""
    a, b = "192.0.2.7", "192.0.2.8"
    read = bytes.fromhex("000100000006010300000002")
    write = bytes.fromhex("0002000000090110000000010200ff")
    again = bytes.fromhex("000300000006010400100001")
    head, tail = write[:9], write[9:]
    segments = [(1, read), (13, head), (22, tail), (28, again), (28, again)]
    records = [
        Record(START + i / 100, _from_a(ipv4(a, b, 6, tcp(40004, 502, PSH | ACK, seq, 1, data))))
        for i, (seq, data) in enumerate(segments)
    ]
    return write_pcap(path, records)


def shared_first_adu(path: Path) -> Path:
    """Two Modbus request segments 192.0.2.9:40005 -> 192.0.2.10:502 of two
    ADUs each: the same Read Holding Registers (3) first, then Read Coils (1)
    in one and Read Discrete Inputs (2) in the other."""
    a, b = "192.0.2.9", "192.0.2.10"
    first = bytes.fromhex("000100000006010300000002")
    coils = bytes.fromhex("000200000006010100000008")
    inputs = bytes.fromhex("000400000006010200000008")
    again = bytes.fromhex("000300000006010300000002")
    segments = [(1, first + coils), (25, again + inputs)]
    records = [
        Record(START + i, _from_a(ipv4(a, b, 6, tcp(40005, 502, PSH | ACK, seq, 1, data))))
        for i, (seq, data) in enumerate(segments)
    ]
    return write_pcap(path, records)


def resent_with_new_data(path: Path) -> Path:
    """Modbus requests 192.0.2.11:40006 -> 192.0.2.12:502, every segment of
    whole ADUs: Read Holding Registers (3); the same sent again with Read
    Coils (1) added behind it (a retransmission topped up with new data);
    Read Coils alone again (a plain retransmission); Read Discrete Inputs (2)."""
    a, b = "192.0.2.11", "192.0.2.12"
    holding = bytes.fromhex("000100000006010300000002")
    coils = bytes.fromhex("000200000006010100000008")
    inputs = bytes.fromhex("000300000006010200000008")
    segments = [(1, holding), (1, holding + coils), (13, coils), (25, inputs)]
    records = [
        Record(START + i, _from_a(ipv4(a, b, 6, tcp(40006, 502, PSH | ACK, seq, 1, data))))
        for i, (seq, data) in enumerate(segments)
    ]
    return write_pcap(path, records)
