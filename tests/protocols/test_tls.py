"""TLS dissector: hellos from a real OpenSSL handshake (Python's ssl module on
memory buffers), checked field by field, through the engine on a built
capture, against tshark, and for robustness."""

from __future__ import annotations

import datetime
import ssl
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from otseam.decode.engine import _key_bytes
from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols import tls
from tests.capturegen import NS, Packet, TcpFlag, ethernet, ipv4, pcap, tcp
from tests.test_golden_dissectors import dissected

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
SNI = "historian.plant.example"


def session_pcap(
    sport: int,
    dport: int,
    exchange: Sequence[tuple[bool, bytes]],
    client: str = CLIENT,
    server: str = SERVER,
) -> bytes:
    """A TCP connection (handshake, then ``(from_client, payload)`` segments)
    between two hosts, as an Ethernet pcap."""
    cmac, smac = "02:00:00:00:00:01", "02:00:00:00:00:02"
    seq = {True: 1000, False: 5000}
    packets: list[bytes] = []

    def send(from_client: bool, flags: TcpFlag, payload: bytes = b"") -> None:
        src, dst = (client, server) if from_client else (server, client)
        ports = (sport, dport) if from_client else (dport, sport)
        segment = tcp(*ports, flags, payload, seq[from_client], seq[not from_client])
        macs = (smac, cmac) if from_client else (cmac, smac)
        packets.append(ethernet(*macs, 0x0800, ipv4(src, dst, segment)))
        seq[from_client] += len(payload) + (1 if flags & TcpFlag.SYN else 0)

    send(True, TcpFlag.SYN)
    send(False, TcpFlag.SYN | TcpFlag.ACK)
    send(True, TcpFlag.ACK)
    for from_client, payload in exchange:
        send(from_client, TcpFlag.PSH | TcpFlag.ACK, payload)
    return pcap([Packet(NS * (1_700_000_000 + i), p) for i, p in enumerate(packets)])


def _certificate(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SNI)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(Encoding.PEM))
    key_path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def hellos(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """The client's first flight and the server's, from OpenSSL."""
    cert, key = _certificate(tmp_path_factory.mktemp("tls"))
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.set_alpn_protocols(["h2", "http/1.1"])
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.set_alpn_protocols(["h2", "http/1.1"])
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(to_client, to_server, server_hostname=SNI)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    client_hello = to_server.read()
    s_in.write(client_hello)
    with pytest.raises(ssl.SSLWantReadError):
        server.do_handshake()
    return client_hello, s_out.read()


def from_client(message: bytes, dport: int = 443) -> list[Observation]:
    return list(tls.dissect(message, MessageContext("tls", "tcp", CLIENT, SERVER, 40000, dport, 0)))


def from_server(message: bytes) -> list[Observation]:
    return list(tls.dissect(message, MessageContext("tls", "tcp", SERVER, CLIENT, 443, 40000, 0)))


def attributes(observations: list[Observation], address: str) -> dict[str, str]:
    return {
        k: v
        for o in observations
        if isinstance(o, Identity) and o.address == address
        for k, v in o.attributes
    }


def test_client_hello_names_the_server_and_what_the_client_offers(
    hellos: tuple[bytes, bytes],
) -> None:
    observations = from_client(hellos[0])
    assert attributes(observations, SERVER) == {"server_name": SNI}
    client = attributes(observations, CLIENT)
    assert client["tls_versions_offered"].split(",")[0] == "TLS 1.3"
    assert "TLS 1.2" in client["tls_versions_offered"]
    assert client["tls_alpn_offered"] == "h2,http/1.1"
    assert ProtocolRole(SERVER, "tls", "server") in observations
    assert ProtocolRole(CLIENT, "tls", "client") in observations


def test_server_hello_gives_the_chosen_version(hellos: tuple[bytes, bytes]) -> None:
    observations = from_server(hellos[1])
    assert attributes(observations, SERVER) == {"tls_version": "TLS 1.3"}
    assert ProtocolRole(SERVER, "tls", "server") in observations


def test_application_data_and_other_records_yield_nothing() -> None:
    assert from_client(bytes.fromhex("1703030010") + bytes(16)) == []
    assert from_client(b"\x15\x03\x03\x00\x02\x02\x28") == []  # alert


def test_a_client_hello_cut_by_the_segment_keeps_what_is_present(
    hellos: tuple[bytes, bytes],
) -> None:
    whole = hellos[0]
    sni_at = whole.index(SNI.encode())
    cut = from_client(whole[: sni_at + len(SNI) + 1])
    assert attributes(cut, SERVER) == {"server_name": SNI}
    assert attributes(from_client(whole[: sni_at - 2]), SERVER) == {}


def test_the_random_and_session_id_stay_out_of_the_key(hellos: tuple[bytes, bytes]) -> None:
    hello = bytearray(hellos[0])
    other = bytearray(hello)
    other[11:43] = bytes(range(32))  # random
    other[44:76] = bytes(32)  # session id (OpenSSL sends 32 bytes)
    assert hello[43] == 32
    assert _key_bytes(tls.PROTOCOL, bytes(hello)) == _key_bytes(tls.PROTOCOL, bytes(other))
    assert _key_bytes(tls.PROTOCOL, bytes(hello)) != _key_bytes(tls.PROTOCOL, hellos[1])


def test_grease_values_are_not_reported() -> None:
    versions = bytes([6]) + bytes.fromhex("7a7a03040303")
    assert tls._versions_offered(versions) == [0x0304, 0x0303]


@pytest.mark.oracle
def test_server_name_and_versions_match_tshark(
    hellos: tuple[bytes, bytes], tshark: str, tmp_path: Path
) -> None:
    capture = tmp_path / "tls.pcap"
    exchange = [(True, hellos[0]), (False, hellos[1])]
    capture.write_bytes(session_pcap(40000, 443, exchange) + b"")
    # tshark's fields for the hellos
    fields = subprocess.run(
        [tshark, "-r", str(capture), "-Y", "tls.handshake.type == 1", "-T", "fields",
         "-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.extensions_alpn_str"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    facts = dissected(capture)
    ours = {(a, k): v for a, p, k, v in facts["identities"] if p == "tls"}
    assert fields[0] == ours[(SERVER, "server_name")]
    assert fields[1] == ours[(CLIENT, "tls_alpn_offered")]


def test_tls_on_another_port_is_found_by_its_signature(
    hellos: tuple[bytes, bytes], tmp_path: Path
) -> None:
    capture = tmp_path / "tls-4433.pcap"
    capture.write_bytes(session_pcap(40000, 4433, [(True, hellos[0]), (False, hellos[1])]))
    facts = dissected(capture)
    assert [SERVER, "tls", "server_name", SNI] in facts["identities"]
    assert [SERVER, "tls", "tls_version", "TLS 1.3"] in facts["identities"]
    assert [SERVER, "tls", "server"] in facts["roles"]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([(40000, 443), (443, 40000), (1, 2)]))
def test_tls_dissector_never_raises(message: bytes, ports: tuple[int, int]) -> None:
    ctx = MessageContext("tls", "tcp", CLIENT, SERVER, *ports, 0)
    for obs in tls.dissect(b"\x16\x03\x01" + message, ctx):
        assert isinstance(obs, OBSERVATIONS)
    for obs in tls.dissect(message, ctx):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_truncated_and_damaged_hellos_never_raise(
    hellos: tuple[bytes, bytes], data: st.DataObject
) -> None:
    message = bytearray(hellos[data.draw(st.integers(0, 1))])
    for pos, value in data.draw(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)))):
        message[pos % len(message)] = value
    cut = data.draw(st.integers(0, len(message)))
    for obs in from_client(bytes(message[:cut])):
        assert isinstance(obs, OBSERVATIONS)
