"""DHCP: the client's identity on built messages, host names against tshark,
and robustness."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

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
from otseam.protocols import dhcp
from otseam.protocols.catalog import REGISTRY
from tests.test_golden_dissectors import dissected

OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
MAC = bytes.fromhex("00e0626035d0")


def message(op: int, options: bytes, yiaddr: str = "0.0.0.0", xid: int = 1) -> bytes:
    fixed = bytearray(236)
    fixed[0:4] = bytes([op, 1, 6, 0])
    fixed[4:8] = xid.to_bytes(4, "big")
    fixed[16:20] = ipaddress.IPv4Address(yiaddr).packed
    fixed[28:34] = MAC
    return bytes(fixed) + dhcp.COOKIE + options + b"\xff"


def option(tag: int, value: bytes) -> bytes:
    return bytes([tag, len(value)]) + value


REQUEST = message(
    1,
    option(53, b"\x03")
    + option(12, b"plc-07")
    + option(60, b"MSFT 5.0")
    + option(55, bytes([1, 3, 6, 15]))
    + option(50, bytes([10, 0, 0, 7]))
    + option(54, bytes([10, 0, 0, 1]))
    + option(81, b"\x04\x00\x00\x06plc-07\x04corp\x00"),
)


def run(msg: bytes, sport: int = 68, dport: int = 67) -> list[Observation]:
    ctx = MessageContext("dhcp", "udp", "0.0.0.0", "255.255.255.255", sport, dport, 0)
    return list(dhcp.dissect(msg, ctx))


def test_client_identity_goes_on_its_hardware_address() -> None:
    found = run(REQUEST)
    assert ProtocolRole("0.0.0.0", "dhcp", "client") in found
    identity = next(o for o in found if isinstance(o, Identity))
    assert identity.address == "00:e0:62:60:35:d0"
    assert dict(identity.attributes) == {
        "name": "plc-07",
        "vendor_class": "MSFT 5.0",
        "dhcp_fingerprint": "1,3,6,15",
        "fqdn": "plc-07.corp",
        "dhcp_requested_ip": "10.0.0.7",
        "dhcp_server": "10.0.0.1",
    }


def test_server_reply_names_the_assigned_address_and_the_server_role() -> None:
    ack = message(2, option(53, b"\x05") + option(54, bytes([10, 0, 0, 1])), "10.0.0.7")
    found = run(ack, 67, 68)
    assert ProtocolRole("0.0.0.0", "dhcp", "server") in found
    identity = next(o for o in found if isinstance(o, Identity))
    assert dict(identity.attributes) == {"dhcp_assigned_ip": "10.0.0.7", "dhcp_server": "10.0.0.1"}


def test_missing_cookie_and_cut_options_are_malformed() -> None:
    assert isinstance(run(REQUEST[:200])[0], Malformed)
    assert isinstance(run(REQUEST[:-3])[-1], Malformed)


def test_transaction_id_is_masked_out_of_the_group_key() -> None:
    from otseam.decode.engine import _key_bytes

    spec = REGISTRY.by_name["dhcp"]
    other = message(1, REQUEST[240:-1], xid=0xDEADBEEF)
    assert _key_bytes(spec, REQUEST) == _key_bytes(spec, other)
    assert b"\x00\xe0\x62\x60\x35\xd0" in _key_bytes(spec, REQUEST)  # chaddr stays in


def test_host_names_match_tshark(corpus: Path, tshark: str) -> None:
    path = corpus / "openics" / "EIP-IPAddressChangeAttempt.pcap"
    out = subprocess.run(
        [
            tshark,
            "-r",
            str(path),
            "-Y",
            "dhcp.option.hostname",
            "-T",
            "fields",
            "-e",
            "dhcp.hw.mac_addr",
            "-e",
            "dhcp.option.hostname",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = {tuple(line.split("\t")) for line in out.splitlines() if line}
    assert expected  # KoyoDL405, ConLgxEIP
    ours = {
        (address, value)
        for address, protocol, attribute, value in dissected(path)["identities"]
        if protocol == "dhcp" and attribute == "name"
    }
    assert ours == expected


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([(68, 67), (67, 68)]))
def test_never_raises(data: bytes, ports: tuple[int, int]) -> None:
    for obs in run(data, *ports):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.integers(0, len(REQUEST)))
def test_random_options_and_truncation(options: bytes, cut: int) -> None:
    for msg in (REQUEST[:cut], REQUEST[:240] + options):
        for obs in run(msg):
            assert isinstance(obs, OBSERVATIONS)
