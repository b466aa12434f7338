"""RDP dissector: X.224 Connection Request and Confirm built per [MS-RDPBCGR]
2.2.1.1-2.2.1.2, the user name of the cookie never stored, tshark's view
of a built capture, and robustness."""

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
from otseam.protocols import rdp
from tests.protocols.test_tls import session_pcap
from tests.test_golden_dissectors import dissected

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
USER = b"j.doe"


def tpkt(x224: bytes) -> bytes:
    return struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224


def connection_request(cookie: bytes | None = USER, requested: int | None = 0x03) -> bytes:
    variable = b"Cookie: mstshash=" + cookie + b"\r\n" if cookie is not None else b""
    if requested is not None:
        variable += struct.pack("<BBHI", 1, 0, 8, requested)
    fixed = bytes([0xE0, 0, 0, 0, 0, 0])  # code, dst-ref, src-ref, class 0
    return tpkt(bytes([len(fixed) + len(variable)]) + fixed + variable)


def connection_confirm(kind: int = 2, value: int = 0x02) -> bytes:
    variable = struct.pack("<BBHI", kind, 0, 8, value)
    fixed = bytes([0xD0, 0, 0, 0x12, 0x34, 0])
    return tpkt(bytes([len(fixed) + len(variable)]) + fixed + variable)


def from_client(message: bytes) -> list[Observation]:
    return list(rdp.dissect(message, MessageContext("rdp", "tcp", CLIENT, SERVER, 50000, 3389, 0)))


def from_server(message: bytes) -> list[Observation]:
    return list(rdp.dissect(message, MessageContext("rdp", "tcp", SERVER, CLIENT, 3389, 50000, 0)))


def test_connection_request_is_a_remote_session_with_what_the_client_asks() -> None:
    observations = from_client(connection_request())
    assert observations == [
        Operation(CLIENT, SERVER, "rdp", "remote_session", 0xE0, "Connection Request"),
        ProtocolRole(SERVER, "rdp", "server"),
        ProtocolRole(CLIENT, "rdp", "client"),
        Identity(
            CLIENT,
            "rdp",
            (("rdp_cookie", "present"), ("rdp_requested_protocols", "TLS,CredSSP")),
        ),
    ]


def test_the_cookie_user_name_is_never_kept() -> None:
    whole = connection_request(b"Administrator.secret")
    for message in (whole, whole[:-3], whole[:20]):
        assert b"Administrator" not in repr(from_client(message)).encode()
        for obs in from_client(message):
            if isinstance(obs, Malformed):
                assert b"Admin" not in obs.raw


@pytest.mark.parametrize(
    ("cookie", "requested", "expected"),
    [(None, None, (("rdp_cookie", "absent"), ("rdp_requested_protocols", "RDP"))),
     (None, 0, (("rdp_cookie", "absent"), ("rdp_requested_protocols", "RDP"))),
     (USER, 0x0B,
      (("rdp_cookie", "present"), ("rdp_requested_protocols", "TLS,CredSSP,CredSSP-EX"))),
     (None, 0x101, (("rdp_cookie", "absent"), ("rdp_requested_protocols", "TLS,unknown-0x100")))],
)  # fmt: skip
def test_requested_protocols(
    cookie: bytes | None, requested: int | None, expected: tuple[tuple[str, str], ...]
) -> None:
    identity = [
        o for o in from_client(connection_request(cookie, requested)) if isinstance(o, Identity)
    ]
    assert identity == [Identity(CLIENT, "rdp", expected)]


def test_connection_confirm_names_the_selected_protocol_or_the_failure() -> None:
    assert Identity(SERVER, "rdp", (("rdp_selected_protocol", "CredSSP"),)) in from_server(
        connection_confirm()
    )
    failure = from_server(connection_confirm(kind=3, value=5))
    assert (
        Identity(SERVER, "rdp", (("rdp_selected_protocol", "failure: HYBRID_REQUIRED_BY_SERVER"),))
        in failure
    )
    assert ProtocolRole(SERVER, "rdp", "server") in failure


def test_tls_and_fast_path_after_the_start_yield_nothing() -> None:
    assert from_client(bytes.fromhex("1603010200010001fc0303") + bytes(40)) == []
    assert from_server(bytes.fromhex("0300000902f0802180")) == []  # X.224 data TPDU


@pytest.mark.oracle
def test_requested_protocols_and_cookie_match_tshark(tshark: str, tmp_path: Path) -> None:
    capture = tmp_path / "rdp.pcap"
    exchange = [(True, connection_request()), (False, connection_confirm())]
    capture.write_bytes(session_pcap(50000, 3389, exchange))
    out = subprocess.run(
        [tshark, "-r", str(capture), "-Y", "rdp.neg_type", "-T", "fields", "-E", "separator=|",
         "-e", "ip.src", "-e", "rdp.rt_cookie", "-e", "rdp.negReq.requestedProtocols",
         "-e", "rdp.negReq.selectedProtocol"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    request, confirm = (line.split("|") for line in out)
    facts = dissected(capture)
    assert request[0] == CLIENT and request[1] == "Cookie: mstshash=j.doe"
    assert int(request[2], 16) == 0x03
    assert [CLIENT, "rdp", "rdp_requested_protocols", "TLS,CredSSP"] in facts["identities"]
    assert int(confirm[3], 16) == 0x02
    assert [SERVER, "rdp", "rdp_selected_protocol", "CredSSP"] in facts["identities"]
    assert not any("j.doe" in str(row) for rows in facts.values() for row in rows)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(lambda b: b"\x03\x00" + b, st.binary(max_size=200)),
        st.builds(lambda n: connection_request()[:n], st.integers(0, 60)),
    ),
    st.sampled_from([(50000, 3389), (3389, 50000), (1, 2)]),
)
def test_rdp_dissector_never_raises(message: bytes, ports: tuple[int, int]) -> None:
    ctx = MessageContext("rdp", "tcp", CLIENT, SERVER, *ports, 0)
    for obs in rdp.dissect(message, ctx):
        assert isinstance(obs, OBSERVATIONS)
