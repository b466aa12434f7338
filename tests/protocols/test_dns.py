"""DNS, mDNS, LLMNR and NBNS: names on built messages, names against tshark,
and robustness (compression loops, cut records)."""

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
from otseam.protocols import dns, nbns
from tests.test_golden_dissectors import dissected

OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)


def name(text: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in text.split(".") if p) + b"\x00"


def record(owner: bytes, rtype: int, rdata: bytes) -> bytes:
    return owner + struct.pack(">HHIH", rtype, 1, 120, len(rdata)) + rdata


def header(flags: int, qd: int = 0, an: int = 0, ar: int = 0, tid: int = 0) -> bytes:
    return struct.pack(">6H", tid, flags, qd, an, 0, ar)


ANNOUNCEMENT = (
    header(0x8400, an=3)
    + record(name("EWS-01.local"), 1, bytes([10, 40, 0, 60]))
    + record(b"\xc0\x0c", 28, bytes.fromhex("fe80" + "00" * 12 + "0001"))
    + record(name("60.0.40.10.in-addr.arpa"), 12, name("EWS-01.local"))
)


def run(
    msg: bytes, protocol: str = "mdns", sport: int = 5353, dport: int = 5353
) -> list[Observation]:
    ctx = MessageContext(protocol, "udp", "10.40.0.60", "224.0.0.251", sport, dport, 0)
    module = nbns if protocol == "nbns" else dns
    return list(module.dissect(msg, ctx))


def test_mdns_announcement_names_its_addresses() -> None:
    found = run(ANNOUNCEMENT)
    assert found == [
        ProtocolRole("10.40.0.60", "mdns", "server"),
        Identity("10.40.0.60", "mdns", (("name", "EWS-01"),)),
        Identity("fe80::1", "mdns", (("name", "EWS-01"),)),
    ]


def test_unicast_dns_answer_is_a_dns_name_and_a_query_says_nothing() -> None:
    query = header(0x0100, qd=1) + name("erp-01.corp.example.") + b"\x00\x01\x00\x01"
    answer = (
        header(0x8180, qd=1, an=1)[:12] + query[12:] + record(b"\xc0\x0c", 1, b"\x0a\x0a\x00\x0a")
    )
    assert run(query, "dns", 40000, 53) == []
    assert run(answer, "dns", 53, 40000) == [
        ProtocolRole("10.40.0.60", "dns", "server"),
        ProtocolRole("224.0.0.251", "dns", "client"),
        Identity("10.10.0.10", "dns", (("dns_name", "erp-01.corp.example"),)),
    ]


def test_dns_over_tcp_skips_the_length_prefix() -> None:
    ctx = MessageContext("dns", "tcp", "10.0.0.1", "10.0.0.2", 53, 40000, 0)
    msg = ANNOUNCEMENT[:12] + ANNOUNCEMENT[12:]
    found = list(dns.dissect(struct.pack(">H", len(msg)) + msg, ctx))
    assert Identity("10.40.0.60", "dns", (("dns_name", "EWS-01"),)) in found


def test_compression_loop_is_malformed_not_endless() -> None:
    looping = header(0x8400, an=1) + b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + bytes(4)
    assert isinstance(run(looping)[-1], Malformed)
    with pytest.raises(dns.NameError_):
        dns.read_name(b"\xc0\x00", 0)


def test_names_are_normalised() -> None:
    assert dns.normalise("printer.local.") == "printer"
    assert dns.normalise("host.corp.example.") == "host.corp.example"


def netbios(text: str, suffix: int) -> bytes:
    raw = text.ljust(15).encode()[:15] + bytes([suffix])
    encoded = "".join(chr(65 + (b >> 4)) + chr(65 + (b & 15)) for b in raw)
    return b"\x20" + encoded.encode() + b"\x00"


def test_nbns_registration_and_node_status_name_the_host() -> None:
    registration = (
        header(0x2910, qd=1, ar=1)
        + netbios("HMI-02", 0x00)
        + b"\x00\x20\x00\x01"
        + record(b"\xc0\x0c", 0x20, b"\x00\x00" + bytes([10, 0, 0, 9]))
    )
    assert run(registration, "nbns", 137, 137) == [
        Identity("10.0.0.9", "nbns", (("name", "HMI-02"),))
    ]
    status = (
        header(0x8400, an=1)
        + netbios("*", 0)
        + struct.pack(">HHIH", 0x21, 1, 0, 1 + 18 * 2)
        + b"\x02"
        + b"HMI-02".ljust(15)
        + b"\x20\x04\x00"
        + b"WORKGROUP".ljust(15)
        + b"\x00\x84\x00"
    )
    assert run(status, "nbns", 137, 137) == [
        ProtocolRole("10.40.0.60", "nbns", "server"),
        Identity("10.40.0.60", "nbns", (("name", "HMI-02"),)),
    ]
    assert nbns.decode_name(netbios("SAS", 0x1B)[1:33].decode()) == ("SAS", 0x1B)


def _tshark(tshark: str, path: Path, *args: str) -> list[list[str]]:
    out = subprocess.run(
        [tshark, "-r", str(path), *args], capture_output=True, text=True, check=True
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


SAMPLE = Path(__file__).resolve().parents[2] / "src/otseam/data/sample/plant.pcap"


@pytest.mark.parametrize(
    "capture", ["s7/S7Comm/wrapup.pcapng", "bro/modbus/modbusSmall.pcap", str(SAMPLE)]
)
def test_a_record_names_match_tshark(corpus: Path, tshark: str, capture: str) -> None:
    """Every address tshark reads from an A/AAAA answer gets a name that tshark
    also read in that message, and every name otseam gives is one of those."""
    path = corpus / capture
    rows = _tshark(
        tshark, path, "-Y", "dns.flags.response == 1 && (dns.a || dns.aaaa)", "-T", "fields",
        "-e", "udp.srcport", "-e", "dns.resp.name", "-e", "dns.a", "-e", "dns.aaaa",
    )  # fmt: skip
    allowed: dict[tuple[str, str], set[str]] = {}
    for sport, names, a, aaaa in rows:
        protocol = "mdns" if sport == "5353" else "dns"
        for address in filter(None, [*a.split(","), *aaaa.split(",")]):
            key = (address, protocol)
            allowed.setdefault(key, set()).update(dns.normalise(n) for n in names.split(","))
    assert allowed
    ours: dict[tuple[str, str], set[str]] = {}
    for address, protocol, attribute, value in dissected(path)["identities"]:
        if protocol in ("dns", "mdns") and attribute in ("name", "dns_name"):
            ours.setdefault((address, protocol), set()).add(value)
    for key, told in allowed.items():
        assert ours.get(key), f"{key}: tshark reads {told}, otseam nothing"
        assert ours[key] <= told, key


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["dns", "mdns", "llmnr", "nbns"]))
def test_never_raises(data: bytes, protocol: str) -> None:
    for obs in run(data, protocol):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 0xFFFF))
def test_random_records_after_a_response_header(body: bytes, counts: int) -> None:
    msg = header(0x8400, qd=counts & 3, an=counts >> 8) + body
    for protocol in ("mdns", "nbns"):
        for obs in run(msg, protocol):
            assert isinstance(obs, OBSERVATIONS)
