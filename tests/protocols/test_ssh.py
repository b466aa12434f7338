"""SSH dissector: identification strings and roles on built messages, the
bundled sample against tshark's ssh.protocol, a golden file, and
robustness."""

from __future__ import annotations

import json
import subprocess
from importlib import resources
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
from otseam.protocols import ssh
from tests.protocols.test_tls import session_pcap
from tests.test_golden_dissectors import GOLDEN, _dump, dissected

A, B = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
SAMPLE = Path(str(resources.files("otseam") / "data" / "sample"))
BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"


def observe(message: bytes, sport: int, dport: int) -> list[Observation]:
    return list(ssh.dissect(message, MessageContext("ssh", "tcp", A, B, sport, dport, 0)))


def test_a_server_banner_names_software_comments_and_os() -> None:
    observations = observe(BANNER, 22, 50000)
    assert observations == [
        ProtocolRole(A, "ssh", "server"),
        ProtocolRole(B, "ssh", "client"),
        Identity(
            A,
            "ssh",
            (
                ("ssh_protocol", "2.0"),
                ("ssh_software", "OpenSSH_9.2p1"),
                ("ssh_comments", "Debian-2+deb12u10"),
                ("os_hint", "Debian 12"),
            ),
        ),
    ]


def test_the_client_is_the_side_away_from_port_22_or_on_the_higher_port() -> None:
    from_client = observe(BANNER, 50000, 22)
    assert from_client[0] == ProtocolRole(A, "ssh", "client")
    assert Operation(A, B, "ssh", "remote_session", 0, "Identification") in from_client
    assert observe(BANNER, 2222, 50000)[0] == ProtocolRole(A, "ssh", "server")
    assert observe(BANNER, 50000, 2222)[0] == ProtocolRole(A, "ssh", "client")


def test_lines_before_the_identification_are_skipped() -> None:
    found = observe(b"Welcome to the jump host\r\n" + b"SSH-2.0-dropbear_2022.83\r\n", 22, 4000)
    assert Identity(A, "ssh", (("ssh_protocol", "2.0"), ("ssh_software", "dropbear_2022.83"))) in (
        found
    )


@pytest.mark.parametrize(
    ("banner", "hint"),
    [("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10", "Ubuntu"),
     ("SSH-2.0-OpenSSH_for_Windows_8.1", "Windows"),
     ("SSH-1.99-Cisco-1.25", "Cisco IOS"),
     ("SSH-2.0-ROSSSH", "MikroTik RouterOS"),
     ("SSH-2.0-libssh_0.10.6", None)],
)  # fmt: skip
def test_os_hints(banner: str, hint: str | None) -> None:
    identity = next(
        o for o in observe(banner.encode() + b"\r\n", 22, 4000) if isinstance(o, Identity)
    )
    assert dict(identity.attributes).get("os_hint") == hint


def test_binary_packets_yield_nothing() -> None:
    kexinit = bytes.fromhex("000005dc0a14") + bytes(64)
    assert observe(kexinit, 22, 50000) == []
    assert observe(b"SSH-2.0-\r\n", 22, 50000) == []


@pytest.mark.oracle
def test_identification_strings_match_tshark(tshark: str) -> None:
    capture = SAMPLE / "plant.pcap"
    out = subprocess.run(
        [tshark, "-r", str(capture), "-Y", "ssh.protocol", "-T", "fields", "-E", "separator=|",
         "-e", "ip.src", "-e", "ssh.protocol"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    theirs = {tuple(line.split("|")) for line in out.splitlines()}
    found: dict[str, dict[str, str]] = {}
    for address, protocol, attribute, value in dissected(capture)["identities"]:
        if protocol == "ssh":
            found.setdefault(address, {})[attribute] = value
    ours = set()
    for address, a in found.items():
        text = f"SSH-{a['ssh_protocol']}-{a['ssh_software']}"
        ours.add((address, f"{text} {a['ssh_comments']}" if "ssh_comments" in a else text))
    assert ours == theirs
    assert len(ours) == 3


def test_ssh_on_another_port_is_found_by_its_signature(tmp_path: Path) -> None:
    capture = tmp_path / "ssh-2222.pcap"
    exchange = [(False, BANNER), (True, b"SSH-2.0-PuTTY_Release_0.80\r\n")]
    capture.write_bytes(session_pcap(50000, 2222, exchange, client=A, server=B))
    facts = dissected(capture)
    assert [B, "ssh", "ssh_software", "OpenSSH_9.2p1"] in facts["identities"]
    assert [A, "ssh", "ssh_software", "PuTTY_Release_0.80"] in facts["identities"]
    assert [B, "ssh", "server"] in facts["roles"]
    assert [A, "ssh", "client"] in facts["roles"]


def test_sample_ssh_matches_golden(update_golden: bool) -> None:
    data = dissected(SAMPLE / "plant.pcap")
    actual = json.loads(
        json.dumps(
            {
                "operations": [r for r in data["operations"] if r[2] == "ssh"],
                "identities": [r for r in data["identities"] if r[1] == "ssh"],
                "roles": [r for r in data["roles"] if r[1] == "ssh"],
                "malformed": [r for r in data["malformed"] if r[2] == "ssh"],
            }
        )
    )
    golden = GOLDEN / "ssh_plant_sample.json"
    if update_golden:
        golden.write_text(_dump(actual))
    assert actual == json.loads(golden.read_text())


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(st.binary(max_size=300), st.builds(lambda b: b"SSH-" + b, st.binary(max_size=300))),
    st.sampled_from([(50000, 22), (22, 50000), (1, 2)]),
)
def test_ssh_dissector_never_raises(message: bytes, ports: tuple[int, int]) -> None:
    for obs in observe(message, *ports):
        assert isinstance(obs, OBSERVATIONS)
