"""OPC UA binary dissector: services and identity on hand-built chunks, the
bundled sample against its truth, tshark as oracle, and random input."""

from __future__ import annotations

import json
import struct
import subprocess
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otseam.decode.engine import FrameDecoder, _key_bytes
from otseam.decode.reassembly import TcpStream
from otseam.model.capture import CaptureFacts
from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols import opcua
from otseam.sources.capture import CaptureSource, decode_capture

SAMPLE = Path(str(resources.files("otseam") / "data" / "sample"))
CORPUS_FILE = "OPC/opc-ua-ap-method-wireshark-freeze.pcap"
CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)


def ctx(sport: int = 50000, dport: int = 4840) -> MessageContext:
    return MessageContext("opcua", "tcp", CLIENT, SERVER, sport, dport, 0)


def chunk(kind: bytes, body: bytes, chunk_type: bytes = b"F") -> bytes:
    return kind + chunk_type + struct.pack("<I", len(body) + 8) + body


def msg(service: int, body: bytes = b"", sequence: int = 1, channel: int = 7) -> bytes:
    header = struct.pack("<IIII", channel, 1, sequence, sequence)
    return chunk(b"MSG", header + b"\x01\x00" + struct.pack("<H", service) + body)


def string(text: str | None) -> bytes:
    if text is None:
        return struct.pack("<i", -1)
    raw = text.encode()
    return struct.pack("<i", len(raw)) + raw


RESPONSE_HEADER = bytes(16) + b"\x00" + struct.pack("<i", -1) + b"\x00\x00\x00"
ENDPOINT = (
    string("opc.tcp://plc:4840")
    + string("urn:plc:server")  # application URI
    + string("urn:vendor:product")  # product URI
    + b"\x02"
    + string("PLC-7")  # application name
    + struct.pack("<I", 0)
    + string(None) * 2
    + struct.pack("<i", -1)
    + string(None)  # certificate
    + struct.pack("<I", 1)  # security mode None
    + string("http://opcfoundation.org/UA/SecurityPolicy#None")
    + struct.pack("<i", 0)
    + string(None)
    + b"\x00"
)
GET_ENDPOINTS_RESPONSE = msg(431, RESPONSE_HEADER + struct.pack("<i", 1) + ENDPOINT)


def run(message: bytes, context: MessageContext | None = None) -> list[Observation]:
    return list(opcua.dissect(message, context or ctx()))


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        (631, ("read", "ReadRequest")),
        (673, ("write", "WriteRequest")),
        (712, ("method_call", "CallRequest")),
        (488, ("config_change", "AddNodesRequest")),
        (500, ("config_change", "DeleteNodesRequest")),
        (527, ("browse", "BrowseRequest")),
        (428, ("identify", "GetEndpointsRequest")),
        (467, ("auth", "ActivateSessionRequest")),
    ],
)
def test_request_services_are_operations(service: int, expected: tuple[str, str]) -> None:
    found = [(o.operation, o.code_name) for o in run(msg(service)) if isinstance(o, Operation)]
    assert found == [expected]


def test_responses_give_roles_and_no_operation() -> None:
    found = run(msg(634), ctx(4840, 50000))
    assert not [o for o in found if isinstance(o, Operation)]
    assert {(o.address, o.role) for o in found if isinstance(o, ProtocolRole)} == {
        (CLIENT, "server"),
        (SERVER, "client"),
    }


def test_the_receiver_of_hello_is_the_server_on_any_port() -> None:
    hello = chunk(b"HEL", struct.pack("<IIIII", 0, 65536, 65536, 0, 0) + string("opc.tcp://x"))
    found = run(hello, ctx(50000, 12001))
    roles = {(o.address, o.role) for o in found if isinstance(o, ProtocolRole)}
    assert len(roles) == len(found)
    assert roles == {(SERVER, "server"), (CLIENT, "client")}
    assert any(s.value == b"HELF" for s in opcua.PROTOCOL.signatures)


def test_an_unreadable_body_gives_roles_by_port_only() -> None:
    encrypted = chunk(b"MSG", bytes(16) + b"\x9f\x33\x71\x02" + bytes(40))
    assert all(isinstance(o, ProtocolRole) for o in run(encrypted))
    assert run(encrypted, ctx(50000, 12001)) == []


def test_get_endpoints_response_gives_server_identity_and_insecure_mode() -> None:
    found = [o for o in run(GET_ENDPOINTS_RESPONSE, ctx(4840, 50000)) if isinstance(o, Identity)]
    assert [o.address for o in found] == [CLIENT]
    assert dict(found[0].attributes) == {
        "application_uri": "urn:plc:server",
        "product_uri": "urn:vendor:product",
        "name": "PLC-7",
        "security_mode": "None",
        "security_policy": "None",
        "insecure": "true",
    }


def test_a_first_chunk_keeps_what_it_holds() -> None:
    cut = GET_ENDPOINTS_RESPONSE[:-40]
    first = chunk(b"MSG", cut[8:], b"C")
    found = [o for o in run(first, ctx(4840, 50000)) if isinstance(o, Identity)]
    assert ("application_uri", "urn:plc:server") in found[0].attributes


def test_the_key_hides_sequence_and_request_ids_and_keeps_the_service() -> None:
    spec = opcua.PROTOCOL
    assert _key_bytes(spec, msg(631, sequence=5, channel=1)) == _key_bytes(
        spec, msg(631, sequence=900, channel=2)
    )
    assert _key_bytes(spec, msg(631)) != _key_bytes(spec, msg(673))


def test_framing_reassembles_a_chunk_split_across_segments() -> None:
    assert opcua.PROTOCOL.framing is not None
    stream = TcpStream(opcua.PROTOCOL.framing)
    whole = GET_ENDPOINTS_RESPONSE
    assert stream.add(1000, whole[:30]) == []
    assert stream.add(1030, whole[30:]) == [whole]


@pytest.mark.parametrize(
    "message",
    [b"XYZF\x10\x00\x00\x00" + bytes(8), chunk(b"MSG", bytes(30))[:20], msg(631) + b"\x01"],
    ids=["unknown-type", "truncated", "trailing-bytes"],
)
def test_broken_messages_are_malformed(message: bytes) -> None:
    assert any(isinstance(o, Malformed) for o in run(message))


def facts_of(path: Path) -> CaptureFacts:
    return decode_capture(
        CaptureSource(str(path), path, path.stat().st_size), FrameDecoder(strict=True)
    )


def identities(facts: CaptureFacts, address: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for addr, protocol, key, value in facts.identities:
        if addr == address and protocol == "opcua":
            found.setdefault(key, set()).add(value)
    return found


def test_sample_server_identity_is_the_truth() -> None:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    server = next(a for a in truth["assets"] if a["name"] == "opc-01")
    found = identities(facts_of(SAMPLE / "plant.pcap"), server["ips"][0])
    names = {"vendor": "vendor", "product": "product", "firmware": "firmware", "hostname": "name"}
    assert {names[k]: found.get(names[k]) for k in server["identity_on_wire"]} == {
        names[k]: {v} for k, v in server["identity_on_wire"].items()
    }
    assert found["insecure"] == {"true"}


def test_sample_write_is_seen_once() -> None:
    facts = facts_of(SAMPLE / "plant.pcap")
    writes = [(k, c.count) for k, c in facts.operations.items() if k[2:4] == ("opcua", "write")]
    assert writes == [
        (("10.30.0.10", "10.30.0.20", "opcua", "write", 673, "WriteRequest", False), 1)
    ]


def tshark_opcua(tshark: str, path: Path, port: int) -> tuple[Counter[int], set[str]]:
    """Request service ids tshark counts, and the application URIs servers send."""
    out = subprocess.run(
        [
            tshark,
            "-r",
            str(path),
            "-d",
            f"tcp.port=={port},opcua",
            "-Y",
            "opcua",
            "-T",
            "fields",
            "-E",
            "separator=;",
            "-e",
            "tcp.srcport",
            "-e",
            "opcua.servicenodeid.numeric",
            "-e",
            "opcua.ApplicationUri",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests: Counter[int] = Counter()
    uris: set[str] = set()
    for line in out.splitlines():
        sport, ids, uri = [*line.split(";"), "", ""][:3]
        for service in filter(None, ids.split(",")):
            if opcua.SERVICES.get(int(service), ("", "", False))[2]:
                requests[int(service)] += 1
        if sport == str(port) and uri:
            uris |= set(uri.split(","))
    return requests, uris


@pytest.mark.parametrize("name", ["corpus", "sample"])
def test_services_and_application_uris_agree_with_tshark(
    name: str, tshark: str, corpus: Path
) -> None:
    path, port = (
        (corpus / CORPUS_FILE, 12001) if name == "corpus" else (SAMPLE / "plant.pcap", 4840)
    )
    facts = facts_of(path)
    ours: Counter[int] = Counter()
    for key, counted in facts.operations.items():
        if key[2] == "opcua":
            ours[key[4]] += counted.count
    uris = {k[3] for k in facts.identities if k[1] == "opcua" and k[2] == "application_uri"}
    expected_requests, expected_uris = tshark_opcua(tshark, path, port)
    assert ours == expected_requests
    assert expected_uris and expected_uris <= uris


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([(50000, 4840), (4840, 50000), (1, 2)]))
def test_random_payloads_never_raise(payload: bytes, ports: tuple[int, int]) -> None:
    for message in (payload, chunk(b"MSG", payload), chunk(b"OPN", payload), msg(634, payload)):
        assert all(isinstance(o, OBSERVATIONS) for o in run(message, ctx(*ports)))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_truncated_and_flipped_identity_replies_never_raise(data: st.DataObject) -> None:
    message = GET_ENDPOINTS_RESPONSE
    cut = data.draw(st.integers(0, len(message)))
    mutated = bytearray(message)
    mutated[data.draw(st.integers(8, len(message) - 1))] = data.draw(st.integers(0, 255))
    for candidate in (message[:cut], bytes(mutated)):
        assert all(isinstance(o, OBSERVATIONS) for o in run(candidate, ctx(4840, 50000)))
