"""Many conversations carrying the same request are dissected once: later
ones take the first one's result, whether the walker learnt it already
(an earlier batch) or the first one is still on its way (the same batch).
The counts stay exact either way."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from sqlalchemy import select

import otseam.decode.engine as engine_module
from otseam.decode.engine import FrameDecoder
from otseam.ingest import ingest
from otseam.model.observations import MessageContext, Observation
from otseam.protocols.registry import ProtocolSpec
from otseam.store.database import open_store
from otseam.store.schema import operations
from tests.capturegen import NS, Ethertype, Packet, TcpFlag, ethernet, ipv4, pcap, tcp

T0 = 1_700_000_000 * NS
CONVERSATIONS = 300


def _read_holding(transaction: int) -> bytes:
    """Modbus/TCP FC 3, unit 1, 10 registers from 100 (transaction id varies)."""
    pdu = struct.pack("!BHH", 3, 100, 10)
    return struct.pack("!HHHB", transaction, 0, len(pdu) + 1, 1) + pdu


def _capture(path: Path) -> None:
    frames = []
    for n in range(CONVERSATIONS):
        client = f"10.1.{n // 200}.{n % 200 + 10}"
        segment = tcp(40000 + n, 502, TcpFlag.ACK | TcpFlag.PSH, _read_holding(n), seq=1, ack=1)
        packet = ipv4(client, "10.2.0.5", segment)
        frames.append(ethernet("02:00:00:00:00:05", "02:00:00:00:01:00", Ethertype.IPV4, packet))
    path.write_bytes(pcap([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))


def test_one_request_in_many_conversations_is_dissected_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bytes] = []
    original = FrameDecoder._dissect

    def counting(
        self: FrameDecoder, spec: ProtocolSpec, message: bytes, ctx: MessageContext
    ) -> list[Observation]:
        if spec.name == "modbus":
            calls.append(message)
        return original(self, spec, message, ctx)

    keyed: list[bytes] = []
    header_key = engine_module._header_key

    def counting_keys(spec: ProtocolSpec, message: bytes, ctx: MessageContext) -> object:
        keyed.append(message)
        return header_key(spec, message, ctx)

    monkeypatch.setattr(FrameDecoder, "_dissect", counting)
    monkeypatch.setattr(engine_module, "_header_key", counting_keys)
    capture = tmp_path / "polls.pcap"
    _capture(capture)
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(capture)], engine)
    with engine.connect() as conn:
        reads = (
            conn.execute(select(operations.c.count).where(operations.c.code == 3)).scalars().all()
        )
    assert sum(reads) == CONVERSATIONS  # every request counted...
    assert len(calls) == 1  # ...one dissected
    assert len(keyed) == 1  # the others followed it without even a key lookup in Python
