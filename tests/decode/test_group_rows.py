"""A conversation direction whose messages differ in their keyed bytes
(several registers polled) makes a message group for each, but when they
are dissected alike the walker hands them over as one row of (owner,
direction, template), counted and timed as all of them."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from otseam.decode.engine import FrameDecoder
from otseam.decode.layout import GROUP, GROUP_ROW
from otseam.sources.capture import CaptureSource, decode_capture
from tests.capturegen import NS, Ethertype, Packet, TcpFlag, ethernet, ipv4, pcap, tcp

T0 = 1_700_000_000 * NS
REGISTERS = (100, 200, 300, 400, 500)
POLLS = 4


def _read_holding(transaction: int, start: int) -> bytes:
    """Modbus/TCP FC 3, unit 1, 10 registers from ``start``."""
    pdu = struct.pack("!BHH", 3, start, 10)
    return struct.pack("!HHHB", transaction, 0, len(pdu) + 1, 1) + pdu


def test_groups_dissected_alike_are_one_row(tmp_path: Path) -> None:
    requests = [_read_holding(n, start) for n in range(POLLS) for start in REGISTERS]
    seq, frames = 1, []
    for request in requests:
        segment = tcp(40000, 502, TcpFlag.ACK | TcpFlag.PSH, request, seq=seq, ack=1)
        seq += len(request)
        frames.append(
            ethernet("02:00:00:00:00:05", "02:00:00:00:01:00", Ethertype.IPV4,
                     ipv4("10.1.0.10", "10.2.0.5", segment))
        )  # fmt: skip
    path = tmp_path / "poll.pcap"
    path.write_bytes(pcap([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))
    decoder = FrameDecoder(strict=True)
    groups: list[np.ndarray] = []
    rows: dict[int, np.ndarray] = {}
    release = decoder.release

    def release_noting_rows() -> None:
        groups.append(np.frombuffer(decoder.walker.groups(), GROUP))
        release()
        rows.update({t: np.frombuffer(v, GROUP_ROW).copy() for t, v in decoder._rows.items()})

    decoder.release = release_noting_rows  # type: ignore[method-assign]
    facts = decode_capture(CaptureSource(str(path), path, path.stat().st_size), decoder)

    assert len(groups[0]) == len(REGISTERS)  # each register's requests are a group...
    [(template, row)] = rows.items()  # ...and all are one row
    assert len(row) == 1
    assert int(row["owner"][0]) == 0 and int(row["dir_template"][0]) == template
    assert int(row["count"][0]) == len(requests)
    assert (int(row["first_ns"][0]), int(row["last_ns"][0])) == (
        T0,
        T0 + (len(requests) - 1) * 1000,
    )
    [(key, counted)] = facts.operations.items()
    assert key[:2] == ("10.1.0.10", "10.2.0.5")
    assert (counted.count, counted.first_ns, counted.last_ns) == (
        len(requests), T0, T0 + (len(requests) - 1) * 1000,
    )  # fmt: skip
