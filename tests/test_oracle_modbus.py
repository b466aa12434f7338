"""Modbus request counts per function code: otseam's operations against tshark.

Clean captures agree with tshark's default count exactly. Where they do
not, the difference is one of the documented rules of tests.oracle.modbus
(docs/oracle.md, "Modbus function codes"), and each rule is shown to be
needed on a capture of its own.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Final

import pytest

from tests.oracle import modbus, scenarios
from tests.oracle.captures import MODBUS_CAPTURES
from tests.oracle.model import differences
from tests.oracle.session import Oracle
from tests.oracle.store import StoredCapture, ingest_capture

pytestmark = pytest.mark.oracle

ALL = sorted(MODBUS_CAPTURES)
CLEAN = [path for path in ALL if MODBUS_CAPTURES[path] == "clean"]

# otseam dissects one message per group of messages alike in length and in
# their first 10 bytes, and counts its operations for every message of the
# group; a segment with several ADUs is grouped by its first ADU alone, so
# its later ADUs take the function codes of the group's first segment
# (docs/oracle.md, "Known errors").
MULTI_ADU_BUG: Final = pytest.mark.xfail(
    strict=True, reason="known error: segments with several ADUs grouped by their first ADU"
)
RULE_CASES = [
    pytest.param(p, marks=MULTI_ADU_BUG) if MODBUS_CAPTURES[p] == "several-adus" else p for p in ALL
]


# Frames of fuzz-72.pcap where otseam's resynchronisation keeps a request
# tshark's reassembly loses (docs/oracle.md, "Modbus function codes").
FUZZ_RESYNC: Final = {"bro/modbus/fuzz-72.pcap": (7, 23)}


@pytest.fixture(scope="session")
def oracle(tshark: str, corpus: Path) -> Oracle:
    return Oracle(tshark, corpus)


def modbus_requests(stored: StoredCapture) -> modbus.RequestCounts:
    return Counter({k[1:]: n for k, n in stored.requests.items() if k[0] == "modbus"})


def otseam_requests(oracle: Oracle, path: str) -> modbus.RequestCounts:
    return modbus_requests(oracle.stored(path))


def segments(oracle: Oracle, path: str) -> tuple[modbus.Segment, ...]:
    return modbus.request_segments(oracle.tshark, oracle.path(path))


def reassembled(oracle: Oracle, path: str) -> tuple[modbus.Pdus, ...]:
    return modbus.reassembled_frames(oracle.tshark, oracle.path(path))


def documented_rules(oracle: Oracle, path: str) -> modbus.RequestCounts:
    """tests.oracle.modbus.otseam_counts, plus the segments of fuzzed streams
    that otseam resynchronises on differently (test_fuzzed_stream_...)."""
    found = segments(oracle, path)
    extra = [s for s in found if s.pdus.frame in FUZZ_RESYNC.get(path, ())]
    return modbus.otseam_counts(found, reassembled(oracle, path)) + modbus.per_segment(extra)


@pytest.mark.parametrize("path", CLEAN)
def test_clean_captures_agree_with_tshark(oracle: Oracle, path: str) -> None:
    want = modbus.reassembled(oracle.tshark, oracle.path(path))
    assert want
    assert not differences(otseam_requests(oracle, path), want)


@pytest.mark.parametrize("path", RULE_CASES)
def test_every_capture_agrees_with_the_documented_rules(oracle: Oracle, path: str) -> None:
    want = documented_rules(oracle, path)
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
def test_retransmitted_aligned_requests_count_again(oracle: Oracle, path: str) -> None:
    """A direction whose segments all hold whole ADUs is read segment by
    segment, without sequence tracking: a retransmitted request counts
    again. tshark skips retransmitted data; the difference is exactly the
    PDUs of the frames it flags."""
    found = segments(oracle, path)
    assert not modbus.stream_starts(found)
    retransmitted = modbus.retransmitted_frames(oracle.tshark, oracle.path(path))
    extra = modbus.per_segment(s for s in found if s.pdus.frame in retransmitted)
    assert extra
    want = modbus.reassembled(oracle.tshark, oracle.path(path)) + extra
    assert not differences(otseam_requests(oracle, path), want)


@MULTI_ADU_BUG
def test_segments_with_several_adus_count_each_adu(tshark: str, tmp_path: Path, db: str) -> None:
    """Two segments, each two ADUs, alike in length and first ADU, unlike in
    the second: every ADU counts under its own function code."""
    capture = scenarios.shared_first_adu(tmp_path / "shared.pcap")
    found = modbus.request_segments(tshark, capture)
    assert [s.aligned for s in found] == [True, True]
    got = modbus_requests(ingest_capture(capture, db))
    assert not differences(got, modbus.reassembled(tshark, capture))


def test_unaligned_direction_is_reassembled(tshark: str, tmp_path: Path, db: str) -> None:
    """From its first segment that is not whole ADUs, a direction is counted
    as tshark reassembles it (retransmitted bytes trimmed), no longer segment
    by segment."""
    capture = scenarios.split_modbus(tmp_path / "split.pcap")
    found = modbus.request_segments(tshark, capture)
    assert list(modbus.stream_starts(found).values()) == [found[1].pdus.frame]
    got = modbus_requests(ingest_capture(capture, db))
    assert got != modbus.per_segment(found, modbus.within_spec)
    want = modbus.otseam_counts(found, modbus.reassembled_frames(tshark, capture))
    assert not differences(got, want)
    assert not differences(got, modbus.reassembled(tshark, capture))


def test_out_of_spec_adu_is_malformed_not_counted(oracle: Oracle) -> None:
    """An MBAP length of 255 (a 254-byte PDU; the most is 253) is counted by
    tshark; otseam records the bytes as malformed instead."""
    path = "modicon/modicon_test.pcap"
    out_of_spec = [
        p for p in reassembled(oracle, path) if modbus.within_spec(p) != modbus.all_codes(p)
    ]
    assert [[length for length, _code in p.adus] for p in out_of_spec] == [[255]]
    want = modbus.reassembled(oracle.tshark, oracle.path(path)) - modbus.count(out_of_spec)
    assert not differences(otseam_requests(oracle, path), want)
    malformed = oracle.stored(path).malformed
    assert sum(n for (protocol, _reason), n in malformed.items() if protocol == "modbus") >= 1


def test_fuzzed_stream_resynchronises_differently(oracle: Oracle) -> None:
    """fuzz-72.pcap: frame 7 holds one whole ADU, but the 2 bytes left over
    from frame 6 come before it; tshark glues them on and loses the ADU,
    otseam drops them as junk. Frame 23 fills a sequence gap that no captured
    segment covered; tshark calls it a retransmission, otseam reads it."""
    path = "bro/modbus/fuzz-72.pcap"
    frame_7, frame_23 = (s for s in segments(oracle, path) if s.pdus.frame in (7, 23))
    assert frame_7.aligned
    assert 7 not in {p.frame for p in reassembled(oracle, path)}
    assert 23 in modbus.retransmitted_frames(oracle.tshark, oracle.path(path))
    rules_only = modbus.otseam_counts(segments(oracle, path), reassembled(oracle, path))
    got = otseam_requests(oracle, path)
    assert got != rules_only
    assert not differences(got, rules_only + modbus.per_segment([frame_7, frame_23]))
