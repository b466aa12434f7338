"""LLDP and CDP: the sender's identity on built frames, system names against
tshark, and robustness."""

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
from otseam.protocols import cdp, lldp
from tests.test_golden_dissectors import dissected

OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
SENDER = "00:1b:1b:02:e6:1f"


def tlv(kind: int, value: bytes) -> bytes:
    return struct.pack(">H", kind << 9 | len(value)) + value


LLDPDU = (
    tlv(1, b"\x04" + bytes.fromhex("001b1b02e61f"))
    + tlv(2, b"\x07port-001")
    + tlv(3, b"\x00\x14")
    + tlv(4, b"Port 01")
    + tlv(5, b"Switch1")
    + tlv(6, b"SCALANCE X212-2, FW: V4.02")
    + tlv(7, b"\x00\x14\x00\x04")
    + tlv(8, b"\x05\x01\x8d\x51\x00\xbe\x02\x00\x00\x00\x01\x00")
    + tlv(0, b"")
)


def run(module: object, msg: bytes) -> list[Observation]:
    ctx = MessageContext("lldp", "l2", SENDER, "", 0, 0, 0)
    return list(module.dissect(msg, ctx))  # type: ignore[attr-defined]


def test_lldp_identity_on_the_sender() -> None:
    assert run(lldp, LLDPDU) == [
        Identity(
            SENDER,
            "lldp",
            (
                ("chassis_id", "00:1b:1b:02:e6:1f"),
                ("port_id", "port-001"),
                ("port_description", "Port 01"),
                ("name", "Switch1"),
                ("description", "SCALANCE X212-2, FW: V4.02"),
                ("capabilities", "bridge"),
                ("management_address", "141.81.0.190"),
            ),
        )
    ]


def test_lldp_cut_tlv_keeps_what_came_before() -> None:
    found = run(lldp, LLDPDU[:40])
    assert isinstance(found[0], Malformed)
    assert ("chassis_id", "00:1b:1b:02:e6:1f") in found[1].attributes  # type: ignore[union-attr]


def cdp_tlv(kind: int, value: bytes) -> bytes:
    return struct.pack(">HH", kind, len(value) + 4) + value


CDP_FRAME = (
    b"\x02\xb4\x00\x00"
    + cdp_tlv(1, b"Ns5gt")
    + cdp_tlv(2, b"\x00\x00\x00\x01\x01\x01\xcc\x00\x04\xc0\xa8\x0a\xfd")
    + cdp_tlv(3, b"GigabitEthernet1")
    + cdp_tlv(5, b"Cisco IOS Software, Version 12.2\nCopyright")
    + cdp_tlv(6, b"cisco WS-CE500-24TT")
    + cdp_tlv(10, b"\x00\x03")
)


def test_cdp_identity_on_the_sender() -> None:
    (identity,) = run(cdp, CDP_FRAME)
    assert isinstance(identity, Identity)
    assert dict(identity.attributes) == {
        "cdp_version": "2",
        "name": "Ns5gt",
        "management_address": "192.168.10.253",
        "port_id": "GigabitEthernet1",
        "description": "Cisco IOS Software, Version 12.2",
        "model": "cisco WS-CE500-24TT",
        "native_vlan": "3",
    }


def test_cdp_reaches_the_dissector_through_llc_snap(corpus: Path) -> None:
    """The walker gives a SNAP frame's protocol id 0x2000 as its ethertype."""
    found = dissected(corpus / "openics" / "EIP-IPAddressChangeAttempt.pcap")["identities"]
    assert ["00:1e:f6:73:59:81", "cdp", "name", "Ns5gt"] in found


@pytest.mark.parametrize(
    "capture", ["ModbusTCP/mb2.pcap", "profinet/Profinet_Failed.pcap", "s7/S7Comm/wrapup.pcapng"]
)
def test_system_names_match_tshark(corpus: Path, tshark: str, capture: str) -> None:
    path = corpus / capture
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "lldp", "-T", "fields",
         "-e", "eth.src", "-e", "lldp.tlv.system.name", "-e", "lldp.tlv.system.desc"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    expected = set()
    for line in out.splitlines():
        mac, name, description = line.split("\t")
        expected |= {(mac, "name", name.strip()), (mac, "description", description.strip())}
    expected = {e for e in expected if e[2]}
    assert expected
    ours = {
        (address, attribute, value)
        for address, protocol, attribute, value in dissected(path)["identities"]
        if protocol == "lldp" and attribute in ("name", "description")
    }
    assert ours == expected


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_never_raises(data: bytes) -> None:
    for module in (lldp, cdp):
        for obs in run(module, data):
            assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(CDP_FRAME)), st.integers(0, len(LLDPDU)))
def test_truncated_frames(cut_cdp: int, cut_lldp: int) -> None:
    for obs in [*run(cdp, CDP_FRAME[:cut_cdp]), *run(lldp, LLDPDU[:cut_lldp])]:
        assert isinstance(obs, OBSERVATIONS)
