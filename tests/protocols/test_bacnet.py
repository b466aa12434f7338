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
from otseam.protocols.bacnet_segments import MAX_PENDING, MAX_REPLY, SegmentedAcks
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


# Segmented Complex-ACKs. The corpus has none (bacnet_test.pcap's acks are
# all unsegmented), so the segments are built from ASHRAE 135-2020 clauses
# 5.4 and 20.1.5: flags SEG (0x08) and MOR (0x04), invoke id, sequence
# number, proposed window size, service choice, then the next part of the
# service ACK. Each test uses its own source port: the reassembly state is
# kept across messages, keyed by ports, invoke id and service.
def character_string(text: str) -> bytes:
    raw = b"\x00" + text.encode()
    return bytes([0x75, len(raw)]) + raw


def device_result(prop: int, value: bytes) -> bytes:
    tag = bytes([0x29, prop]) if prop < 256 else b"\x2a" + prop.to_bytes(2, "big")
    return tag + b"\x4e" + value + b"\x4f"


RPM_DEVICE_ACK = (
    bytes.fromhex("0c020004d2 1e")  # device 1234, [1] listOfResults
    + device_result(121, character_string("Acme Building Controls"))
    + device_result(70, character_string("AB-CTRL-2000 Field Controller"))
    + device_result(44, character_string("4.12.7"))
    + device_result(12, character_string("AppSuite 2024.2"))
    + device_result(77, character_string("AHU-3 supervisory controller"))
    + device_result(372, character_string("SN-00917733"))
    + b"\x1f"
)
RPM_DEVICE_IDENTITY = {
    "device_instance": "1234",
    "vendor": "Acme Building Controls",
    "model": "AB-CTRL-2000 Field Controller",
    "firmware": "4.12.7",
    "application": "AppSuite 2024.2",
    "name": "AHU-3 supervisory controller",
    "serial": "SN-00917733",
}


def segments(service_ack: bytes, size: int = 40, invoke: int = 7, service: int = 14) -> list[bytes]:
    """Complex-ACK segments of ``size`` service ACK octets each, in order."""
    parts = [service_ack[i : i + size] for i in range(0, len(service_ack), size)]
    return [
        bvlc(
            b"\x01\x00"
            + bytes([0x3C if n < len(parts) - 1 else 0x38, invoke, n % 256, 4, service])
            + part
        )
        for n, part in enumerate(parts)
    ]


def reassembled(messages: list[bytes], port: int) -> dict[str, str]:
    """Identity attributes from all messages, sent by SERVER from ``port``."""
    context = MessageContext("bacnet", "udp", SERVER, CLIENT, port, 47808, 0)
    found: dict[str, str] = {}
    for message in messages:
        for o in run(message, context):
            assert not isinstance(o, Malformed)
            if isinstance(o, Identity):
                assert o.address == SERVER
                found.update(o.attributes)
    return found


def test_segmented_read_property_multiple_ack_is_reassembled() -> None:
    parts = segments(RPM_DEVICE_ACK)
    assert len(parts) == 5
    assert reassembled(parts, 40001) == RPM_DEVICE_IDENTITY


def test_segmented_read_property_ack_is_reassembled() -> None:
    ack = bytes.fromhex("0c020004d2 1946 3e") + character_string("Model-X " * 20) + b"\x3f"
    assert reassembled(segments(ack, size=50, service=12), 40002) == {
        "device_instance": "1234",
        "model": ("Model-X " * 20).strip(),
    }


def test_first_segment_alone_gives_only_its_whole_values() -> None:
    first = segments(RPM_DEVICE_ACK, size=60)[0]
    assert reassembled([first], 40003) == {
        "device_instance": "1234",
        "vendor": "Acme Building Controls",
    }


@pytest.mark.parametrize(
    ("order", "complete"),
    [
        ([0, 1, 1, 2, 3, 4], True),  # a retransmitted segment is ignored
        ([0, 1, 3, 4], False),  # a lost segment abandons the reply
        ([0, 2, 1, 3, 4], False),  # out of order
        ([1, 2, 3, 4], False),  # the first segment was never seen
        ([0, 1, 2, 0, 1, 2, 3, 4], True),  # a new first segment starts again
    ],
)
def test_segments_are_joined_only_in_sequence(order: list[int], complete: bool) -> None:
    parts = segments(RPM_DEVICE_ACK)
    port = 40100 + sum(n * 7**i for i, n in enumerate(order)) % 800
    found = reassembled([parts[n] for n in order], port)
    assert ("serial" in found) == complete


def test_interleaved_replies_are_kept_apart() -> None:
    first = segments(RPM_DEVICE_ACK, invoke=1)
    second = segments(RPM_DEVICE_ACK.replace(b"SN-00917733", b"SN-00000002"), invoke=2)
    mixed = [m for pair in zip(first, second, strict=True) for m in pair]
    context = MessageContext("bacnet", "udp", SERVER, CLIENT, 40004, 47808, 0)
    serials = {
        dict(o.attributes).get("serial")
        for m in mixed
        for o in run(m, context)
        if isinstance(o, Identity)
    }
    assert serials - {None} == {"SN-00917733", "SN-00000002"}


def test_a_reply_over_the_size_bound_is_abandoned() -> None:
    store = SegmentedAcks()
    key = (47808, 47808, "", 1, 14)
    assert store.add(key, 0, True, bytes(MAX_REPLY - 10)) is None
    assert store.add(key, 1, False, bytes(20)) is None
    assert not store.pending


def test_pending_replies_are_bounded_oldest_first() -> None:
    store = SegmentedAcks()
    for invoke in range(MAX_PENDING + 5):
        store.add((1, 2, "", invoke % 256, invoke // 256), 0, True, b"x")
    assert len(store.pending) == MAX_PENDING
    assert (1, 2, "", 0, 0) not in store.pending
    assert store.add((1, 2, "", MAX_PENDING + 4, 0), 1, False, b"y") == b"xy"


def test_sequence_numbers_wrap_at_256() -> None:
    store = SegmentedAcks()
    key = (1, 2, "", 9, 14)
    store.add(key, 0, True, b"a")
    for n in range(1, 300):
        assert store.add(key, n % 256, True, b"a") is None
    assert store.add(key, 300 % 256, False, b"b") == b"a" * 300 + b"b"


def test_segment_ack_gives_roles_from_the_srv_bit() -> None:
    segment_ack = bvlc(b"\x01\x00" + bytes([0x40, 7, 3, 4]))  # from the client
    assert {(o.address, o.role) for o in run(segment_ack) if isinstance(o, ProtocolRole)} == {
        (CLIENT, "client"),
        (SERVER, "server"),
    }


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


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_truncated_mutated_and_reordered_segments_never_raise(data: st.DataObject) -> None:
    parts = segments(RPM_DEVICE_ACK, size=data.draw(st.integers(1, 80)))
    picked = data.draw(st.lists(st.sampled_from(parts), max_size=len(parts) + 3))
    context = MessageContext("bacnet", "udp", SERVER, CLIENT, 41000, 47808, 0)
    for message in picked:
        cut = data.draw(st.integers(0, len(message)))
        mutated = bytearray(message[:cut] or b"\x00")
        mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(st.integers(0, 255))
        for candidate in (message[:cut], bytes(mutated), message):
            assert all(isinstance(o, OBSERVATIONS) for o in run(candidate, context))


def test_a_new_capture_forgets_the_last_ones_unfinished_replies() -> None:
    from otseam.decode.engine import FrameDecoder

    first, *rest = segments(RPM_DEVICE_ACK)
    assert reassembled([first], 40002) != RPM_DEVICE_IDENTITY  # more to come
    FrameDecoder()  # the next capture starts
    assert reassembled(rest, 40002) == {}  # its segments do not complete the old reply
    assert reassembled([first, *rest], 40002) == RPM_DEVICE_IDENTITY
