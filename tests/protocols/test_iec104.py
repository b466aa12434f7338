"""IEC 60870-5-104 dissector: APCI formats and ASDUs on built APDUs,
per-type command counts against tshark, and robustness."""

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
from otseam.protocols import iec104
from tests.test_golden_dissectors import dissected

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
STARTDT_ACT = bytes.fromhex("680407000000")
TESTFR_CON = bytes.fromhex("680483000000")
S_FRAME = bytes.fromhex("680401000a00")


def i_frame(type_id: int, cause: int, common_address: int = 3, send: int = 0) -> bytes:
    """An I-format APDU with one information object (address 1, one byte)."""
    asdu = (
        bytes([type_id, 1, cause, 0]) + common_address.to_bytes(2, "little") + b"\x01\x00\x00\x01"
    )
    control = (send << 1).to_bytes(2, "little") + (send << 1).to_bytes(2, "little")
    return bytes([0x68, 4 + len(asdu)]) + control + asdu


def from_client(message: bytes) -> list[Observation]:
    ctx = MessageContext("iec104", "tcp", CLIENT, SERVER, 40000, 2404, 0)
    return list(iec104.dissect(message, ctx))


def from_server(message: bytes) -> list[Observation]:
    ctx = MessageContext("iec104", "tcp", SERVER, CLIENT, 2404, 40000, 0)
    return list(iec104.dissect(message, ctx))


def operations(observations: list[Observation]) -> list[tuple[str, str, str, int, str, bool]]:
    return [
        (o.src, o.dst, o.operation, o.code, o.code_name, o.exception)
        for o in observations
        if isinstance(o, Operation)
    ]


@pytest.mark.parametrize(
    ("type_id", "operation", "name"),
    [
        (45, "control", "C_SC_NA_1"),
        (46, "control", "C_DC_NA_1"),
        (47, "control", "C_RC_NA_1"),
        (48, "write", "C_SE_NA_1"),
        (49, "write", "C_SE_NB_1"),
        (50, "write", "C_SE_NC_1"),
        (51, "write", "C_BO_NA_1"),
        (100, "read", "C_IC_NA_1"),
        (101, "read", "C_CI_NA_1"),
        (103, "set_time", "C_CS_NA_1"),
        (105, "restart", "C_RP_NA_1"),
        (107, "diagnostic", "C_TS_TA_1"),
        (113, "config_change", "P_AC_NA_1"),
    ],
)
def test_activations_are_operations_of_the_controlling_station(
    type_id: int, operation: str, name: str
) -> None:
    observations = from_client(i_frame(type_id, 6))
    assert operations(observations) == [(CLIENT, SERVER, operation, type_id, name, False)]
    assert ProtocolRole(CLIENT, "iec104", "client") in observations
    assert ProtocolRole(SERVER, "iec104", "server") in observations
    assert Identity(SERVER, "iec104", (("common_address", "3"),)) in observations


def test_read_command_with_cause_request() -> None:
    assert operations(from_client(i_frame(102, 5))) == [
        (CLIENT, SERVER, "read", 102, "C_RD_NA_1", False)
    ]


def test_deactivation_is_named() -> None:
    assert operations(from_client(i_frame(100, 8))) == [
        (CLIENT, SERVER, "read", 100, "C_IC_NA_1: deactivation", False)
    ]


def test_confirmations_and_monitored_data_are_no_operations() -> None:
    for message in (i_frame(45, 7), i_frame(45, 10), i_frame(13, 3), i_frame(70, 4)):
        observations = from_server(message)
        assert not operations(observations)
        assert ProtocolRole(SERVER, "iec104", "server") in observations
        assert Identity(SERVER, "iec104", (("common_address", "3"),)) in observations


def test_negative_confirmation_is_an_exception() -> None:
    assert operations(from_server(i_frame(46, 7 | 0x40))) == [
        (CLIENT, SERVER, "control", 46, "C_DC_NA_1: negative activation confirmation", True)
    ]


def test_unknown_type_is_named_and_gives_no_role() -> None:
    assert from_client(i_frame(200, 6)) == []
    assert iec104.TYPES.get(200) is None


def test_file_transfer_direction() -> None:
    assert operations(from_client(i_frame(122, 13))) == [
        (CLIENT, SERVER, "file_read", 122, "F_SC_NA_1", False)
    ]
    assert operations(from_client(i_frame(120, 13))) == [
        (CLIENT, SERVER, "file_write", 120, "F_FR_NA_1", False)
    ]
    assert not operations(from_server(i_frame(120, 13)))


def test_global_common_address_is_no_identity() -> None:
    assert not [o for o in from_client(i_frame(100, 6, 0xFFFF)) if isinstance(o, Identity)]


def test_several_apdus_in_one_segment() -> None:
    message = STARTDT_ACT + i_frame(100, 6) + S_FRAME + i_frame(103, 6, send=1)
    assert [op[3] for op in operations(from_client(message))] == [100, 103]


def test_s_and_u_formats_give_no_observations() -> None:
    assert from_client(STARTDT_ACT + S_FRAME) == []
    assert from_server(TESTFR_CON) == []


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"\x00" + STARTDT_ACT, "no APCI start 0x68 at offset 0"),
        (b"\x68\x02\x00\x00", "APCI length missing or below 4 at offset 0"),
        (i_frame(45, 6)[:-1], "APDU truncated: 15 of 16 bytes"),
        (bytes.fromhex("680600000000 2d01"), "ASDU shorter than its 6-byte header"),
    ],
)
def test_malformed_apdus(message: bytes, reason: str) -> None:
    assert [o.reason for o in from_client(message) if isinstance(o, Malformed)] == [reason]


def test_sequence_numbers_are_outside_the_group_key() -> None:
    first, later = i_frame(45, 6, send=1), i_frame(45, 6, send=300)
    assert first != later
    assert _key_bytes(iec104.PROTOCOL, first) == _key_bytes(iec104.PROTOCOL, later)
    assert _key_bytes(iec104.PROTOCOL, i_frame(45, 6)) != _key_bytes(
        iec104.PROTOCOL, i_frame(45, 7)
    )


def test_framing_gives_the_apdu_length() -> None:
    framing = iec104.PROTOCOL.framing
    assert framing is not None
    assert framing.pdu_length(i_frame(45, 6)) == 16
    assert framing.pdu_length(b"\x00\x04") is None


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_dissector_never_raises_on_random_bytes(message: bytes, client: bool) -> None:
    for obs in (from_client if client else from_server)(message):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=40))
def test_dissector_never_raises_on_any_asdu(type_id: int, cause: int, body: bytes) -> None:
    asdu = bytes([type_id, 1, cause, 0]) + body
    message = bytes([0x68, min(4 + len(asdu), 255)]) + b"\x00\x00\x00\x00" + asdu
    for obs in from_client(message):
        assert isinstance(obs, OBSERVATIONS)


ORACLE_CAPTURES = [
    "IEC60870-5-104/090813_diverse.pcap",
    "IEC60870-5-104/JavaRMI_and_IEC_Misc.pcap",
    "IEC60870-5-104/TestDissectIec104.pcap",
]


def tshark_commands(tshark: str, path: Path) -> Counter[int]:
    """Control-direction type ids (45-113) sent with cause request,
    activation or deactivation, per ASDU tshark dissects."""
    fields = ["-e", "iec60870_asdu.typeid", "-e", "iec60870_asdu.causetx"]
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", *fields],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    found: Counter[int] = Counter()
    for line in out.splitlines():
        types, _, causes = line.partition("\t")
        for type_id, cause in zip(types.split(","), causes.split(","), strict=False):
            if type_id and cause and 45 <= int(type_id) <= 113 and int(cause) & 0x3F in (5, 6, 8):
                found[int(type_id)] += 1
    return found


@pytest.mark.oracle
@pytest.mark.parametrize("capture", ORACLE_CAPTURES)
def test_command_counts_agree_with_tshark(capture: str, corpus: Path, tshark: str) -> None:
    want = tshark_commands(tshark, corpus / capture)
    assert want
    got: Counter[int] = Counter()
    for row in dissected(corpus / capture)["operations"]:
        if row[2] == "iec104" and not row[6]:
            got[row[4]] += row[7]
    assert got == want
