"""otseam's hosts against tshark's: (IP, MAC) bindings and sending MACs.

Expected values come from tshark only: the Ethernet and IP source of every
IP packet and the sender fields of every ARP packet (docs/oracle.md, "Hosts").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oracle import expected
from tests.oracle.captures import CAPTURES, CorpusCapture, by_id
from tests.oracle.session import Oracle

pytestmark = pytest.mark.oracle

CASES = [pytest.param(c, id=c.id) for c in CAPTURES]


@pytest.fixture(scope="session")
def oracle(tshark: str, corpus: Path) -> Oracle:
    return Oracle(tshark, corpus)


@pytest.mark.parametrize("capture", CASES)
def test_bindings_agree(oracle: Oracle, capture: CorpusCapture) -> None:
    want = expected.bindings(oracle.frames(capture.path).frames)
    got = oracle.stored(capture.path).bindings
    assert sorted(got - want) == [], "otseam binds what tshark never shows"
    assert sorted(want - got) == [], "otseam misses bindings tshark shows"
    assert bool(want) is not capture.layer2


@pytest.mark.parametrize("capture", CASES)
def test_stations_agree(oracle: Oracle, capture: CorpusCapture) -> None:
    want = expected.stations(oracle.frames(capture.path).frames)
    got = oracle.stored(capture.path).stations
    assert sorted(got ^ want) == []
    assert want


def test_arp_senders_are_bound(oracle: Oracle) -> None:
    """A capture whose ARP traffic adds bindings no IP packet shows."""
    capture = by_id("profinet")
    frames = oracle.frames(capture.path).frames
    arp_only = expected.arp_senders(frames) - expected.ip_senders(frames)
    assert arp_only
    assert arp_only <= oracle.stored(capture.path).bindings


def test_ipv6_senders_are_bound(oracle: Oracle) -> None:
    capture = by_id("pcapng-ipv6")
    want = {b for b in expected.bindings(oracle.frames(capture.path).frames) if ":" in b[0]}
    assert want
    assert want <= oracle.stored(capture.path).bindings


# --- documented differences (docs/oracle.md, "Hosts") ----------------------


@pytest.mark.parametrize(
    ("capture_id", "sender"),
    [
        ("mms-multicast-mac", ("127.0.0.1", "01:02:03:04:05:06")),
        ("c37118", ("0.0.0.0", "00:0c:29:2e:99:47")),
    ],
)
def test_unbindable_ip_senders_are_not_bound(
    oracle: Oracle, capture_id: str, sender: tuple[str, str]
) -> None:
    """tshark shows a sender that otseam deliberately does not bind: a
    multicast source MAC, or the unspecified address. The MAC is still a
    station."""
    capture = by_id(capture_id)
    frames = oracle.frames(capture.path).frames
    stored = oracle.stored(capture.path)
    assert sender in expected.ip_senders(frames)
    assert not expected.otseam_binds(sender)
    assert sender not in stored.bindings
    assert sender[1] in stored.stations


def test_arp_probe_binds_nothing(oracle: Oracle) -> None:
    """An ARP probe (RFC 5227) claims 0.0.0.0 as its sender address."""
    capture = by_id("enip-arp")
    frames = oracle.frames(capture.path).frames
    stored = oracle.stored(capture.path)
    probes = {b for b in expected.arp_senders(frames) if b[0] == "0.0.0.0"}
    assert probes
    assert not probes & stored.bindings
    assert {mac for _ip, mac in probes} <= stored.stations
