"""TCP reassembly: in order, split, reordered, retransmitted, lost, damaged."""

from __future__ import annotations

from otseam.decode.reassembly import Framing, TcpStream

# TPKT-like framing: magic 0x03, 2-byte big-endian total length at offset 2.
TPKT = Framing(len_offset=2, len_size=2, magic=0x03, max_length=1000)


def pdu(n: int, fill: int) -> bytes:
    return bytes([3, 0]) + n.to_bytes(2, "big") + bytes([fill]) * (n - 4)


A, B, C = pdu(10, 0xAA), pdu(20, 0xBB), pdu(8, 0xCC)


def test_whole_pdus_in_order() -> None:
    stream = TcpStream(TPKT)
    assert stream.add(1000, A + B) == [A, B]
    assert stream.add(1030, C) == [C]


def test_pdu_split_over_segments() -> None:
    stream = TcpStream(TPKT)
    assert stream.add(1000, A + B[:5]) == [A]
    assert stream.add(1015, B[5:12]) == []
    assert stream.add(1022, B[12:] + C) == [B, C]


def test_out_of_order_segments_are_held() -> None:
    stream = TcpStream(TPKT)
    assert stream.add(1000, B[:6]) == []
    assert stream.add(1010, B[10:]) == []  # ahead of the missing 4 bytes: held
    assert stream.add(1006, B[6:10]) == [B]


def test_retransmission_and_overlap() -> None:
    stream = TcpStream(TPKT)
    assert stream.add(1000, A) == [A]
    assert stream.add(1000, A) == []  # exact retransmission: dropped
    assert stream.add(1005, A[5:] + B) == [B]  # overlap: only the new bytes count
    assert stream.lost == stream.skipped == 0


def test_lost_segment_does_not_stall_the_stream() -> None:
    stream = TcpStream(TPKT)
    assert stream.add(1000, A) == [A]
    assert stream.add(1030, C) == [C]  # B (1010-1029) never captured
    assert stream.lost == 20
    assert stream.add(1010, B) == [B]  # it came late after all: still read


def test_junk_is_skipped_and_counted() -> None:
    stream = TcpStream(TPKT)
    assert stream.add(1000, b"\x99\x98" + A) == [A]
    assert stream.skipped == 2


def test_leftover_junk_before_whole_pdus() -> None:
    stream = TcpStream(TPKT)
    assert stream.add(1000, A + b"\x03\x00\x00\x40") == [A]  # claims 64 bytes
    assert stream.add(1014, B) == [B]
    assert stream.skipped == 4


def test_sequence_wraparound() -> None:
    stream = TcpStream(TPKT)
    start = (1 << 32) - 5
    assert stream.add(start, A[:5]) == []
    assert stream.add(0, A[5:]) == [A]
