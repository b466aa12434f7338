"""The walker looks each packet's conversation, binding and station up
first among the two keys it looked up last (packets come in trains of one
conversation, a request and its answer in turn), then in the hash table.

Whatever the order of the packets, each lands in the entry of its own key:
keys that differ in one field only (the transport, a port, the MAC, the
VLAN) never share an entry, in runs that the two recent keys hold and in
rounds of three that they never do."""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path

import numpy as np

from otseam.decode.addresses import ip_text
from otseam.decode.engine import FrameDecoder
from otseam.model.capture import CaptureFacts
from otseam.sources.capture import CaptureSource, decode_capture
from tests.capturegen import NS, Ethertype, Packet, Tag, ethernet, ipv4, ipv6, pcap, tcp, udp

T0 = 1_700_000_000 * NS
SERVER_MAC = "02:00:00:00:00:01"

# name -> (source MAC, VLAN, source, destination, transport, sport, dport);
# neighbours differ in one field of the key only
FLOWS = {
    "tcp": ("02:00:00:00:01:01", 0, "10.0.0.1", "10.0.0.2", "tcp", 40000, 502),
    "udp": ("02:00:00:00:01:01", 0, "10.0.0.1", "10.0.0.2", "udp", 40000, 502),
    "port": ("02:00:00:00:01:01", 0, "10.0.0.1", "10.0.0.2", "tcp", 40001, 502),
    "mac": ("02:00:00:00:01:02", 0, "10.0.0.1", "10.0.0.2", "tcp", 40000, 502),
    "vlan": ("02:00:00:00:01:01", 7, "10.0.0.1", "10.0.0.2", "tcp", 40000, 502),
    "v6": ("02:00:00:00:01:03", 0, "fd00::1", "fd00::2", "udp", 40000, 502),
    "v6port": ("02:00:00:00:01:03", 0, "fd00::1", "fd00::2", "udp", 40000, 503),
}
# runs of one flow, pairs in turn, rounds of three, and everything shuffled
ORDER = (
    ["tcp"] * 5
    + ["tcp", "udp"] * 6
    + ["tcp", "udp", "port"] * 4
    + ["mac", "vlan", "tcp"] * 3
    + ["v6", "v6port"] * 3
    + ["v6", "tcp", "v6port", "udp", "mac"] * 2
)


def _frame(name: str) -> bytes:
    src_mac, vlan, src, dst, transport, sport, dport = FLOWS[name]
    segment = tcp(sport, dport) if transport == "tcp" else udp(sport, dport, b"x")
    six = ":" in src
    packet = (ipv6 if six else ipv4)(src, dst, segment)
    ethertype = Ethertype.IPV6 if six else Ethertype.IPV4
    tags = [Tag(vlan)] if vlan else []
    return ethernet(SERVER_MAC, src_mac, ethertype, packet, tags)


def _decode(path: Path) -> CaptureFacts:
    return decode_capture(CaptureSource(str(path), path, path.stat().st_size), FrameDecoder())


def _conversation_packets(facts: CaptureFacts) -> Counter[tuple[object, ...]]:
    conversations = facts.conversations
    found: Counter[tuple[object, ...]] = Counter()
    for row in conversations:
        family = int(row["family"])
        ends = (ip_text(family, row["a"].tobytes()), ip_text(family, row["b"].tobytes()))
        key = (*ends, int(row["port_a"]), int(row["port_b"]), int(row["proto"]))
        found[key] += int(row["pkts_ab"]) + int(row["pkts_ba"])
    return found


def test_each_packet_counts_in_its_own_entry_whatever_the_order(tmp_path: Path) -> None:
    path = tmp_path / "interleaved.pcap"
    packets = [Packet(T0 + i * 1000, _frame(name)) for i, name in enumerate(ORDER)]
    path.write_bytes(pcap(packets))

    facts = _decode(path)

    sent = Counter(ORDER)
    expected: Counter[tuple[object, ...]] = Counter()
    for name, times in sent.items():
        _, _, src, dst, transport, sport, dport = FLOWS[name]
        expected[(src, dst, sport, dport, 6 if transport == "tcp" else 17)] += times
    assert _conversation_packets(facts) == expected

    bindings = Counter(
        {
            (int(b["mac"]), int(b["vlan"]), ip_text(int(b["family"]), b["addr"].tobytes())): int(
                b["pkts"]
            )
            for b in facts.bindings
        }
    )
    by_binding: Counter[tuple[int, int, str]] = Counter()
    for name, times in sent.items():
        src_mac, vlan, src = FLOWS[name][:3]
        by_binding[(int(src_mac.replace(":", ""), 16), vlan, src)] += times
    assert bindings == by_binding

    stations = {int(s["mac"]): int(s["pkts"]) for s in facts.stations}
    by_station: Counter[int] = Counter()
    for name, times in sent.items():
        by_station[int(FLOWS[name][0].replace(":", ""), 16)] += times
    assert stations == by_station


def _records(data: bytes) -> tuple[bytes, list[bytes]]:
    """A little-endian classic pcap's header and records."""
    assert data[:4] == b"\xd4\xc3\xb2\xa1"
    records, pos = [], 24
    while pos + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, pos + 8)[0]
        records.append(data[pos : pos + 16 + caplen])
        pos += 16 + caplen
    return data[:24], records


def test_a_real_capture_in_another_order_has_the_same_tables(corpus: Path, tmp_path: Path) -> None:
    # 85 conversations of 46 addresses, runs of one conversation and answers
    source = corpus / "ModbusTCP" / "mb2.pcap"
    header, records = _records(source.read_bytes())
    assert len(records) > 1000
    # dealt out in three hands: neighbours now mostly come from far apart
    dealt = records[0::3] + records[1::3] + records[2::3]
    shuffled = tmp_path / "dealt.pcap"
    shuffled.write_bytes(header + b"".join(dealt))

    original, other = _decode(source), _decode(shuffled)

    assert len(_conversation_packets(original)) > 10
    assert _conversation_packets(other) == _conversation_packets(original)
    for table in ("bindings", "stations"):
        # the same rows by key, whatever order they were first seen in
        a, b = getattr(original, table), getattr(other, table)
        assert np.array_equal(
            np.sort(a, order=list(a.dtype.names)), np.sort(b, order=list(b.dtype.names))
        )
