"""PROFINET: DCP blocks and CM RPC operations on built frames, DCP fields
against tshark, and robustness."""

from __future__ import annotations

import struct
import subprocess
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


PNIO_UUID_TAIL = bytes.fromhex("827100a02442df7d")


def rpc(opnum: int, body: bytes, ptype: int = 0) -> bytes:
    header = bytearray(80)
    header[0], header[1], header[4] = 4, ptype, 0x10
    # interface UUID DEA00001-6C97-11D1-8271-00A02442DF7D (little-endian
    # fields), version 1, as a real PNIO device interface
    struct.pack_into("<IHH8s", header, 24, 0xDEA00001, 0x6C97, 0x11D1, PNIO_UUID_TAIL)
    struct.pack_into("<I", header, 60, 1)
    struct.pack_into("<HHHH", header, 68, opnum, 0xFFFF, 0xFFFF, len(body))
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


# I&M records in Read responses. No corpus capture holds one (profinet.pcap
# reads I&M0FilterData only), so the messages are built from the block
# layouts of IEC 61158-6-10 (IODReadResHeader 0x8009, I&M0 0x0020, I&M1
# 0x0021); the tshark test below checks that Wireshark reads them the same.
DEVICE, CONTROLLER = "10.0.0.2", "10.0.0.1"


def im0(vendor: int = 0x002A, software: bytes = b"V\x02\x03\x01", hardware: int = 3) -> bytes:
    content = (
        struct.pack(">H20s16sH", vendor, b"6ES7 151-8AB01-0AB0 ", b"S C-X4U12345678 ", hardware)
        + software
        + struct.pack(">HHHBBH", 0, 0xF600, 0x0001, 1, 1, 0x001E)
    )
    return struct.pack(">HHBB", 0x0020, len(content) + 2, 1, 0) + content


def im1(function: bytes, location: bytes) -> bytes:
    content = function.ljust(32) + location.ljust(22)
    return struct.pack(">HHBB", 0x0021, len(content) + 2, 1, 0) + content


def read_response(record: bytes, slot: int = 0, index: int = 0xAFF0, opnum: int = 2) -> bytes:
    """A Read (Implicit) response: NDR header, IODReadResHeader, record."""
    fields = struct.pack(
        ">H16sIHH2sHIHH20s", 7, bytes(16), 0, slot, 1, bytes(2), index, len(record), 0, 0, bytes(20)
    )
    blocks = struct.pack(">HHBB", 0x8009, len(fields) + 2, 1, 0) + fields + record
    ndr = struct.pack("<IIIII", 0, len(blocks), len(blocks), 0, len(blocks))
    return rpc(opnum, ndr + blocks, ptype=2)


def read_identity(message: bytes) -> dict[str, str]:
    found = [o for o in udp(message, DEVICE, CONTROLLER, 34964, 49152) if isinstance(o, Identity)]
    assert all(o.address == DEVICE for o in found)
    return {k: v for o in found for k, v in o.attributes}


IM0_IDENTITY = {
    "vendor_id": "42",
    "vendor": "Siemens",
    "order_number": "6ES7 151-8AB01-0AB0",
    "model": "6ES7 151-8AB01-0AB0",
    "serial": "S C-X4U12345678",
    "hardware": "3",
    "firmware": "V2.3.1",
}


@pytest.mark.parametrize("opnum", [2, 5])
def test_im0_in_a_read_response_is_the_device_identity(opnum: int) -> None:
    message = read_response(im0(), opnum=opnum)
    assert read_identity(message) == IM0_IDENTITY
    assert ProtocolRole(DEVICE, "profinet", "server") in udp(
        message, DEVICE, CONTROLLER, 34964, 49152
    )


@pytest.mark.parametrize(
    ("software", "firmware"),
    [(b"R\x01\x00\x0a", "R1.0.10"), (b"T\x00\x09\x00", "T0.9.0"), (b"X\x01\x02\x03", "1.2.3")],
)
def test_software_revision_keeps_its_prefix(software: bytes, firmware: str) -> None:
    assert read_identity(read_response(im0(software=software)))["firmware"] == firmware


def test_unknown_vendor_is_named_by_number() -> None:
    found = read_identity(read_response(im0(vendor=0x1234)))
    assert (found["vendor_id"], found["vendor"]) == ("4660", "unknown-4660")


def test_im1_gives_function_and_location() -> None:
    record = im1(b"Conveyor 3 drive", b"Hall B")
    assert read_identity(read_response(record, index=0xAFF1)) == {
        "function": "Conveyor 3 drive",
        "location": "Hall B",
    }


@pytest.mark.parametrize(
    "message",
    [
        read_response(im0(), slot=3),  # a module's I&M0, not the device's
        read_response(im0()[:20]),  # record cut short
        read_response(b"\x00\x30\x00\x04\x01\x00\x00\x00", index=0xF840),  # I&M0FilterData
        rpc(3, read_response(im0())[80:], ptype=2),  # a Write response
        read_response(im0())[:150],
    ],
    ids=["module-slot", "short-record", "other-record", "write-response", "truncated"],
)
def test_no_identity_without_a_whole_device_im_record(message: bytes) -> None:
    assert read_identity(message) == {}


def test_reads_of_different_slots_are_not_one_message_group() -> None:
    spec = profinet.PROTOCOL
    dap, module = read_response(im0()), read_response(im0(), slot=1)
    assert _key_bytes(spec, dap) != _key_bytes(spec, module)
    again = bytearray(dap)
    again[64:68] = b"\x09\x00\x00\x00"  # RPC sequence number
    again[106:108] = b"\x00\x08"  # IODReadResHeader SeqNumber
    assert _key_bytes(spec, bytes(again)) == _key_bytes(spec, dap)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([read_response(im0()), read_response(im1(b"f", b"l"))]), st.data())
def test_truncated_and_flipped_read_responses_never_raise(
    message: bytes, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(message)))
    flip = data.draw(st.integers(80, len(message) - 1))
    mutated = bytearray(message)
    mutated[flip] = data.draw(st.integers(0, 255))
    for candidate in (message[:cut], bytes(mutated)):
        for obs in udp(candidate, DEVICE, CONTROLLER, 34964, 49152):
            assert isinstance(obs, OBSERVATIONS)


def _udp_frame(payload: bytes) -> bytes:
    """Ethernet, IPv4 (checksum left zero) and UDP 34964 -> 49152 around a payload."""
    datagram = struct.pack(">HHHH", 34964, 49152, 8 + len(payload), 0) + payload
    ip = struct.pack(
        ">BBHHHBBH4s4s", 0x45, 0, 20 + len(datagram), 1, 0, 64, 17, 0,
        bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1]),
    )  # fmt: skip
    return bytes(6) + bytes.fromhex("000e8c000001") + b"\x08\x00" + ip + datagram


def test_im0_fields_agree_with_tshark(tmp_path: Path, tshark: str) -> None:
    frame = _udp_frame(read_response(im0()))
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    pcap += struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame
    (tmp_path / "im0.pcap").write_bytes(pcap)
    fields = ["pn_io.order_id", "pn_io.im_serial_number", "pn_io.im_hardware_revision"]
    fields += ["pn_io.im_revision_prefix", "pn_io.im_sw_revision_functional_enhancement"]
    fields += ["pn_io.im_revision_bugfix", "pn_io.im_sw_revision_internal_change"]
    out = subprocess.run(
        [tshark, "-r", str(tmp_path / "im0.pcap"), "-T", "fields", "-E", "separator=;"]
        + [x for f in fields for x in ("-e", f)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    order, serial, hardware, prefix, major, minor, internal = out.strip("\n").split(";")
    letter = prefix.strip("'")  # tshark quotes the prefix character
    firmware = f"{letter}{int(major, 0)}.{int(minor, 0)}.{int(internal, 0)}"
    assert {
        "order_number": order.strip(),
        "serial": serial.strip(),
        "hardware": str(int(hardware, 0)),
        "firmware": firmware,
    } == {k: IM0_IDENTITY[k] for k in ("order_number", "serial", "hardware", "firmware")}
