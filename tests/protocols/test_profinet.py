"""PROFINET: DCP blocks and CM RPC operations on built frames, DCP fields
against tshark, and robustness."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols import profinet
from tests.test_golden_dissectors import dissected

STATION, TOOL = "00:1b:1b:00:00:01", "00:0c:29:00:00:02"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)


def block(option: int, suboption: int, value: bytes, info: bool = True) -> bytes:
    body = (b"\x00\x00" if info else b"") + value
    return struct.pack(">BBH", option, suboption, len(body)) + body + b"\x00" * (len(body) & 1)


def dcp(frame_id: int, service: int, service_type: int, blocks: bytes, xid: int = 1) -> bytes:
    return struct.pack(">HBBIHH", frame_id, service, service_type, xid, 0, len(blocks)) + blocks


def l2(message: bytes, sender: str) -> list[Observation]:
    return list(profinet.dissect(message, MessageContext("profinet", "l2", sender, "", 0, 0, 0)))


IDENTIFY_RESPONSE = dcp(
    0xFEFF,
    5,
    1,
    block(2, 1, b"S7-300")
    + block(2, 2, b"plc-1")
    + block(2, 3, b"\x00\x2a\x01\x01")
    + block(2, 4, b"\x02\x00")
    + block(1, 2, bytes([192, 168, 0, 11, 255, 255, 255, 0, 192, 168, 0, 1])),
)


def test_identify_response_is_the_responder_identity() -> None:
    obs = l2(IDENTIFY_RESPONSE, STATION)
    identity = next(o for o in obs if isinstance(o, Identity))
    assert identity.address == STATION
    assert dict(identity.attributes) == {
        "product": "S7-300",
        "name": "plc-1",
        "vendor_id": "42",
        "vendor": "Siemens",
        "product_code": "0x0101",
        "device_type_id": "2",
        "device_type": "IO-Controller",
        "ip_address": "192.168.0.11",
        "netmask": "255.255.255.0",
        "gateway": "192.168.0.1",
    }
    assert ProtocolRole(STATION, "profinet", "server") in obs


def test_identify_request_makes_the_sender_a_client_only() -> None:
    obs = l2(dcp(0xFEFE, 5, 0, block(2, 2, b"plc-1", info=False)), TOOL)
    assert obs == [ProtocolRole(TOOL, "profinet", "client")]


@pytest.mark.parametrize(
    ("blocks", "operation", "name"),
    [
        (
            block(2, 2, b"new-name") + block(5, 2, b"\x00\x01"),
            "config_change",
            "Set NameOfStation 'new-name'",
        ),
        (
            block(1, 2, bytes([10, 0, 0, 5, 255, 0, 0, 0, 10, 0, 0, 1])),
            "config_change",
            "Set IP parameter 10.0.0.5/255.0.0.0 gateway 10.0.0.1",
        ),
        (block(5, 3, b"\x01\x00"), "flash_led", "Set Signal"),
        (block(5, 6, b""), "memory_reset", "Set Reset to factory"),
    ],
)
def test_set_request_names_what_it_changes(blocks: bytes, operation: str, name: str) -> None:
    obs = l2(dcp(0xFEFD, 4, 0, blocks), TOOL)
    assert [(o.src, o.operation, o.code, o.code_name) for o in obs if isinstance(o, Operation)] == [
        (TOOL, operation, 4, name)
    ]


def test_cyclic_frames_are_not_decoded() -> None:
    assert l2(b"\x80\x00" + bytes(40), STATION) == []


def rpc(opnum: int, body: bytes, ptype: int = 0) -> bytes:
    header = bytearray(80)
    header[0], header[1], header[4] = 4, ptype, 0x10
    struct.pack_into("<I", header, 24, 0xDEA00001)
    struct.pack_into("<H", header, 68, opnum)
    return bytes(header) + body


def ar_block(station: bytes) -> bytes:
    fields = struct.pack(
        ">H16sH6s16sIHHH", 6, bytes(16), 1, bytes(6), bytes(16), 0, 100, 0x8892, len(station)
    )
    content = b"\x01\x00" + fields + station
    return struct.pack(">HH", 0x0101, len(content)) + content


def udp(message: bytes, src: str, dst: str, sport: int, dport: int) -> list[Observation]:
    return list(
        profinet.dissect(message, MessageContext("profinet", "udp", src, dst, sport, dport, 0))
    )


def test_connect_names_the_initiating_controller() -> None:
    obs = udp(rpc(0, bytes(20) + ar_block(b"controller-1")), "10.0.0.1", "10.0.0.2", 49152, 34964)
    assert Operation("10.0.0.1", "10.0.0.2", "profinet", "connect", 0, "Device Connect") in obs
    assert Identity("10.0.0.1", "profinet", (("name", "controller-1"),)) in obs
    assert ProtocolRole("10.0.0.2", "profinet", "server") in obs


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_dcp_dissector_never_raises(tail: bytes) -> None:
    for frame_id in (0xFEFC, 0xFEFD, 0xFEFE, 0xFEFF):
        message = struct.pack(">H", frame_id) + tail
        for obs in l2(message, STATION):
            assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 5), st.sampled_from([0, 2]))
def test_rpc_dissector_never_raises(body: bytes, opnum: int, ptype: int) -> None:
    for message in (rpc(opnum, body, ptype), body):
        for obs in udp(message, "10.0.0.1", "10.0.0.2", 49152, 34964):
            assert isinstance(obs, OBSERVATIONS)


@given(st.integers(0, len(IDENTIFY_RESPONSE)))
def test_truncated_identify_response(cut: int) -> None:
    for obs in l2(IDENTIFY_RESPONSE[:cut], STATION):
        assert isinstance(obs, OBSERVATIONS)


DCP_FIELDS = {
    "pn_dcp.suboption_device_nameofstation": "name",
    "pn_dcp.suboption_device_devicevendorvalue": "product",
    "pn_dcp.suboption_ip_ip": "ip_address",
}


@pytest.mark.parametrize(
    "capture",
    ["profinet/PROFINET-RT-DCP/ChangeIPUsingDCP.pcap", "profinet/profinet-wireshark-bug.pcap"],
)
def test_identify_responses_match_tshark(capture: str, corpus: Path, tshark: str) -> None:
    fields = ["eth.src", "pn_dcp.suboption_vendor_id", "pn_dcp.suboption_device_id", *DCP_FIELDS]
    out = subprocess.run(
        [tshark, "-r", str(corpus / capture), "-Y", "pn_rt.frame_id == 0xfeff", "-T", "fields"]
        + [x for f in fields for x in ("-e", f)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = set()
    for line in out.splitlines():
        mac, vendor, device, *values = line.split("\t")
        expected |= {(mac, "vendor_id", str(int(vendor, 16))), (mac, "product_code", device)}
        expected |= {
            (mac, attr, v.strip()) for attr, v in zip(DCP_FIELDS.values(), values, strict=True)
        }
    found = {
        (address, attribute, value)
        for address, protocol, attribute, value in dissected(corpus / capture)["identities"]
        if protocol == "profinet"
    }
    assert expected
    assert expected <= found
