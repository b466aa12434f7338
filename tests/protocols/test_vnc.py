"""VNC (RFB) dissector: the RFC 6143 handshake on built messages, through the
engine on the registered port and by signature, against tshark, and for
robustness."""

from __future__ import annotations

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
from otseam.protocols import vnc
from tests.protocols.test_tls import session_pcap
from tests.test_golden_dissectors import dissected

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
HANDSHAKE = [
    (False, b"RFB 003.008\n"),
    (True, b"RFB 003.008\n"),
    (False, bytes([2, 2, 16])),  # VNC Authentication, Tight
    (True, bytes([2])),
]


def from_client(message: bytes, dport: int = 5900) -> list[Observation]:
    return list(vnc.dissect(message, MessageContext("vnc", "tcp", CLIENT, SERVER, 50000, dport, 0)))


def from_server(message: bytes) -> list[Observation]:
    return list(vnc.dissect(message, MessageContext("vnc", "tcp", SERVER, CLIENT, 5900, 50000, 0)))


def test_the_client_version_is_a_remote_session() -> None:
    assert from_client(b"RFB 003.008\n") == [
        ProtocolRole(SERVER, "vnc", "server"),
        ProtocolRole(CLIENT, "vnc", "client"),
        Operation(CLIENT, SERVER, "vnc", "remote_session", 0, "ProtocolVersion"),
        Identity(CLIENT, "vnc", (("rfb_version", "3.8"),)),
    ]


def test_the_server_version_and_security_types_describe_the_server() -> None:
    assert Identity(SERVER, "vnc", (("rfb_version", "3.3"),)) in from_server(b"RFB 003.003\n")
    assert from_server(bytes([3, 1, 2, 19])) == [
        Identity(SERVER, "vnc", (("rfb_security_types", "None,VNC Authentication,VeNCrypt"),))
    ]


def test_what_is_no_type_list_is_not_read_as_one() -> None:
    assert from_server(bytes([2, 2, 2])) == []  # duplicates: bells, not a list
    assert from_server(bytes([1, 200])) == []  # unregistered
    assert from_server(bytes([0, 0, 0, 1])) == []  # a 3.3 type or a security result
    assert from_client(bytes([2, 2, 16])) == []  # the client sends no list


@pytest.mark.parametrize("port", [5900, 5999])
def test_a_session_through_the_engine(port: int, tmp_path: Path) -> None:
    capture = tmp_path / "vnc.pcap"
    capture.write_bytes(session_pcap(50000, port, HANDSHAKE))
    facts = dissected(capture)
    assert [CLIENT, SERVER, "vnc", "remote_session", 0, "ProtocolVersion", False, 1] in facts[
        "operations"
    ]
    assert [SERVER, "vnc", "rfb_security_types", "VNC Authentication,Tight"] in facts["identities"]
    assert [SERVER, "vnc", "server"] in facts["roles"]


@pytest.mark.oracle
def test_versions_match_tshark(tshark: str, tmp_path: Path) -> None:
    # tshark 4 leaves this security type list undecoded: versions only
    capture = tmp_path / "vnc.pcap"
    capture.write_bytes(session_pcap(50000, 5900, HANDSHAKE))
    out = subprocess.run(
        [tshark, "-r", str(capture), "-T", "fields", "-E", "separator=|",
         "-e", "ip.src", "-e", "vnc.server_proto_ver", "-e", "vnc.client_proto_ver"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    theirs = set()
    for line in out.splitlines():
        src, server, client = line.split("|")
        for version in (server, client):
            if version:
                major, minor = version.split(".")
                theirs.add((src, f"{int(major)}.{int(minor)}"))
    ours = {(a, v) for a, p, k, v in dissected(capture)["identities"] if k == "rfb_version"}
    assert ours == theirs == {(SERVER, "3.8"), (CLIENT, "3.8")}


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(st.binary(max_size=100), st.builds(lambda b: b"RFB " + b, st.binary(max_size=12))),
    st.sampled_from([(50000, 5900), (5900, 50000), (1, 2)]),
)
def test_vnc_dissector_never_raises(message: bytes, ports: tuple[int, int]) -> None:
    ctx = MessageContext("vnc", "tcp", CLIENT, SERVER, *ports, 0)
    for obs in vnc.dissect(message, ctx):
        assert isinstance(obs, OBSERVATIONS)
