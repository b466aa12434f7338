"""Modbus request counts per function code: otseam's operations against tshark.

Clean captures agree with tshark's default count exactly. Where they do
not, the difference is one of the documented rules of tests.oracle.modbus
(docs/oracle.md, "Modbus function codes"), and each rule is shown to be
needed on a capture of its own.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.oracle import modbus
from tests.oracle.captures import MODBUS_CAPTURES
from tests.oracle.model import differences
from tests.oracle.session import Oracle

pytestmark = pytest.mark.oracle

ALL = sorted(MODBUS_CAPTURES)
CLEAN = [path for path in ALL if MODBUS_CAPTURES[path] == "clean"]


@pytest.fixture(scope="session")
def oracle(tshark: str, corpus: Path) -> Oracle:
    return Oracle(tshark, corpus)


def otseam_requests(oracle: Oracle, path: str) -> modbus.RequestCounts:
    requests = oracle.stored(path).requests
    return Counter({k[1:]: n for k, n in requests.items() if k[0] == "modbus"})


def segments(oracle: Oracle, path: str) -> tuple[modbus.Segment, ...]:
    return modbus.request_segments(oracle.tshark, oracle.path(path))


@pytest.mark.parametrize("path", CLEAN)
def test_clean_captures_agree_with_tshark(oracle: Oracle, path: str) -> None:
    want = modbus.reassembled(oracle.tshark, oracle.path(path))
    assert want
    assert not differences(otseam_requests(oracle, path), want)


@pytest.mark.parametrize("path", ALL)
def test_every_capture_agrees_with_the_documented_rules(oracle: Oracle, path: str) -> None:
    want = modbus.otseam_counts(segments(oracle, path))
    assert want
    assert not differences(otseam_requests(oracle, path), want)


@pytest.mark.parametrize("path", [p for p in ALL if p not in CLEAN])
def test_unclean_captures_differ_from_tshark_default(oracle: Oracle, path: str) -> None:
    """Pins that these captures really need a rule (else move them to clean)."""
    want = modbus.reassembled(oracle.tshark, oracle.path(path))
    assert otseam_requests(oracle, path) != want


@pytest.mark.parametrize(
    "path", [p for p, kind in MODBUS_CAPTURES.items() if kind == "retransmissions"]
)
def test_retransmitted_requests_count_again(oracle: Oracle, path: str) -> None:
    """otseam has no TCP sequence tracking for aligned segments: a
    retransmitted request is counted again. tshark skips retransmitted data;
    the difference is exactly the PDUs of the frames it flags."""
    retransmitted = modbus.retransmitted_frames(oracle.tshark, oracle.path(path))
    extra = modbus.per_segment(s for s in segments(oracle, path) if s.frame in retransmitted)
    want = modbus.reassembled(oracle.tshark, oracle.path(path)) + extra
    assert extra
    assert not differences(otseam_requests(oracle, path), want)


def test_representative_counts_a_group_by_its_first_segment(oracle: Oracle) -> None:
    """Segments holding several ADUs are grouped by their first ADU only, so a
    later ADU of another segment in the group is counted as the first
    segment's. In ModbusTCP.pcap this moves one Read Coils (1) request to
    Read Input Registers (4)."""
    path = "ModbusTCP/ModbusTCP.pcap"
    found = segments(oracle, path)
    each_alone = modbus.per_segment(found, modbus.within_spec)
    got = otseam_requests(oracle, path)
    assert got != each_alone
    assert sum(got.values()) == sum(each_alone.values())
    assert not differences(got, modbus.otseam_counts(found))


def test_out_of_spec_adu_is_malformed_not_counted(oracle: Oracle) -> None:
    """An MBAP length of 255 (a 254-byte PDU; the maximum is 253) is counted
    by tshark, recorded as malformed by otseam."""
    path = "modicon/modicon_test.pcap"
    found = segments(oracle, path)
    rejected = [s for s in found if s.adus and modbus.within_spec(s) != modbus.all_codes(s)]
    assert [max(length for length, _code in s.adus) for s in rejected] == [255]
    assert not differences(otseam_requests(oracle, path), modbus.per_segment(found, modbus.within_spec))
    malformed = oracle.stored(path).malformed
    assert malformed[("modbus", "bad MBAP header (protocol id 0, length 255)")] >= 1


def test_adu_running_past_its_segment_is_not_counted(oracle: Oracle) -> None:
    """Fuzzed traffic: an ADU whose MBAP length runs past the end of the
    segment; tshark (reassembly off) still reads its function code."""
    path = "bro/modbus/fuzz-72.pcap"
    found = segments(oracle, path)
    cut = [s for s in found if modbus.within_spec(s) != modbus.all_codes(s)]
    assert cut
    assert all(6 + s.adus[0][0] > s.length for s in cut)
    assert not differences(otseam_requests(oracle, path), modbus.otseam_counts(found))
