"""Message counting over TCP: retransmissions once, reused port pairs afresh."""

from __future__ import annotations

import struct
from pathlib import Path

from otseam.decode.engine import FrameDecoder
from otseam.sources.capture import CaptureSource, decode_capture
from tests.capturegen import Packet, TcpFlag, ethernet, ipv4, pcap, tcp

CLIENT, SERVER = "10.0.0.5", "10.0.0.9"
CLIENT_MAC, SERVER_MAC = "00:00:00:00:00:05", "00:00:00:00:00:09"
T0 = 1_700_000_000_000_000_000


def read_holding(transaction: int) -> bytes:
    """A Modbus/TCP Read Holding Registers request (MBAP + PDU)."""
    return struct.pack(">HHHBBHH", transaction, 0, 6, 1, 3, 0, 10)


def frame(flags: TcpFlag, seq: int, payload: bytes = b"") -> bytes:
    segment = tcp(40000, 502, flags, payload, seq=seq)
    return ethernet(SERVER_MAC, CLIENT_MAC, 0x0800, ipv4(CLIENT, SERVER, segment))


def requests(tmp_path: Path, frames: list[bytes]) -> int:
    path = tmp_path / "capture.pcap"
    path.write_bytes(pcap([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))
    facts = decode_capture(CaptureSource(str(path), path, None), FrameDecoder(strict=True))
    return sum(c.count for key, c in facts.operations.items() if key[4] == 3)


def test_a_retransmitted_request_counts_once(tmp_path: Path) -> None:
    first = frame(TcpFlag.PSH | TcpFlag.ACK, 1001, read_holding(1))
    again = frame(TcpFlag.PSH | TcpFlag.ACK, 1001, read_holding(1))
    later = frame(TcpFlag.PSH | TcpFlag.ACK, 1013, read_holding(2))
    assert requests(tmp_path, [frame(TcpFlag.SYN, 1000), first, again, later]) == 2


def test_a_new_connection_on_the_same_ports_starts_afresh(tmp_path: Path) -> None:
    """The second connection's sequence numbers are far below the first's:
    its requests are new, not retransmissions of the old connection."""
    frames = [
        frame(TcpFlag.SYN, 900_000),
        frame(TcpFlag.PSH | TcpFlag.ACK, 900_001, read_holding(1)),
        frame(TcpFlag.FIN | TcpFlag.ACK, 900_013),
        frame(TcpFlag.SYN, 5_000),
        frame(TcpFlag.PSH | TcpFlag.ACK, 5_001, read_holding(1)),
        frame(TcpFlag.PSH | TcpFlag.ACK, 5_013, read_holding(2)),
    ]
    assert requests(tmp_path, frames) == 3
