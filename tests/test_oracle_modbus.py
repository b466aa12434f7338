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

# Captures with request segments tshark flags as retransmissions, and the
# flagged frames that also carry new data behind the resent bytes.
RETRANSMISSIONS: Final = {
    "ModbusTCP/mb2.pcap": (1131,),
    "ModbusTCP/Modbus/modbus_test_2.pcap": (),
}

# Frames of fuzz-72.pcap where otseam's resynchronisation keeps a request
# tshark's reassembly loses (docs/oracle.md, "Modbus function codes").
FUZZ_RESYNC: Final = {"bro/modbus/fuzz-72.pcap": (7,)}


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


def frame(found: tuple[modbus.Segment, ...], number: int) -> modbus.Segment:
    return next(s for s in found if s.pdus.frame == number)


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


@pytest.mark.parametrize("path", ALL)
def test_every_capture_agrees_with_the_documented_rules(oracle: Oracle, path: str) -> None:
    want = documented_rules(oracle, path)
    assert want
    assert not differences(otseam_requests(oracle, path), want)


@pytest.mark.parametrize("path", [p for p in ALL if p not in CLEAN])
def test_unclean_captures_differ_from_tshark_default(oracle: Oracle, path: str) -> None:
    """Pins that these captures really need a rule (else move them to clean)."""
    want = modbus.reassembled(oracle.tshark, oracle.path(path))
    assert otseam_requests(oracle, path) != want


@pytest.mark.parametrize("path", sorted(RETRANSMISSIONS))
def test_retransmitted_requests_are_not_counted(oracle: Oracle, path: str) -> None:
    """A request segment that ends at or below what its direction already
    sent is not counted again. The segments otseam drops are exactly those
    tshark flags as retransmissions, except those topped up with new data,
    which count their new ADUs (test_resent_requests_with_new_data_...)."""
    found = segments(oracle, path)
    assert not modbus.stream_starts(found)
    flagged = modbus.retransmitted_frames(oracle.tshark, oracle.path(path))
    assert modbus.per_segment(s for s in found if s.pdus.frame in flagged)
    kept = modbus.sent_once(found)
    topped_up = [s for s in kept if s.pdus.frame in flagged]
    assert tuple(s.pdus.frame for s in topped_up) == RETRANSMISSIONS[path]
    fresh = [s for s in found if s.pdus.frame not in flagged]
    assert [s.pdus.frame for s in kept if s not in topped_up] == [s.pdus.frame for s in fresh]
    want = modbus.per_segment(fresh) + modbus.per_segment(topped_up)
    assert not differences(otseam_requests(oracle, path), want)


def test_retransmission_topped_up_with_new_data(tshark: str, tmp_path: Path, db: str) -> None:
    """A request resent with a new ADU behind it: tshark flags the segment
    a retransmission and dissects none of it, losing the new ADU; otseam
    counts the new ADU once, and not the resent one."""
    capture = scenarios.resent_with_new_data(tmp_path / "resent.pcap")
    found = modbus.request_segments(tshark, capture)
    assert [s.aligned for s in found] == [True, True, True, True]
    assert modbus.retransmitted_frames(tshark, capture) == {2, 3}
    kept = modbus.sent_once(found)
    read = [(s.pdus.frame, modbus.all_codes(s.pdus)) for s in kept]
    assert read == [(1, [3]), (2, [1]), (4, [2])]
    got = modbus_requests(ingest_capture(capture, db))
    tshark_count = modbus.reassembled(tshark, capture)
    assert got != tshark_count
    assert not differences(got, tshark_count + modbus.per_segment([kept[1]]))


def test_resent_requests_with_new_data_were_answered(oracle: Oracle) -> None:
    """mb2.pcap frame 1131 resends Read Input Registers request 22505
    (frame 1014) with four more behind it, 22506 to 22509. tshark counts none
    of the four, yet finds the server's answers to all of them: otseam counts
    each once."""
    path = "ModbusTCP/mb2.pcap"
    found = segments(oracle, path)
    new = frame(modbus.sent_once(found), 1131)
    assert frame(found, 1014).pdus.transactions == (22505,)
    assert frame(found, 1131).pdus.transactions == (22505, *new.pdus.transactions)
    assert new.pdus.transactions == (22506, 22507, 22508, 22509)
    counted = {t for p in reassembled(oracle, path) for t in p.transactions}
    answered = modbus.answered(oracle.tshark, oracle.path(path))
    for transaction in new.pdus.transactions:
        assert transaction not in counted
        assert (new.pdus.client, new.pdus.server, transaction) in answered
    want = modbus.reassembled(oracle.tshark, oracle.path(path)) + modbus.per_segment([new])
    assert not differences(otseam_requests(oracle, path), want)


def test_segments_with_several_adus_count_each_adu(tshark: str, tmp_path: Path, db: str) -> None:
    """Two segments, each two ADUs, alike in length and first ADU, unlike in
    the second: every ADU counts under its own function code."""
    capture = scenarios.shared_first_adu(tmp_path / "shared.pcap")
    found = modbus.request_segments(tshark, capture)
    assert [s.aligned for s in found] == [True, True]
    assert [modbus.all_codes(s.pdus) for s in found] == [[3, 1], [3, 2]]
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
    otseam drops them as junk."""
    path = "bro/modbus/fuzz-72.pcap"
    frame_7 = frame(segments(oracle, path), 7)
    assert frame_7.aligned
    assert 7 not in {p.frame for p in reassembled(oracle, path)}
    rules_only = modbus.otseam_counts(segments(oracle, path), reassembled(oracle, path))
    got = otseam_requests(oracle, path)
    assert got != rules_only
    assert not differences(got, rules_only + modbus.per_segment([frame_7]))


def test_late_segment_filling_a_gap_is_not_read(oracle: Oracle) -> None:
    """Known error, shared with tshark: fuzz-72.pcap frame 23 (function 53,
    the only one) fills a sequence gap no earlier segment covered, after
    later data; both take it for a retransmission and count nothing."""
    path = "bro/modbus/fuzz-72.pcap"
    found = segments(oracle, path)
    frame_23 = frame(found, 23)
    before = [s for s in found if s.pdus.frame < 23]
    assert not [s for s in before if s.seq < frame_23.end and frame_23.seq < s.end]
    assert max(s.end for s in before) > frame_23.end
    assert 23 in modbus.retransmitted_frames(oracle.tshark, oracle.path(path))
    assert 23 not in {s.pdus.frame for s in modbus.sent_once(found)}
    key = (frame_23.pdus.client, frame_23.pdus.server, 53)
    assert modbus.per_segment(found)[key] == 1
    assert otseam_requests(oracle, path)[key] == 0
