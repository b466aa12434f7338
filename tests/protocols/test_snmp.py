"""SNMP: operations, roles and the agent's identity on built messages and a
built capture checked with tshark, the corpus' polling, and robustness."""

from __future__ import annotations

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
from otseam.protocols import snmp
from tests import capturegen as cg
from tests.test_golden_dissectors import dissected

OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
MANAGER, AGENT = "10.0.0.1", "10.0.0.50"


def ber(tag: int, content: bytes) -> bytes:
    if len(content) < 128:
        return bytes([tag, len(content)]) + content
    size = (len(content).bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + len(content).to_bytes(size, "big") + content


def oid(text: str) -> bytes:
    arcs = [int(a) for a in text.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.insert(0, 0x80 | (arc & 0x7F))
        out += bytes(chunk)
    return ber(0x06, bytes(out))


def message(pdu_tag: int, bindings: list[tuple[str, bytes]], community: bytes = b"public") -> bytes:
    varbinds = b"".join(ber(0x30, oid(o) + value) for o, value in bindings)
    pdu = ber(
        pdu_tag, ber(0x02, b"\x12\x34") + ber(0x02, b"\0") + ber(0x02, b"\0") + ber(0x30, varbinds)
    )
    return ber(0x30, ber(0x02, b"\x01") + ber(0x04, community) + pdu)


NULL = b"\x05\x00"
GET = message(0xA0, [("1.3.6.1.2.1.1.5.0", NULL), ("1.3.6.1.2.1.1.1.0", NULL)])
RESPONSE = message(
    0xA2,
    [
        ("1.3.6.1.2.1.1.5.0", ber(0x04, b"rtu-7")),
        ("1.3.6.1.2.1.1.1.0", ber(0x04, b"RTU560 " + b"x" * 150)),
        ("1.3.6.1.2.1.1.2.0", oid("1.3.6.1.4.1.9.1.516")),
        ("1.3.6.1.2.1.1.6.0", ber(0x04, b"Substation 3")),
    ],
)


def run(msg: bytes, request: bool = True) -> list[Observation]:
    src, dst, sport, dport = (
        (MANAGER, AGENT, 40000, 161) if request else (AGENT, MANAGER, 161, 40000)
    )
    return list(snmp.dissect(msg, MessageContext("snmp", "udp", src, dst, sport, dport, 0)))


def test_get_is_a_read_and_the_default_community_is_flagged_not_stored() -> None:
    found = run(GET)
    assert Operation(MANAGER, AGENT, "snmp", "read", 0, "GetRequest") in found
    assert ProtocolRole(AGENT, "snmp", "server") in found
    assert Identity(AGENT, "snmp", (("community_default", "true"),)) in found
    secret = run(message(0xA3, [("1.3.6.1.2.1.1.5.0", ber(0x04, b"x"))], b"s3cret"))
    assert Operation(MANAGER, AGENT, "snmp", "config_change", 3, "SetRequest") in secret
    assert not any(isinstance(o, Identity) for o in secret)
    assert "s3cret" not in repr(secret)


def test_response_identifies_the_agent() -> None:
    (identity,) = [o for o in run(RESPONSE, request=False) if isinstance(o, Identity)]
    assert identity.address == AGENT
    assert dict(identity.attributes) == {
        "community_default": "true",
        "name": "rtu-7",
        "description": "RTU560 " + "x" * 150,
        "sys_object_id": "1.3.6.1.4.1.9.1.516",
        "location": "Substation 3",
    }


def test_trap_is_other_from_the_agent() -> None:
    found = run(message(0xA7, [("1.3.6.1.6.3.1.1.4.1.0", oid("1.3.6.1.6.3.1.1.5.1"))]), False)
    assert Operation(AGENT, MANAGER, "snmp", "other", 7, "SNMPv2-Trap") in found
    assert ProtocolRole(MANAGER, "snmp", "server") in found


def test_bad_ber_is_malformed() -> None:
    assert isinstance(run(GET[:-4])[-1], Malformed)
    assert isinstance(run(b"\x30\x84\xff\xff\xff\xff")[-1], Malformed)


def test_sys_name_matches_tshark_on_a_built_capture(tmp_path: Path, tshark: str) -> None:
    frames = [
        cg.ethernet("00:00:00:00:00:50", "00:00:00:00:00:01", cg.Ethertype.IPV4,
                    cg.ipv4(MANAGER, AGENT, cg.udp(40000, 161, GET))),
        cg.ethernet("00:00:00:00:00:01", "00:00:00:00:00:50", cg.Ethertype.IPV4,
                    cg.ipv4(AGENT, MANAGER, cg.udp(161, 40000, RESPONSE))),
    ]  # fmt: skip
    path = tmp_path / "snmp.pcap"
    path.write_bytes(cg.pcap([cg.Packet(i * 1000, f) for i, f in enumerate(frames)]))
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "snmp.data == 2", "-T", "fields",
         "-e", "ip.src", "-e", "snmp.value.octets"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    address, values = out.strip().split("\t")
    name = bytes.fromhex(values.split(",")[0].replace(":", "")).decode()
    assert [address, "snmp", "name", name] in dissected(path)["identities"]


def test_get_requests_match_tshark_on_the_corpus(corpus: Path, tshark: str) -> None:
    path = corpus / "IEC61850" / "Sample_File_MMS_and_GOOSE.pcap"
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "snmp.data == 0", "-T", "fields", "-e", "ip.dst"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    counts: dict[str, int] = {}
    for agent in out.split():
        counts[agent] = counts.get(agent, 0) + 1
    ours = {
        row[1]: row[-1]
        for row in dissected(path)["operations"]
        if row[2] == "snmp" and row[3] == "read"
    }
    assert ours == counts


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_never_raises(data: bytes, request: bool) -> None:
    for obs in run(data, request):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, len(RESPONSE)),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
)
def test_mutated_response(cut: int, flips: list[tuple[int, int]]) -> None:
    msg = bytearray(RESPONSE[:cut])
    for pos, value in flips:
        if msg:
            msg[pos % len(msg)] = value
    for obs in run(bytes(msg), False):
        assert isinstance(obs, OBSERVATIONS)
