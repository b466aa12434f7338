"""EtherNet/IP CIP messages: services and paths on built messages, the
sampling key, per-service request counts and identities against tshark,
and robustness."""

from __future__ import annotations

import re
import struct
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
from otseam.protocols import cip, enip
from tests.test_golden_dissectors import dissected

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
IDENTITY_PATH = bytes.fromhex("20012401")
CONNECTION_MANAGER = bytes.fromhex("20062401")


def request(service: int, path: bytes, data: bytes = b"") -> bytes:
    return bytes([service, len(path) // 2]) + path + data


def reply(service: int, data: bytes = b"", status: int = 0) -> bytes:
    return bytes([service | 0x80, 0, status, 0]) + data


def encapsulate(
    command: int, data: bytes, session: int = 0x1234, context: bytes = b"ctx00001"
) -> bytes:
    return struct.pack("<HHII8sI", command, len(data), session, 0, context, 0) + data


def send_rr_data(cip_message: bytes, **kw: object) -> bytes:
    items = struct.pack("<IHH", 0, 10, 2) + struct.pack("<HH", 0, 0)
    items += struct.pack("<HH", 0xB2, len(cip_message)) + cip_message
    return encapsulate(0x6F, items, **kw)  # type: ignore[arg-type]


def send_unit_data(cip_message: bytes, sequence: int = 1, **kw: object) -> bytes:
    items = struct.pack("<IHH", 0, 0, 2) + struct.pack("<HHI", 0xA1, 4, 0x11223344)
    items += struct.pack("<HHH", 0xB1, len(cip_message) + 2, sequence) + cip_message
    return encapsulate(0x70, items, **kw)  # type: ignore[arg-type]


def from_client(message: bytes) -> list[Observation]:
    return list(
        enip.dissect(message, MessageContext("enip", "tcp", CLIENT, SERVER, 40000, 44818, 0))
    )


def from_server(message: bytes) -> list[Observation]:
    return list(
        enip.dissect(message, MessageContext("enip", "tcp", SERVER, CLIENT, 44818, 40000, 0))
    )


def operations(observations: list[Observation]) -> list[tuple[str, str, str, int, str]]:
    return [
        (o.src, o.dst, o.operation, o.code, o.code_name)
        for o in observations
        if isinstance(o, Operation)
    ]


@pytest.mark.parametrize(
    ("service", "path", "operation", "name"),
    [
        (0x06, bytes.fromhex("208e2401"), "plc_start", "Start class 0x8e"),
        (0x07, bytes.fromhex("208e2401"), "plc_stop", "Stop class 0x8e"),
        (0x05, IDENTITY_PATH, "restart", "Reset Identity"),
        (0x10, bytes.fromhex("20f52401"), "config_change", "Set_Attribute_Single TCP/IP Interface"),
        (0x0E, IDENTITY_PATH + b"\x30\x07", "identify", "Get_Attribute_Single Identity"),
        (0x4E, CONNECTION_MANAGER, "disconnect", "Forward_Close Connection Manager"),
        (0x4E, b"\x91\x03abc\x00", "write", "Read_Modify_Write_Tag tag abc"),
        (0x4D, b"\x91\x04tag1", "write", "Write_Tag tag tag1"),
        (0x52, bytes.fromhex("206b2401"), "read", "Read_Tag_Fragmented Symbol"),
        (0x4D, bytes.fromhex("20a12401"), "firmware_update", "unknown-77 class 0xa1"),
        (0x50, bytes.fromhex("20372401"), "file_write", "Download_Transfer File"),
        (0x63, bytes.fromhex("20722401"), "unknown", "unknown-99 class 0x72"),
    ],
)
def test_services_are_named_in_their_object_context(
    service: int, path: bytes, operation: str, name: str
) -> None:
    ops = operations(from_client(send_rr_data(request(service, path))))
    assert ops == [(CLIENT, SERVER, operation, service, name)]


def test_connected_request_and_its_reply_have_the_right_requester() -> None:
    ask = from_client(send_unit_data(request(0x07, bytes.fromhex("208e2401"))))
    assert operations(ask) == [(CLIENT, SERVER, "plc_stop", 7, "Stop class 0x8e")]
    answer = from_server(send_unit_data(reply(0x07, status=0x10)))
    assert operations(answer) == [(CLIENT, SERVER, "unknown", 7, "Stop: Device state conflict")]
    assert ProtocolRole(SERVER, "enip", "server") in answer


def test_unconnected_send_is_unwrapped() -> None:
    embedded = request(0x01, IDENTITY_PATH)
    data = bytes([0x0A, 0x0E]) + struct.pack("<H", len(embedded)) + embedded + b"\x01\x00\x01\x00"
    ops = operations(from_client(send_rr_data(request(0x52, CONNECTION_MANAGER, data))))
    assert ops == [(CLIENT, SERVER, "identify", 1, "Get_Attributes_All Identity")]


def test_every_request_of_a_multiple_service_packet_counts() -> None:
    parts = [
        request(0x4C, b"\x91\x02ab", b"\x01\x00"),
        request(0x4D, b"\x91\x02cd", b"\xc1\x00\x01\x00\x01"),
    ]
    offsets, pos = [], 2 + 2 * len(parts)
    for part in parts:
        offsets.append(pos)
        pos += len(part)
    body = struct.pack(f"<H{len(parts)}H", len(parts), *offsets) + b"".join(parts)
    ops = operations(from_client(send_unit_data(request(0x0A, bytes.fromhex("20022401"), body))))
    assert [(o[2], o[4]) for o in ops] == [
        ("read", "Read_Tag tag ab"),
        ("write", "Write_Tag tag cd"),
    ]


def test_class_1_forward_open_makes_the_originator_the_scanner() -> None:
    # the transport type/trigger byte sits 34 bytes into the request data
    params = b"\x0a\x0e" + bytes(32) + b"\x01" + b"\x02" + bytes.fromhex("20042401")
    obs = from_client(send_rr_data(request(0x54, CONNECTION_MANAGER, params)))
    assert operations(obs) == [
        (CLIENT, SERVER, "connect", 0x54, "Forward_Open Connection Manager class 1")
    ]
    assert ProtocolRole(CLIENT, "cip-io", "client") in obs
    assert ProtocolRole(SERVER, "cip-io", "server") in obs


IDENTITY_REPLY = (
    struct.pack("<HHHBBHI", 1, 14, 54, 16, 20, 0x3060, 0x0051823F) + b"\x141756-L61/B LOGIX5561"
)


def test_identity_reply_is_kept_apart_from_the_address_own_identity() -> None:
    obs = from_server(send_rr_data(reply(0x01, IDENTITY_REPLY + b"\x03")))
    identity = next(o for o in obs if isinstance(o, Identity))
    assert identity.address == SERVER
    assert dict(identity.attributes) == {
        "cip_vendor_id": "1",
        "cip_vendor": "Rockwell Automation/Allen-Bradley",
        "cip_device_type_id": "14",
        "cip_device_type": "Programmable Logic Controller",
        "cip_product_code": "54",
        "cip_firmware": "16.20",
        "cip_serial": "0x0051823f",
        "cip_product": "1756-L61/B LOGIX5561",
    }


def test_get_attributes_all_of_another_class_is_no_identity() -> None:
    obs = from_server(send_rr_data(reply(0x01, bytes(range(40)))))
    assert not [o for o in obs if isinstance(o, Identity)]


def test_two_pdus_in_one_segment_are_both_read() -> None:
    stop = send_rr_data(request(0x07, bytes.fromhex("208e2401")))
    start = send_rr_data(request(0x06, bytes.fromhex("208e2401")))
    assert [o[2] for o in operations(from_client(stop + start))] == ["plc_stop", "plc_start"]


def test_sampling_key_separates_services_and_ignores_counters() -> None:
    spec = enip.PROTOCOL
    start = send_unit_data(request(0x06, bytes.fromhex("208e2401")), sequence=1)
    stop = send_unit_data(request(0x07, bytes.fromhex("208e2401")), sequence=1)
    again = send_unit_data(
        request(0x06, bytes.fromhex("208e2401")), sequence=9, session=7, context=b"other123"
    )
    assert len(start) == len(stop)
    assert _key_bytes(spec, start) != _key_bytes(spec, stop)
    assert _key_bytes(spec, start) == _key_bytes(spec, again)
    embedded = request(0x05, IDENTITY_PATH)
    routed = bytes([0x0A, 0x0E]) + struct.pack("<H", len(embedded)) + embedded
    reset = send_rr_data(request(0x52, CONNECTION_MANAGER, routed + b"\x01\x00\x01\x00"))
    other = send_rr_data(
        request(0x52, CONNECTION_MANAGER, routed.replace(b"\x05", b"\x06", 1) + b"\x01\x00\x01\x00")
    )
    assert _key_bytes(spec, reset) != _key_bytes(spec, other)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_cip_dissector_never_raises(message: bytes) -> None:
    for obs in cip.dissect(message, CLIENT, SERVER):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([0x6F, 0x70]), st.booleans())
def test_enip_with_random_cpf_items_never_raises(items: bytes, command: int, server: bool) -> None:
    message = encapsulate(command, items)
    for obs in (from_server if server else from_client)(message):
        assert isinstance(obs, OBSERVATIONS)


@given(st.integers(0, 200))
def test_truncated_requests_never_raise(cut: int) -> None:
    embedded = request(0x01, IDENTITY_PATH)
    data = bytes([0x0A, 0x0E]) + struct.pack("<H", len(embedded)) + embedded + b"\x01\x00\x01\x00"
    for message in (
        send_rr_data(request(0x52, CONNECTION_MANAGER, data)),
        send_rr_data(reply(1, IDENTITY_REPLY)),
    ):
        for obs in from_client(message[:cut]):
            assert isinstance(obs, OBSERVATIONS)


# tshark reassembles the whole TCP stream; these captures start mid-stream
# or are single replies, where it shows no requests to compare
ORACLE_CAPTURES = [
    "EthernetIP/EthernetIP-CIP.pcap",
    "EthernetIP/cip-multiple-1.pcap",
    "EthernetIP/cip_start_plc.pcap",
    "EthernetIP/cip_stop_plc.pcap",
    "CIP/cip_only.pcap",
    "openics/EIP-FirmwareChange.pcap",
    "openics/EIP-IPAddressChangeAttempt.pcap",
    "openics/EIP-RebootorRestart.pcap",
    "openics/EIP-SoftwareUpload.pcap",
    "openics/EIP-ChangePortConfigurationAttempt.pcap",
]
ENVELOPES = (0x0A, 0x52)


def tshark_request_services(tshark: str, path: Path) -> Counter[int]:
    """cip.sc of every request; Multiple_Service_Packet and Unconnected_Send
    envelopes are left out, as otseam reports what they carry."""
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "cip.rr == 0", "-T", "fields", "-e", "cip.sc"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: Counter[int] = Counter()
    for line in out.split():
        codes = [int(c, 16) for c in line.split(",")]
        found.update(c for i, c in enumerate(codes) if not (c in ENVELOPES and i + 1 < len(codes)))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("capture", ORACLE_CAPTURES)
def test_request_service_counts_match_tshark(capture: str, corpus: Path, tshark: str) -> None:
    commands = {name for name, _ in enip.COMMANDS.values()}
    ours: Counter[int] = Counter()
    for *_, protocol, _op, code, name, exception, count in dissected(corpus / capture)[
        "operations"
    ]:
        encapsulation = name in commands or re.fullmatch(r"unknown-\d+", name)
        if protocol == "enip" and not exception and not encapsulation:
            ours[code] += count
    assert ours == tshark_request_services(tshark, corpus / capture)


@pytest.mark.slow
@pytest.mark.parametrize(
    "capture",
    [
        "EthernetIP/enip_test.pcap",
        "openics/EIP-ChangePortConfigurationAttempt.pcap",
        "openics/EIP-IPAddressChangeAttempt.pcap",
    ],
)
def test_identities_match_tshark(capture: str, corpus: Path, tshark: str) -> None:
    fields = [
        "ip.src",
        "enip.lir.name",
        "cip.id.product_name",
        "enip.lir.serial",
        "cip.id.serial_number",
    ]
    out = subprocess.run(
        [
            tshark,
            "-r",
            str(corpus / capture),
            "-Y",
            "enip.lir.name or cip.id.product_name",
            "-T",
            "fields",
            *(x for f in fields for x in ("-e", f)),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = set()
    for line in out.splitlines():
        ip, lir_name, cip_name, lir_serial, cip_serial = line.split("\t")
        if lir_name:
            expected |= {(ip, "product", lir_name), (ip, "serial", f"0x{int(lir_serial, 16):08x}")}
        if cip_name:
            serial = f"0x{int(cip_serial, 16):08x}"
            expected |= {(ip, "cip_product", cip_name), (ip, "cip_serial", serial)}
    found = {
        (address, attribute, value)
        for address, protocol, attribute, value in dissected(corpus / capture)["identities"]
        if protocol == "enip" and attribute in {"product", "serial", "cip_product", "cip_serial"}
    }
    assert expected
    assert found == expected
