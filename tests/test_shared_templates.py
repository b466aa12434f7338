"""Many conversations carrying the same request are dissected once: later
ones take the first one's result, whether the walker learnt it already
(an earlier batch) or the first one is still on its way (the same batch).
The counts stay exact either way."""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

import otseam.decode.engine as engine_module
from otseam.decode.engine import FrameDecoder, _key_bytes
from otseam.ingest import ingest
from otseam.model.observations import MessageContext, Observation
from otseam.protocols.registry import ProtocolSpec
from otseam.sources.capture import CaptureSource, decode_capture
from otseam.store.database import open_store
from otseam.store.schema import identities, operations
from tests.capturegen import NS, Ethertype, Packet, TcpFlag, ethernet, ipv4, pcap, tcp
from tests.walker_groups import decode_keeping_groups

T0 = 1_700_000_000 * NS
CONVERSATIONS = 300


def _read_holding(transaction: int) -> bytes:
    """Modbus/TCP FC 3, unit 1, 10 registers from 100 (transaction id varies)."""
    pdu = struct.pack("!BHH", 3, 100, 10)
    return struct.pack("!HHHB", transaction, 0, len(pdu) + 1, 1) + pdu


def _write_capture(path: Path, segments: Iterable[tuple[str, str, bytes]]) -> Path:
    """A capture of (source IP, destination IP, TCP segment) over Ethernet,
    one microsecond apart."""
    frames = [
        ethernet("02:00:00:00:00:05", "02:00:00:00:01:00", Ethertype.IPV4, ipv4(src, dst, seg))
        for src, dst, seg in segments
    ]
    path.write_bytes(pcap([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))
    return path


def _capture(path: Path) -> None:
    _write_capture(
        path,
        (
            (
                f"10.1.{n // 200}.{n % 200 + 10}",
                "10.2.0.5",
                tcp(40000 + n, 502, TcpFlag.ACK | TcpFlag.PSH, _read_holding(n), seq=1, ack=1),
            )
            for n in range(CONVERSATIONS)
        ),
    )


def _count_dissections(monkeypatch: pytest.MonkeyPatch, protocol: str) -> list[bytes]:
    """The messages of ``protocol`` that reach its dissector, from now on."""
    dissected: list[bytes] = []
    original = FrameDecoder._dissect

    def counting(
        self: FrameDecoder, spec: ProtocolSpec, message: bytes, ctx: MessageContext
    ) -> list[Observation]:
        if spec.name == protocol:
            dissected.append(message)
        return original(self, spec, message, ctx)

    monkeypatch.setattr(FrameDecoder, "_dissect", counting)
    return dissected


def test_one_request_in_many_conversations_is_dissected_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_dissections(monkeypatch, "modbus")
    keyed: list[bytes] = []
    header_key = engine_module._header_key

    def counting_keys(spec: ProtocolSpec, message: bytes, ctx: MessageContext) -> object:
        keyed.append(message)
        return header_key(spec, message, ctx)

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


def _send_rr_data(cip_message: bytes, session: int) -> bytes:
    """EtherNet/IP SendRRData (0x6F) with a null address and an unconnected data item."""
    cpf = struct.pack("<IHH", 0, 0, 2) + struct.pack("<HH", 0, 0)
    cpf += struct.pack("<HH", 0xB2, len(cip_message)) + cip_message
    return struct.pack("<HHII8sI", 0x6F, len(cpf), session, 0, b"ctx", 0) + cpf


def _write_tag(tag: bytes, value: int) -> bytes:
    """Logix Write_Tag (0x4D) of one DINT to a symbolic segment path."""
    segment = bytes([0x91, len(tag)]) + tag + (b"\x00" if len(tag) % 2 else b"")
    return bytes([0x4D, len(segment) // 2]) + segment + struct.pack("<HHi", 0xC4, 1, value)


def _get_attributes_all_reply(serial: int) -> bytes:
    """A Get_Attributes_All reply with an Identity object body (Volume 1, 5-2.2)."""
    name = b"1756-L71/B LOGIX5571"
    body = struct.pack("<HHHBBHIB", 1, 14, 54, 20, 11, 0x60, serial, len(name)) + name
    return bytes([0x81, 0, 0, 0]) + body


def _enip_capture(path: Path, requests: list[bytes], replies: list[bytes]) -> None:
    segments = []
    for n, cip_message in enumerate(requests + replies):
        client = f"10.3.{n // 200}.{n % 200 + 10}"
        reply = n >= len(requests)
        payload = _send_rr_data(cip_message, session=n + 1)
        sport, dport = (44818, 50000 + n) if reply else (50000 + n, 44818)
        src, dst = ("10.4.0.5", client) if reply else (client, "10.4.0.5")
        segments.append(
            (src, dst, tcp(sport, dport, TcpFlag.ACK | TcpFlag.PSH, payload, seq=1, ack=1))
        )
    _write_capture(path, segments)


def test_cip_writes_of_different_values_share_a_result_but_not_different_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dissected = _count_dissections(monkeypatch, "enip")
    writes = [_write_tag(b"Flow", value) for value in range(100)]
    writes += [_write_tag(b"Level", value) for value in range(20)]
    replies = [_get_attributes_all_reply(serial) for serial in (0x60A1B2C3, 0x60A1B2C4)]
    capture = tmp_path / "cip.pcap"
    _enip_capture(capture, writes, replies)
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(capture)], engine)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                select(operations.c.code_name, func.sum(operations.c.count))
                .where(operations.c.protocol == "enip")
                .group_by(operations.c.code_name)
            ).all()
        )
        serials = set(
            conn.execute(
                select(identities.c.value).where(identities.c.attribute == "cip_serial")
            ).scalars()
        )
    assert counts == {"Write_Tag tag Flow": 100, "Write_Tag tag Level": 20}
    assert serials == {"0x60a1b2c3", "0x60a1b2c4"}  # replies whose data is read stay apart
    assert len(dissected) == 2 + 2  # one write per tag, and each identity reply


def test_identity_replies_of_the_same_bytes_are_dissected_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply whose identity is read from bytes past the group key is not
    shared by key, but is by content: forty devices answering the same
    bytes cost one dissection, and each device gets the identity."""
    dissected = _count_dissections(monkeypatch, "enip")
    payload = _send_rr_data(_get_attributes_all_reply(0x60A1B2C3), session=7)
    capture = _write_capture(
        tmp_path / "replies.pcap",
        (
            (
                f"10.5.0.{n + 10}",
                "10.6.0.1",
                tcp(44818, 50000 + n, TcpFlag.ACK | TcpFlag.PSH, payload, seq=1, ack=1),
            )
            for n in range(40)
        ),
    )
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(capture)], engine)
    with engine.connect() as conn:
        devices = conn.execute(
            select(identities.c.address, identities.c.count).where(
                identities.c.attribute == "cip_serial", identities.c.value == "0x60a1b2c3"
            )
        ).all()
    assert sorted(devices) == sorted((f"10.5.0.{n + 10}", 1) for n in range(40))
    assert len(dissected) == 1


def test_answers_split_over_data_units_are_not_shared_by_content(tmp_path: Path) -> None:
    """The first part of a split S7 SZL answer leaves state in the dissector
    (its memory): the same first part from another PLC must be dissected
    again, or that PLC's last part (with its own serial) would find no start
    and its identity be lost."""
    from tests.protocols.test_s7comm import szl_001c, szl_answer

    segments = []
    for n in range(3):
        body = szl_001c("STATION-C", "CPU 315-2 PN/DP", f"S C-C765432{n}", "CPU 315-2 PN/DP")
        parts = (szl_answer(body[:100], ref=5, more=True), szl_answer(body[100:], ref=5))
        for i, part in enumerate(parts):
            segment = tcp(102, 49000 + n, TcpFlag.ACK | TcpFlag.PSH, part, seq=1 + 400 * i, ack=1)
            segments.append((f"10.7.0.{n + 10}", "10.8.0.1", segment))
    capture = _write_capture(tmp_path / "szl.pcap", segments)
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(capture)], engine)
    with engine.connect() as conn:
        serials = conn.execute(
            select(identities.c.address, identities.c.value).where(
                identities.c.attribute == "serial"
            )
        ).all()
    assert sorted(serials) == [(f"10.7.0.{n + 10}", f"S C-C765432{n}") for n in range(3)]


def _tpkt_cotp(tpdu: bytes) -> bytes:
    return struct.pack(">BBH", 3, 0, 4 + len(tpdu)) + tpdu


def _on_102() -> list[bytes]:
    """TPKT packets of each kind the ``cotp-dt`` anchor tells apart."""
    from tests.protocols.test_mms import (
        CORPUS_CONNECT,
        DELETE_SEMAPHORE,
        GET_LIST_ATTRIBUTES,
        IDENTIFY,
        long_pdv,
        pdv,
        request,
        response,
        tpkt,
    )
    from tests.protocols.test_s7comm import READ_DB1, s7, userdata_request

    error = bytes.fromhex("0100010061153013020103a00ea20c800304a273a205a003870102")
    return [
        s7(1, READ_DB1),
        userdata_request(4, 1, bytes(8)),
        bytes.fromhex("0300001611e00000000100c1020100c2020102c0010a"),  # COTP CR
        tpkt(bytes.fromhex("7202000d310000054c0000000300000388") + bytes.fromhex("72020000")),
        tpkt(bytes(20)),  # user data starting 0x00
        _tpkt_cotp(b"\x06\xf0\x80\x00\x00\x00\x00\x32\x01\x00\x00\x01\x00\x00\x00" + bytes(20)),
        tpkt(pdv(request(GET_LIST_ATTRIBUTES, b"\x07"))),
        tpkt(pdv(request(DELETE_SEMAPHORE, b"\x07\x08"))),
        tpkt(long_pdv(request(GET_LIST_ATTRIBUTES, b"\x11\x52"))),
        tpkt(request(GET_LIST_ATTRIBUTES, b"\x07")),
        tpkt(pdv(response(GET_LIST_ATTRIBUTES, b"\x07"))),
        tpkt(error),
        tpkt(b"\x01\xff\x00\x02\xaa\xbb" + pdv(request(IDENTIFY))[2:]),
        tpkt(b"\xa0\x81\x05\x02\x81\x02\x01\x02\x82\x00"),
        tpkt(pdv(bytes.fromhex("a305a003800100"))),
        tpkt(CORPUS_CONNECT[:90]),
    ]


def test_walker_and_engine_mask_the_same_key_bytes_on_tcp_102(tmp_path: Path) -> None:
    """Each packet and a copy with one byte changed, alone in a conversation:
    the walker puts them in one group exactly when the engine's header keys
    (``_key_bytes``) are equal, so a header-key hit never joins messages the
    walker keeps apart (S7's masks on S7 and COTP, the MMS invoke id only on
    MMS: docs/protocols/mms.md, Sampling)."""
    from otseam.protocols import s7comm

    spec = s7comm.PROTOCOL
    pairs = []
    for packet in _on_102():
        for at in range(4, min(len(packet), spec.key_skip + spec.key_len + 2)):
            for flip in (0x01, 0xA5):
                changed = bytearray(packet)
                changed[at] ^= flip
                pairs.append((packet, bytes(changed)))
    capture = _write_capture(
        tmp_path / "pairs.pcap",
        (
            (
                "10.9.0.1",
                "10.9.0.2",
                tcp(10000 + n, 102, TcpFlag.ACK | TcpFlag.PSH, payload, seq=1 + 1000 * i, ack=1),
            )
            for n, pair in enumerate(pairs)
            for i, payload in enumerate(pair)
        ),
    )
    facts, groups = decode_keeping_groups(capture)
    conv = facts.conversations
    client_port = np.where(conv["port_a"] == 102, conv["port_b"], conv["port_a"])
    per_pair = Counter((client_port[groups["owner"]] - 10000).tolist())
    walker = [per_pair[n] == 1 for n in range(len(pairs))]
    engine = [_key_bytes(spec, a) == _key_bytes(spec, b) for a, b in pairs]
    assert walker == engine
    assert 0 < sum(engine) < len(pairs)  # some changed bytes are masked, most are not


def test_sharing_by_content_changes_no_observation_on_the_corpus(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every capture of the corpus decodes to the same operations,
    identities, roles and malformed messages, with the same counts and
    times, whether results are shared by message content or each message
    group is dissected on its own."""
    from otseam.errors import CaptureError
    from otseam.sources.capture import expand
    from otseam.sources.problems import Problem

    def observations(source: CaptureSource) -> dict[str, dict[object, tuple[int, ...]]]:
        try:
            facts = decode_capture(source, FrameDecoder(), lambda _position: None)
        except CaptureError:  # not a capture (README, damaged header): nothing to compare
            return {}
        tables = ("operations", "identities", "roles", "malformed")
        return {
            t: {k: (v.count, v.first_ns, v.last_ns) for k, v in getattr(facts, t).items()}
            for t in tables
        }

    sources = [s for s in expand([str(corpus)]) if not isinstance(s, Problem)]
    shared = {s.name: observations(s) for s in sources}
    template_for = FrameDecoder._template_for

    def never_by_content(
        self: FrameDecoder, spec: ProtocolSpec, message: bytes, ctx: MessageContext
    ) -> tuple[int, bool, bool]:
        template, by_header, _pure = template_for(self, spec, message, ctx)
        return template, by_header, False

    monkeypatch.setattr(FrameDecoder, "_template_for", never_by_content)
    alone = {s.name: observations(s) for s in sources}
    assert sum(1 for o in shared.values() if o) > 300
    assert sum(len(o.get("identities", ())) for o in shared.values()) > 1000
    assert shared == alone
