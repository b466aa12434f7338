"""DNP3 dissector: link, transport and application layers on built frames,
per-function request counts against tshark, and robustness."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otseam.decode.engine import _key_bytes
from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols import dnp3
from otseam.protocols.dnp3_objects import crc, function
from tests.test_golden_dissectors import dissected

MASTER, OUTSTATION = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)


def frame(user: bytes, control: int = 0xC4, destination: int = 10, source: int = 1) -> bytes:
    """A link frame around ``user`` data, CRCs included (clause 9.2)."""
    head = b"\x05\x64" + bytes([len(user) + 5, control])
    head += destination.to_bytes(2, "little") + source.to_bytes(2, "little")
    out = bytearray(head + crc(head).to_bytes(2, "little"))
    for pos in range(0, len(user), 16):
        block = user[pos : pos + 16]
        out += block + crc(block).to_bytes(2, "little")
    return bytes(out)


def request(code: int, objects: bytes = b"", seq: int = 0) -> bytes:
    """A single-frame request from master 1 to outstation 10."""
    return frame(bytes([0xC0 | seq, 0xC0 | (seq & 0x0F), code]) + objects)


def response(objects: bytes, code: int = 129) -> bytes:
    user = bytes([0xC0, 0xC0, code, 0x00, 0x00]) + objects
    return frame(user, control=0x44, destination=1, source=10)


def from_master(message: bytes) -> list[Observation]:
    ctx = MessageContext("dnp3", "tcp", MASTER, OUTSTATION, 40000, 20000, 0)
    return list(dnp3.dissect(message, ctx))


def from_outstation(message: bytes) -> list[Observation]:
    ctx = MessageContext("dnp3", "tcp", OUTSTATION, MASTER, 20000, 40000, 0)
    return list(dnp3.dissect(message, ctx))


def operations(observations: list[Observation]) -> list[tuple[str, str, str, int, str]]:
    return [
        (o.src, o.dst, o.operation, o.code, o.code_name)
        for o in observations
        if isinstance(o, Operation)
    ]


def test_crc_matches_a_frame_from_the_corpus_header() -> None:
    # the Read request of dnp3/read_and_response.pcap: header, then one block
    wire = bytes.fromhex("056414c40a0001008fedc0c0013c02063c03063c04063c01068a51")
    assert crc(wire[:8]).to_bytes(2, "little") == wire[8:10]
    assert crc(wire[10:25]).to_bytes(2, "little") == wire[25:27]
    assert frame(wire[10:25], destination=10, source=1) == wire


@pytest.mark.parametrize(
    ("code", "operation", "name"),
    [
        (3, "control", "Select"),
        (4, "control", "Operate"),
        (5, "control", "Direct Operate"),
        (6, "control", "Direct Operate No Ack"),
        (13, "restart", "Cold Restart"),
        (14, "restart", "Warm Restart"),
        (17, "plc_start", "Start Application"),
        (18, "plc_stop", "Stop Application"),
        (20, "comm_control", "Enable Unsolicited"),
        (21, "comm_control", "Disable Unsolicited"),
        (24, "set_time", "Record Current Time"),
        (27, "file_write", "Delete File"),
        (32, "auth", "Authentication Request"),
        (99, "unknown", "unknown-99"),
    ],
)
def test_request_function_codes_name_the_operation(code: int, operation: str, name: str) -> None:
    found = operations(from_master(request(code)))
    assert found == [(MASTER, OUTSTATION, operation, code, name)]


@pytest.mark.parametrize(
    ("code", "objects", "operation", "name"),
    [
        (2, b"\x32\x01\x07\x01", "set_time", "Write: Time and Date"),
        (2, b"\x50\x01\x00\x07\x07\x00", "write", "Write"),
        (2, b"\x46\x05\x5b\x01", "file_write", "Write: File Transport"),
        (1, b"\x46\x05\x06", "file_read", "Read: File Transport"),
        (1, b"\x00\xfe\x00\x00\x00", "identify", "Read: Device Attributes"),
        (1, b"\x3c\x02\x06", "read", "Read"),
    ],
)
def test_first_object_header_refines_read_and_write(
    code: int, objects: bytes, operation: str, name: str
) -> None:
    assert function(code, objects) == (name, operation)


def test_master_is_client_and_addresses_are_identities() -> None:
    observations = from_master(request(1, b"\x3c\x02\x06"))
    assert ProtocolRole(MASTER, "dnp3", "client") in observations
    assert ProtocolRole(OUTSTATION, "dnp3", "server") in observations
    assert Identity(MASTER, "dnp3", (("dnp3_address", "1"),)) in observations
    assert Identity(OUTSTATION, "dnp3", (("dnp3_address", "10"),)) in observations


def test_dir_bit_not_port_decides_the_roles() -> None:
    # an outstation that opened the connection to the master's port 20000
    ctx = MessageContext("dnp3", "tcp", OUTSTATION, MASTER, 40000, 20000, 0)
    observations = list(dnp3.dissect(response(b""), ctx))
    assert ProtocolRole(OUTSTATION, "dnp3", "server") in observations
    assert ProtocolRole(MASTER, "dnp3", "client") in observations
    assert not operations(observations)


def test_broadcast_destination_is_no_identity() -> None:
    observations = from_master(frame(b"\xc0\xc0\x15", destination=0xFFFF))
    assert Identity(OUTSTATION, "dnp3", (("dnp3_address", "65535"),)) not in observations
    assert operations(observations) == [
        (MASTER, OUTSTATION, "comm_control", 21, "Disable Unsolicited")
    ]


def attribute(variation: int, text: bytes) -> bytes:
    return bytes([0, variation, 0x00, 0, 0, 1, len(text)]) + text


def test_device_attributes_in_a_response_are_the_identity() -> None:
    objects = (
        attribute(252, b"Acme Relays")
        + attribute(250, b"RTU-5000")
        + attribute(242, b"2.3.1")
        + attribute(248, b"SN-001")
    )
    observations = from_outstation(response(objects))
    assert (
        Identity(
            OUTSTATION,
            "dnp3",
            (
                ("vendor", "Acme Relays"),
                ("product", "RTU-5000"),
                ("firmware", "2.3.1"),
                ("serial", "SN-001"),
            ),
        )
        in observations
    )


def test_fragment_over_several_frames_of_one_segment() -> None:
    objects = attribute(252, b"A vendor name long enough for two frames " * 6)
    user = bytes([0xC0, 129, 0, 0]) + objects
    first, second = user[:200], user[200:]
    message = frame(bytes([0x40]) + first, 0x44, 1, 10) + frame(bytes([0x81]) + second, 0x44, 1, 10)
    identities = [
        o
        for o in from_outstation(message)
        if isinstance(o, Identity) and o.attributes[0][0] == "vendor"
    ]
    assert identities and identities[0].attributes[0][1].startswith("A vendor name")


def test_bad_header_crc_is_malformed_and_the_next_frame_still_read() -> None:
    bad = bytearray(request(13))
    bad[8] ^= 0xFF
    observations = from_master(bytes(bad) + request(14))
    assert [o.reason for o in observations if isinstance(o, Malformed)] == [
        "link header CRC mismatch at offset 0"
    ]
    assert [op[3] for op in operations(observations)] == [14]


def test_bad_block_crc_is_malformed() -> None:
    bad = bytearray(request(13))
    bad[-1] ^= 0xFF
    reasons = [o.reason for o in from_master(bytes(bad)) if isinstance(o, Malformed)]
    assert reasons == ["link frame user data CRC mismatch in block 1"]


def test_segment_starting_mid_frame_is_malformed_then_resynchronised() -> None:
    observations = from_master(b"\x01\x02\x03" + request(5))
    reasons = [o.reason for o in observations if isinstance(o, Malformed)]
    assert len(reasons) == 1 and reasons[0].startswith("3 bytes at offset 0 start no link frame")
    assert [op[3] for op in operations(observations)] == [5]


def test_sequence_numbers_are_outside_the_group_key() -> None:
    poll = b"\x3c\x02\x06\x3c\x03\x06"
    first, later = request(1, poll, seq=1), request(1, poll, seq=9)
    assert first != later
    assert _key_bytes(dnp3.PROTOCOL, first) == _key_bytes(dnp3.PROTOCOL, later)
    assert _key_bytes(dnp3.PROTOCOL, request(3)) != _key_bytes(dnp3.PROTOCOL, request(4))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400), st.booleans())
def test_dissector_never_raises_on_random_bytes(message: bytes, master: bool) -> None:
    for obs in (from_master if master else from_outstation)(message):
        assert isinstance(obs, OBSERVATIONS)


VALID = request(1, b"\x3c\x02\x06") + response(attribute(252, b"Vendor") + attribute(250, b"X"))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, len(VALID)),
    st.lists(st.tuples(st.integers(0, 500), st.integers(0, 255)), max_size=4),
)
def test_dissector_never_raises_on_cut_or_damaged_frames(
    cut: int, flips: list[tuple[int, int]]
) -> None:
    message = bytearray(VALID[:cut])
    for pos, value in flips:
        if message:
            message[pos % len(message)] = value
    for obs in from_outstation(bytes(message)):
        assert isinstance(obs, OBSERVATIONS)


ORACLE_CAPTURES = [
    "bro/dnp3/dnp3.pcap",
    "dnp3/dnp3_test_data_part1.pcap",
    "dnp3/file_read.pcap",
    "dnp3/write_vto_empty_string.pcap",
    "openics/DNP3-Malformed.pcap",
    "openics/DNP3-SelectOperate.pcap",
]


def tshark_requests(tshark: str, path: Path) -> Counter[int]:
    """Function codes below 128 (requests and confirms) of every application
    fragment tshark reassembles."""
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", "-e", "dnp3.al.func"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    codes = [int(v) for line in out.split() for v in line.split(",") if v]
    return Counter(c for c in codes if c < 128)


@pytest.mark.oracle
@pytest.mark.parametrize("capture", ORACLE_CAPTURES)
def test_request_counts_agree_with_tshark(capture: str, corpus: Path, tshark: str) -> None:
    want = tshark_requests(tshark, corpus / capture)
    assert want
    got: Counter[int] = Counter()
    for row in dissected(corpus / capture)["operations"]:
        if row[2] == "dnp3" and not row[6]:
            got[row[4]] += row[7]
    assert got == want


@pytest.mark.oracle
def test_signature_finds_dnp3_on_another_port_where_tshark_does_not(
    corpus: Path, tshark: str
) -> None:
    capture = corpus / "bro/dnp3/dnp3_read_p20001.pcap"
    assert not tshark_requests(tshark, capture)
    found = [r for r in dissected(capture)["operations"] if r[2] == "dnp3"]
    assert [(r[3], r[4]) for r in found] == [("read", 1)]
