"""BACnet/IP dissector: services and identity on hand-built messages, the
bundled sample against its truth, tshark as oracle, and random input."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otseam.decode.engine import FrameDecoder, _key_bytes
from otseam.model.capture import CaptureFacts
from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols import bacnet
from otseam.sources.capture import CaptureSource, decode_capture

SAMPLE = Path(str(resources.files("otseam") / "data" / "sample"))
CLIENT, SERVER = "10.0.0.1", "10.0.0.2"


def ctx(sport: int = 47808, dport: int = 47808) -> MessageContext:
    return MessageContext("bacnet", "udp", CLIENT, SERVER, sport, dport, 0)


def bvlc(npdu_apdu: bytes, function: int = 0x0A) -> bytes:
    return bytes([0x81, function]) + (len(npdu_apdu) + 4).to_bytes(2, "big") + npdu_apdu


def confirmed(service: int, params: bytes = b"", invoke: int = 1) -> bytes:
    return bvlc(b"\x01\x04" + bytes([0x00, 0x05, invoke, service]) + params)


def run(message: bytes, context: MessageContext | None = None) -> list[Observation]:
    return list(bacnet.dissect(message, context or ctx()))


def operations(message: bytes) -> list[tuple[str, int, str]]:
    return [(o.operation, o.code, o.code_name) for o in run(message) if isinstance(o, Operation)]


def identity(message: bytes, context: MessageContext | None = None) -> dict[str, str]:
    found = [o for o in run(message, context) if isinstance(o, Identity)]
    return dict(found[0].attributes) if found else {}


I_AM = bvlc(b"\x01\x00" + bytes.fromhex("1000c4020007d0220400910021 05".replace(" ", "")), 0x0B)
READ_VENDOR_NAME_ACK = bvlc(
    b"\x01\x00"
    + bytes.fromhex("3001 0c 0c02000bb8 1979 3e 750400 4a4349".replace(" ", ""))
    + b"\x3f"
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (confirmed(12, bytes.fromhex("0c020007d01979")), ("read", 12, "readProperty")),
        (confirmed(15), ("write", 15, "writeProperty")),
        (confirmed(16), ("write", 16, "writePropertyMultiple")),
        (confirmed(20, b"\x09\x00"), ("restart", 20, "reinitializeDevice: coldstart")),
        (confirmed(17, b"\x19\x01"), ("comm_control", 17, "deviceCommunicationControl: disable")),
        (confirmed(6), ("file_read", 6, "atomicReadFile")),
        (confirmed(7), ("file_write", 7, "atomicWriteFile")),
        (confirmed(99), ("unknown", 99, "unknown-99")),
        (bvlc(b"\x01\x00\x10\x08", 0x0B), ("identify", 8, "who-Is")),
        (bvlc(b"\x01\x00\x10\x06" + bytes(10), 0x0B), ("set_time", 6, "timeSynchronization")),
        (bvlc(b"\x01\x00\x10\x28", 0x0B), ("unknown", 40, "unknown-40")),
        (bvlc(b"", 0x01), ("config_change", 1, "Write-Broadcast-Distribution-Table")),
        (bvlc(b"\x01\x80\x00", 0x0B), ("identify", 0, "Who-Is-Router-To-Network")),
    ],
)
def test_service_choices_are_named_operations(
    message: bytes, expected: tuple[str, int, str]
) -> None:
    assert operations(message) == [expected]


def test_confirmed_request_roles_follow_the_semantics() -> None:
    roles = {(o.address, o.role) for o in run(confirmed(12)) if isinstance(o, ProtocolRole)}
    assert roles == {(SERVER, "server"), (CLIENT, "client")}
    ack = bvlc(b"\x01\x00\x20\x01\x0f")  # Simple-ACK, sent by the server (CLIENT here)
    roles = {(o.address, o.role) for o in run(ack) if isinstance(o, ProtocolRole)}
    assert roles == {(CLIENT, "server"), (SERVER, "client")}


def test_i_am_gives_device_instance_and_vendor() -> None:
    assert identity(I_AM) == {
        "device_instance": "2000",
        "max_apdu": "1024",
        "segmentation": "both",
        "vendor_id": "5",
        "vendor": "Johnson Controls, Inc.",
    }


def test_read_property_ack_of_the_device_gives_identity() -> None:
    assert identity(READ_VENDOR_NAME_ACK) == {"device_instance": "3000", "vendor": "JCI"}


def test_read_property_multiple_ack_gives_several_attributes() -> None:
    results = (
        "1e"  # [1] listOfResults
        "2946 4e 7505004d532d31 4f"  # model-name "MS-1"
        "292c 4e 750400332e31 4f"  # firmware-revision "3.1"
        "29ff 5e 9102 9120 5f"  # an unknown property that failed: skipped
        "1f"
    )
    ack = bvlc(b"\x01\x00" + bytes.fromhex(("3007 0e 0c020000 64" + results).replace(" ", "")))
    assert identity(ack) == {"device_instance": "100", "model": "MS-1", "firmware": "3.1"}


def test_forwarded_npdu_identity_belongs_to_the_originator() -> None:
    forwarded = (
        bytes.fromhex("810400") + bytes([len(I_AM) + 6]) + bytes([192, 168, 5, 7, 0xBA, 0xC0])
    )
    found = [o for o in run(forwarded + I_AM[4:]) if isinstance(o, Identity)]
    assert [o.address for o in found] == ["192.168.5.7"]


def test_a_routed_i_am_is_not_the_senders_identity() -> None:
    # SNET 5, SADR one octet: the device is behind the router that sent it
    routed = bvlc(b"\x01\x08\x00\x05\x01\x2a" + I_AM[6:], 0x0B)
    assert identity(routed) == {}
    assert not [o for o in run(routed) if isinstance(o, Malformed)]


def test_only_the_first_segment_of_a_segmented_ack_is_decoded() -> None:
    body = READ_VENDOR_NAME_ACK[8:]  # service choice and what follows
    first = bvlc(b"\x01\x00" + bytes([0x3C, 0x01, 0x00, 0x04]) + body[:-1])
    later = bvlc(b"\x01\x00" + bytes([0x38, 0x01, 0x01, 0x04]) + body[:-1])
    assert identity(first) == {"device_instance": "3000", "vendor": "JCI"}
    assert identity(later) == {}


def test_the_key_hides_the_invoke_id_and_keeps_the_service() -> None:
    spec = bacnet.PROTOCOL
    assert _key_bytes(spec, confirmed(12, invoke=1)) == _key_bytes(spec, confirmed(12, invoke=200))
    assert _key_bytes(spec, confirmed(12)) != _key_bytes(spec, confirmed(15))
    who_is, i_am = bvlc(b"\x01\x00\x10\x08", 0x0B), bvlc(b"\x01\x00\x10\x00", 0x0B)
    assert _key_bytes(spec, who_is) != _key_bytes(spec, i_am)


@pytest.mark.parametrize(
    "message",
    [b"", b"\x81", b"\x82\x0a\x00\x04", bvlc(b"\x02\x00\x10\x08"), bvlc(b"\x01\x20\x00")],
    ids=["empty", "short", "not-bvlc", "npdu-version", "npdu-truncated"],
)
def test_broken_messages_are_malformed_not_errors(message: bytes) -> None:
    assert [type(o) for o in run(message)] == [Malformed]


@cache
def sample_facts() -> CaptureFacts:
    path = SAMPLE / "plant.pcap"
    return decode_capture(
        CaptureSource(str(path), path, path.stat().st_size), FrameDecoder(strict=True)
    )


def identities(facts: CaptureFacts, address: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for addr, protocol, key, value in facts.identities:
        if addr == address and protocol == "bacnet":
            found.setdefault(key, set()).add(value)
    return found


def test_sample_device_identity_is_the_truth() -> None:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    device = next(a for a in truth["assets"] if a["name"] == "bms-01")
    found = identities(sample_facts(), device["ips"][0])
    assert {k: found.get(k) for k in device["identity_on_wire"]} == {
        k: {v} for k, v in device["identity_on_wire"].items()
    }
    assert found["device_instance"] == {"3030"}


def test_sample_operations_are_who_is_and_read_property() -> None:
    ops = {k[3:6] for k in sample_facts().operations if k[2] == "bacnet"}
    assert ops == {("identify", 8, "who-Is"), ("read", 12, "readProperty")}


def tshark_devices(tshark: str, path: Path) -> tuple[set[str], set[str]]:
    """Device instances (wildcard left out) and I-Am vendor ids tshark decodes."""
    out = subprocess.run(
        [
            tshark,
            "-r",
            str(path),
            "-Y",
            "bacapp",
            "-T",
            "fields",
            "-E",
            "separator=;",
            "-e",
            "bacapp.objectType",
            "-e",
            "bacapp.instance_number",
            "-e",
            "bacapp.vendor_identifier",
            "-e",
            "bacapp.type",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    instances, vendors = set(), set()
    for line in out.splitlines():
        types, numbers, vendor, apdu = [*line.split(";"), "", "", "", ""][:4]
        if apdu not in ("1", "3"):  # I-Am, Complex-ACK: what the device says
            continue
        for kind, number in zip(types.split(","), numbers.split(","), strict=False):
            if kind == "8" and number and number != "4194303":
                instances.add(number)
        vendors |= {v for v in vendor.split(",") if v}
    return instances, vendors


@pytest.mark.parametrize("name", ["corpus", "sample"])
def test_device_instances_and_vendor_ids_agree_with_tshark(
    name: str, tshark: str, corpus: Path
) -> None:
    path = corpus / "BACnet" / "bacnet_test.pcap" if name == "corpus" else SAMPLE / "plant.pcap"
    facts = decode_capture(CaptureSource(str(path), path, path.stat().st_size), FrameDecoder())
    ours = {(k[2], k[3]) for k in facts.identities if k[1] == "bacnet"}
    instances, vendors = tshark_devices(tshark, path)
    assert instances and {v for k, v in ours if k == "device_instance"} == instances
    i_am_vendors = {v for k, v in ours if k == "vendor_id"}
    assert vendors <= i_am_vendors


OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_payloads_never_raise(payload: bytes) -> None:
    for message in (payload, bvlc(payload), bvlc(b"\x01\x00" + payload)):
        assert all(isinstance(o, OBSERVATIONS) for o in run(message))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([I_AM, READ_VENDOR_NAME_ACK, confirmed(20, b"\x09\x00")]), st.data())
def test_truncated_and_flipped_messages_never_raise(message: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(message)))
    flip = data.draw(st.integers(0, len(message) - 1))
    mutated = bytearray(message)
    mutated[flip] = data.draw(st.integers(0, 255))
    for candidate in (message[:cut], bytes(mutated)):
        assert all(isinstance(o, OBSERVATIONS) for o in run(candidate))
