"""Robustness: random and mutated input never crashes the walker or a dissector.

The walker is C: a missed bounds check would be a crash or silent memory
corruption, so it gets random frames of every supported link type, and
corpus frames with random bytes flipped. Dissectors get random and
truncated messages of their own protocol.
"""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otseam.decode.engine import FrameDecoder
from otseam.decode.layout import Counter
from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Operation,
    ProtocolRole,
)
from otseam.protocols import ber, enip, modbus, s7comm
from otseam.sources.linktypes import SUPPORTED

LINKTYPES = sorted(SUPPORTED)
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)


def records(frames: list[bytes]) -> bytes:
    out = bytearray()
    for i, frame in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000 + i, i, len(frame), len(frame)) + frame
    return bytes(out)


def walk(linktype: int, frames: list[bytes]) -> FrameDecoder:
    decoder = FrameDecoder(strict=True)
    data = records(frames)
    consumed, status, _, _ = decoder.walker.walk_pcap(data, False, False, linktype, 65535, 262144)
    decoder.collect(memoryview(data))
    assert (consumed, status) == (len(data), 0)
    return decoder


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LINKTYPES), st.lists(st.binary(max_size=200), max_size=20))
def test_random_frames_of_every_link_type(linktype: int, frames: list[bytes]) -> None:
    decoder = walk(linktype, frames)
    counters = decoder.walker.counters()[0]
    assert counters[Counter.PACKETS] == len(frames)
    assert counters[Counter.BYTES] == sum(len(f) for f in frames)


def _corpus_frames() -> list[bytes]:
    from tests.conftest import CORPUS

    path = CORPUS / "ModbusTCP" / "Modbus" / "modbus_test.pcap"
    if not path.exists():
        return [bytes.fromhex("ffffffffffff0011223344550800") + bytes(40)]
    data = Path(path).read_bytes()[24:]
    frames, pos = [], 0
    while pos + 16 <= len(data) and len(frames) < 64:
        caplen = struct.unpack_from("<I", data, pos + 8)[0]
        frames.append(data[pos + 16 : pos + 16 + caplen])
        pos += 16 + caplen
    return frames


FRAMES = _corpus_frames()


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(range(len(FRAMES))),
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=8),
    st.integers(0, 2000),
)
def test_mutated_corpus_frames(index: int, flips: list[tuple[int, int]], cut: int) -> None:
    frame = bytearray(FRAMES[index])
    for pos, value in flips:
        if frame:
            frame[pos % len(frame)] = value
    walk(1, [bytes(frame[: cut or len(frame)])])


def _ctx(protocol: str, sport: int, dport: int) -> MessageContext:
    return MessageContext(protocol, "tcp", "10.0.0.1", "10.0.0.2", sport, dport, 0)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([(40000, 502), (502, 40000), (1, 2)]))
def test_modbus_dissector_never_raises(message: bytes, ports: tuple[int, int]) -> None:
    for obs in modbus.dissect(message, _ctx("modbus", *ports)):
        assert isinstance(obs, OBSERVATIONS)


MODBUS_IDENTITY = bytes.fromhex(
    "0001 0000 0021 01 2b 0e 01 01 00 00 03 00 06 56 65 6e 64 6f 72 01 04 50 43 30 31"
    " 02 05 56 31 2e 30 30".replace(" ", "")
)


@given(st.integers(0, len(MODBUS_IDENTITY)))
def test_modbus_truncated_identity_reply(cut: int) -> None:
    for obs in modbus.dissect(MODBUS_IDENTITY[:cut], _ctx("modbus", 502, 40000)):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([(40000, 44818), (44818, 40000), (1, 2)]))
def test_enip_dissector_never_raises(message: bytes, ports: tuple[int, int]) -> None:
    for obs in enip.dissect(message, _ctx("enip", *ports)):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=2, max_size=120))
def test_enip_list_identity_with_random_items(items: bytes) -> None:
    header = struct.pack("<HHII8sI", 0x63, len(items), 0, 0, b"\0" * 8, 0)
    for obs in enip.dissect(header + items, _ctx("enip", 44818, 40000)):
        assert isinstance(obs, OBSERVATIONS)


MMS_STARTS = [
    b"\x01\x00\x01\x00\x61",
    b"\x0d",
    b"\x0e",
    b"\x09",
    b"\xa0",
    b"\xa1",
    b"\xa2",
    b"\xa3",
]
MMS_MESSAGES = [
    bytes.fromhex(h)
    for h in (
        "01000100611d301b020103a016a014020100a40f800100a10aa0083006a00480026d75",  # read
        "01000100612f302d020103a028a126020101a2218009494e464f2054454348810d5336"
        "3138353020666f722050438205302e302e31",  # identify response
        "0100010061153013020103a00ea20c800304a273a205a003870102",  # confirmed-Error
        # CONNECT with AARQ and initiate-Request: piccolo.pcap frame 1
        "0db60506130100160102140200023302000134020001c1a031819da003800101a2819581040000000182"
        "0400000001a423300f0201010604520100013004060251013010020103060528ca220201300406025101"
        "61623060020101a05b6059a107060528ca220203a20706052901876701a30302010ca606060429018767"
        "a70302010cbe33283106025101020103a028a826800300ff0081010a82010a830105a416800101810305"
        "f100820c03ee1c000004000000010118",
    )
]


def _cotp_dt(payload: bytes) -> bytes:
    return struct.pack(">BBH", 3, 0, 7 + len(payload)) + b"\x02\xf0\x80" + payload


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(MMS_STARTS),
    st.binary(max_size=300),
    st.sampled_from([(40000, 102), (102, 40000)]),
)
def test_mms_dissector_never_raises(start: bytes, rest: bytes, ports: tuple[int, int]) -> None:
    for obs in s7comm.dissect(_cotp_dt(start + rest), _ctx("s7comm", *ports)):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(range(len(MMS_MESSAGES))),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
    st.integers(0, 400),
)
def test_mms_mutated_messages(index: int, flips: list[tuple[int, int]], cut: int) -> None:
    message = bytearray(MMS_MESSAGES[index])
    for pos, value in flips:
        message[pos % len(message)] = value
    for obs in s7comm.dissect(
        _cotp_dt(bytes(message[: cut or len(message)])), _ctx("s7comm", 40000, 102)
    ):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 80))
def test_ber_elements_stay_inside_their_container(data: bytes, end: int) -> None:
    element = ber.read_element(data, 0, end)
    if element is not None:
        assert 0 < element.tag_end < element.start <= element.end <= end
        assert element.start <= len(data)
