"""The principled differences between otseam and tshark, each pinned.

docs/oracle.md explains each one. Most need traffic the corpus lacks (no
corpus capture reuses a TCP port pair or fragments IP), so they run on small
captures built by tests.oracle.scenarios; tshark is still the oracle.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oracle import expected, scenarios
from tests.oracle.model import ConversationKey, Endpoint, differences
from tests.oracle.pcapfile import scan_records
from tests.oracle.session import Oracle
from tests.oracle.store import ingest_capture, ip_pairs
from tests.oracle.tables import merged, otseam_shown, tshark_shown
from tests.oracle.tshark import read_conversations, read_frames

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="session")
def oracle(tshark: str, corpus: Path) -> Oracle:
    return Oracle(tshark, corpus)


def key(transport: str, a: tuple[str, int], b: tuple[str, int]) -> ConversationKey:
    return ConversationKey(transport, Endpoint(*a), Endpoint(*b))


def test_reused_port_pair_is_one_conversation(tshark: str, tmp_path: Path, db: str) -> None:
    """tshark starts a new TCP conversation (tcp.stream) when a SYN reuses a
    closed port pair; otseam keeps one conversation per 5-tuple per capture."""
    capture = scenarios.reused_port_pair(tmp_path / "reused.pcap")
    stored = ingest_capture(capture, db)
    pair = key("tcp", ("192.0.2.1", 40000), ("192.0.2.2", 502))
    streams = tshark_shown(read_conversations(tshark, capture).tcp, "tcp")[pair]
    assert len(streams) == 2
    assert otseam_shown(stored.conversations, "tcp")[pair] == merged({pair: streams})[pair]
    frames = read_frames(tshark, capture).frames
    assert not differences(stored.conversations, expected.conversations(frames))


@pytest.mark.parametrize(
    ("relative", "pair"),
    [
        ("hart/hart_ip.pcap", (("192.168.0.10", 5095), ("192.168.0.101", 49905))),
        (
            "IEC61850/Sample_File_MMS_and_GOOSE.pcap",
            (("172.16.0.101", 1076), ("172.16.201.0", 161)),
        ),
    ],
    ids=["hart-ip", "snmp"],
)
def test_udp_port_pair_tshark_splits_is_one_conversation(
    oracle: Oracle, relative: str, pair: tuple[tuple[str, int], tuple[str, int]]
) -> None:
    """tshark's UDP conversations follow its dissectors' conversation
    tracking: HART-IP and SNMP replies open conversations of their own
    (udp.stream), so one 5-tuple is listed twice. otseam keeps one."""
    conversation = key("udp", *pair)
    rows = tshark_shown(oracle.tables(relative).udp, "udp")[conversation]
    assert len(rows) == 2
    stored = oracle.stored(relative).conversations
    assert otseam_shown(stored, "udp")[conversation] == merged({conversation: rows})[conversation]


def test_udp_conversation_does_not_time_out(tshark: str, tmp_path: Path, db: str) -> None:
    """Neither side splits a UDP port pair by idle time: one conversation
    across a day of silence."""
    capture = scenarios.quiet_udp(tmp_path / "quiet.pcap")
    stored = ingest_capture(capture, db)
    shown = tshark_shown(read_conversations(tshark, capture).udp, "udp")
    assert [len(rows) for rows in shown.values()] == [1]
    assert not differences(otseam_shown(stored.conversations, "udp"), merged(shown))
    assert [t.packets for t in stored.conversations.values()] == [6]


def test_fragments_count_with_first_fragment_ports(tshark: str, tmp_path: Path, db: str) -> None:
    """otseam counts every IP fragment as a packet of its datagram's
    conversation (ports from the first fragment, port 0 while the first has
    not been seen); tshark reassembles and counts the datagram once, in the
    frame that completes it."""
    capture = scenarios.fragments(tmp_path / "fragments.pcap")
    stored = ingest_capture(capture, db)
    frames = read_frames(tshark, capture).frames
    assert not differences(stored.conversations, expected.conversations(frames))
    v4 = key("udp", ("198.51.100.1", 5000), ("198.51.100.2", 6000))
    v6 = key("udp", ("2001:db8::1", 5000), ("2001:db8::2", 6000))
    early = key("udp", ("198.51.100.1", 0), ("198.51.100.2", 0))
    packets = {k: t.packets for k, t in stored.conversations.items()}
    assert packets == {v4: 3 + 2, early: 1, v6: 3}
    reassembled = tshark_shown(read_conversations(tshark, capture).udp, "udp")
    assert [rows[0][0] for rows in (reassembled[v4], reassembled[v6])] == [2, 1]


def test_fragments_are_ip_packets(tshark: str, tmp_path: Path, db: str) -> None:
    """Per IP pair, otseam counts every fragment. So does tshark's conv,ip
    for IPv4; its conv,ipv6 counts a reassembled datagram once."""
    capture = scenarios.fragments(tmp_path / "fragments.pcap")
    stored = ingest_capture(capture, db)
    ours = ip_pairs(stored.conversations)
    assert not differences(ours, expected.ip_pairs(read_frames(tshark, capture).frames))
    tables = read_conversations(tshark, capture)
    v4 = key("ip", ("198.51.100.1", 0), ("198.51.100.2", 0))
    v6 = key("ip", ("2001:db8::1", 0), ("2001:db8::2", 0))
    assert merged(tshark_shown(tables.ip, "ip"))[v4] == otseam_shown(ours, "ip")[v4]
    assert tshark_shown(tables.ipv6, "ip")[v6][0][0] == 1
    assert ours[v6].packets == 3


def test_bytes_are_wire_lengths(tshark: str, tmp_path: Path, db: str) -> None:
    """Both count frame.len, the length on the wire: Ethernet padding
    included, and the whole frame when the capture kept only its start."""
    capture = scenarios.wire_lengths(tmp_path / "lengths.pcap")
    stored = ingest_capture(capture, db)
    frames = read_frames(tshark, capture).frames
    assert [f.length for f in frames] == [60, 1000]
    assert not differences(stored.conversations, expected.conversations(frames))
    assert sorted(t.size for t in stored.conversations.values()) == [60, 1000]


def test_truncated_last_record_is_dropped_by_both(oracle: Oracle) -> None:
    """melsoft_129_clean.pcap ends inside a record: both read the complete
    records only and say so."""
    relative = "MELSEC/melsoft_129_clean.pcap"
    records = scan_records(oracle.path(relative))
    assert records.trailing > 0
    dump = oracle.frames(relative)
    assert "cut short in the middle of a packet" in dump.stderr
    stored = oracle.stored(relative)
    assert len(dump.frames) == records.complete == stored.packets
    assert any("last record is truncated" in p for p in stored.problems)
