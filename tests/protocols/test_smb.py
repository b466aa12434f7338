"""SMB dissector: SMB1/SMB2 negotiation and NTLMSSP names on built messages,
the corpus's NTLMSSP exchanges against tshark, and robustness."""

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
from otseam.protocols import smb
from tests.test_golden_dissectors import dissected

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
NTLM_CAPTURE = "openics/EIP-IPAddressChangeAttempt.pcap"


def session(pdu: bytes) -> bytes:
    return b"\x00" + len(pdu).to_bytes(3, "big") + pdu


def smb2(command: int, body: bytes, response: bool) -> bytes:
    header = b"\xfeSMB" + struct.pack("<HHIHHI", 64, 0, 0, command, 1, int(response))
    return session(header + bytes(64 - len(header)) + body)


def smb1_negotiate(*dialects: str) -> bytes:
    names = b"".join(b"\x02" + d.encode() + b"\x00" for d in dialects)
    header = b"\xffSMB" + bytes([0x72]) + bytes(27)
    return session(header + b"\x00" + struct.pack("<H", len(names)) + names)


def challenge(**names: str) -> bytes:
    """An NTLMSSP CHALLENGE with the given AV_PAIRs and version 10.0.19041."""
    ids = {"nb_computer": 1, "nb_domain": 2, "dns_computer": 3}
    info = b"".join(
        struct.pack("<HH", ids[k], len(v.encode("utf-16-le"))) + v.encode("utf-16-le")
        for k, v in names.items()
    ) + bytes(4)
    flags = smb.NEGOTIATE_VERSION | smb.NEGOTIATE_UNICODE
    head = b"NTLMSSP\x00" + struct.pack("<I", 2) + struct.pack("<HHI", 0, 0, 56)
    head += struct.pack("<I", flags) + bytes(16) + struct.pack("<HHI", len(info), len(info), 56)
    head += struct.pack("<BBH", 10, 0, 19041) + bytes([0, 0, 0, 15])
    return head + info


def observe(message: bytes, from_server: bool) -> list[Observation]:
    src, dst = (SERVER, CLIENT) if from_server else (CLIENT, SERVER)
    ports = (445, 50000) if from_server else (50000, 445)
    return list(smb.dissect(message, MessageContext("smb", "tcp", src, dst, *ports, 0)))


def attributes(observations: list[Observation]) -> dict[str, str]:
    return {k: v for o in observations if isinstance(o, Identity) for k, v in o.attributes}


def test_smb2_negotiation_names_the_dialects_offered_and_chosen() -> None:
    offer = (
        struct.pack("<HHHHI", 36, 3, 1, 0, 0) + bytes(24) + struct.pack("<HHH", 0x202, 0x300, 0x311)
    )
    assert attributes(observe(smb2(0, offer, False), False)) == {
        "smb_dialects_offered": "2.0.2,3.0,3.1.1"
    }
    answer = struct.pack("<HHH", 65, 1, 0x311) + bytes(58)
    observations = observe(smb2(0, answer, True), True)
    assert observations[:2] == [
        ProtocolRole(SERVER, "smb", "server"),
        ProtocolRole(CLIENT, "smb", "client"),
    ]
    assert attributes(observations) == {"smb_dialect": "3.1.1"}


def test_smb1_is_flagged_except_in_an_offer_that_includes_smb2() -> None:
    modern = attributes(observe(smb1_negotiate("NT LM 0.12", "SMB 2.002", "SMB 2.???"), False))
    assert modern == {"smb_dialects_offered": "NT LM 0.12,SMB 2.002,SMB 2.???"}
    legacy = attributes(observe(smb1_negotiate("NT LM 0.12"), False))
    assert legacy == {"smb_dialects_offered": "NT LM 0.12", "smb1": "true"}
    reply = session(b"\xffSMB" + bytes([0x72, 0, 0, 0, 0, 0x80]) + bytes(40))
    assert attributes(observe(reply, True)) == {"smb1": "true"}


def test_an_ntlmssp_challenge_names_the_server_and_its_windows_version() -> None:
    blob = challenge(nb_computer="HIST01", nb_domain="PLANT", dns_computer="hist01.plant.local")
    message = smb2(1, bytes(8) + blob, True)
    assert attributes(observe(message, True)) == {
        "smb2": "true",
        "name": "HIST01",
        "domain": "PLANT",
        "dns_name": "hist01.plant.local",
        "os_version": "10.0.19041",
        "os_hint": "Windows 10/11 or Server 2016+",
    }


def test_other_bytes_yield_nothing() -> None:
    assert observe(b"\x81\x00\x00\x44" + bytes(68), False) == []  # NetBIOS session request
    assert observe(bytes(100), True) == []


@pytest.mark.oracle
def test_ntlmssp_names_and_versions_match_tshark(tshark: str, corpus: Path) -> None:
    capture = corpus / NTLM_CAPTURE
    out = subprocess.run(
        [tshark, "-r", str(capture), "-Y", "ntlmssp.messagetype == 2 || ntlmssp.messagetype == 3",
         "-T", "fields", "-E", "separator=|", "-e", "ip.src", "-e", "ntlmssp.messagetype",
         "-e", "ntlmssp.challenge.target_info.nb_computer_name", "-e", "ntlmssp.auth.hostname",
         "-e", "ntlmssp.version.major", "-e", "ntlmssp.version.minor",
         "-e", "ntlmssp.version.build_number"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    theirs = set()
    for line in out.splitlines():
        src, _kind, computer, host, major, minor, build = line.split("|")
        theirs.add((src, "name", computer or host))
        theirs.add((src, "os_version", f"{major}.{minor}.{build}"))
    ours = {
        (a, k, v)
        for a, p, k, v in dissected(capture)["identities"]
        if p == "smb" and k in ("name", "os_version")
    }
    assert ours == theirs
    assert ("192.168.10.105", "name", "DBLICENSESERVER") in ours


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.builds(lambda b: session(b"\xfeSMB" + b), st.binary(max_size=200)),
        st.builds(lambda b: session(b"\xffSMB" + b), st.binary(max_size=200)),
        st.builds(
            lambda b: session(b"\xfeSMB" + bytes(60) + b"NTLMSSP\x00" + b), st.binary(max_size=200)
        ),
    ),
    st.booleans(),
)
def test_smb_dissector_never_raises(message: bytes, from_server: bool) -> None:
    for obs in observe(message, from_server):
        assert isinstance(obs, OBSERVATIONS)


@given(st.integers(0, 200))
def test_truncated_challenge(cut: int) -> None:
    blob = challenge(nb_computer="HIST01", nb_domain="PLANT")
    for obs in observe(smb2(1, bytes(8) + blob, True)[:cut], True):
        assert isinstance(obs, OBSERVATIONS)
