"""TeamViewer-style recognition: the magic on built messages, the bundled
sample's session from scada-01 to the relay (truth.json), the signature on
another port, and robustness."""

from __future__ import annotations

import json
from importlib import resources
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
    Transport,
)
from otseam.protocols import teamviewer
from tests.protocols.test_tls import session_pcap
from tests.test_golden_dissectors import dissected

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
SAMPLE = Path(str(resources.files("otseam") / "data" / "sample"))
OPENING = bytes.fromhex("1724100010") + b"ID 1 234 567 890"  # the sample's first message


def observe(
    message: bytes, sport: int, dport: int, transport: Transport = "tcp"
) -> list[Observation]:
    ctx = MessageContext("teamviewer", transport, CLIENT, SERVER, sport, dport, 0)
    return list(teamviewer.dissect(message, ctx))


def test_a_client_message_is_a_remote_session_to_the_side_on_5938() -> None:
    assert observe(OPENING, 42268, 5938) == [
        ProtocolRole(SERVER, "teamviewer", "server"),
        ProtocolRole(CLIENT, "teamviewer", "client"),
        Operation(CLIENT, SERVER, "teamviewer", "remote_session", 0x1724, "TeamViewer message"),
    ]
    assert observe(OPENING, 5938, 42268) == [
        ProtocolRole(CLIENT, "teamviewer", "server"),
        ProtocolRole(SERVER, "teamviewer", "client"),
    ]


def test_without_the_magic_or_on_udp_nothing_is_said() -> None:
    assert observe(b"\x16\x03\x01\x00\x05hello", 42268, 5938) == []
    assert observe(OPENING, 42268, 5938, transport="udp") == []


def test_sample_session_goes_from_scada_to_the_relay() -> None:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    channel = next(c for c in truth["channels"] if c["kind"] == "teamviewer")
    ips = {a["name"]: a["ips"][0] for a in truth["assets"]}
    relay, scada = (ips[name] for name in channel["endpoints"])
    facts = dissected(SAMPLE / "plant.pcap")
    sessions = [r for r in facts["operations"] if r[2] == "teamviewer"]
    assert [r[:6] for r in sessions] == [
        [scada, relay, "teamviewer", "remote_session", 0x1724, "TeamViewer message"]
    ]
    assert [relay, "teamviewer", "server"] in facts["roles"]
    assert [scada, "teamviewer", "client"] in facts["roles"]


def test_the_signature_finds_it_on_another_port(tmp_path: Path) -> None:
    capture = tmp_path / "tv.pcap"
    capture.write_bytes(session_pcap(42268, 443 + 10000, [(True, OPENING), (False, OPENING)]))
    facts = dissected(capture)
    assert [SERVER, "teamviewer", "server"] in facts["roles"]
    assert any(r[2] == "teamviewer" and r[0] == CLIENT for r in facts["operations"])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=100), st.sampled_from([(42268, 5938), (5938, 42268), (1, 2)]))
def test_teamviewer_dissector_never_raises(message: bytes, ports: tuple[int, int]) -> None:
    for obs in observe(b"\x17\x24" + message, *ports):
        assert isinstance(obs, OBSERVATIONS)
    for obs in observe(message, *ports):
        assert isinstance(obs, OBSERVATIONS)
