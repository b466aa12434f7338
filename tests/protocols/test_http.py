"""HTTP dissector: request and status lines on built messages, the bundled
sample's IT identities on the right assets, tshark's view of the same
capture, and robustness."""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from otseam.decode.engine import _key_bytes
from otseam.ingest import ingest
from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols import http
from otseam.store.database import open_store
from otseam.store.queries import asset_rows
from otseam.store.schema import identities
from tests.test_golden_dissectors import GOLDEN, _dump, dissected

CLIENT, SERVER = "10.0.0.1", "10.0.0.2"
OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
SAMPLE = Path(str(resources.files("otseam") / "data" / "sample"))


def request(text: str, dport: int = 80) -> list[Observation]:
    ctx = MessageContext("http", "tcp", CLIENT, SERVER, 40000, dport, 0)
    return list(http.dissect(text.replace("\n", "\r\n").encode(), ctx))


def response(text: str) -> list[Observation]:
    ctx = MessageContext("http", "tcp", SERVER, CLIENT, 80, 40000, 0)
    return list(http.dissect(text.replace("\n", "\r\n").encode(), ctx))


def attributes(observations: list[Observation], address: str) -> dict[str, str]:
    return {
        k: v
        for o in observations
        if isinstance(o, Identity) and o.address == address
        for k, v in o.attributes
    }


@pytest.mark.parametrize(
    ("method", "operation", "code"),
    [("GET", "read", 1), ("HEAD", "read", 2), ("POST", "write", 3), ("PUT", "write", 4),
     ("DELETE", "write", 5), ("PATCH", "write", 9), ("BREW", "unknown", 0)],
)  # fmt: skip
def test_the_method_is_the_operation(method: str, operation: str, code: int) -> None:
    found = [o for o in request(f"{method} /x HTTP/1.1\nHost: a\n\n") if isinstance(o, Operation)]
    name = method if code else f"unknown-{method}"
    assert found == [Operation(CLIENT, SERVER, "http", operation, code, name)]


def test_user_agent_and_host_name_the_client_and_the_server() -> None:
    observations = request(
        "GET /trends HTTP/1.1\nHost: Historian.Plant.Example:8080\nUser-Agent: curl/8.5.0\n\n"
    )
    assert attributes(observations, CLIENT) == {"http_version": "1.1", "user_agent": "curl/8.5.0"}
    assert attributes(observations, SERVER) == {"http_host": "historian.plant.example"}
    assert ProtocolRole(SERVER, "http", "server") in observations
    assert ProtocolRole(CLIENT, "http", "client") in observations


def test_an_address_as_host_or_a_proxy_request_names_no_server() -> None:
    assert "http_host" not in attributes(request("GET / HTTP/1.1\nHost: 10.0.0.2:80\n\n"), SERVER)
    proxied = request("GET http://other.example/ HTTP/1.1\nHost: other.example\n\n")
    assert attributes(proxied, SERVER) == {}


def test_urls_query_strings_and_credentials_are_never_kept() -> None:
    observations = request(
        "GET /login?user=alice&password=s3cret HTTP/1.1\nHost: h.example\n"
        "Authorization: Basic YWxpY2U6czNjcmV0\nCookie: session=abc\n\n"
    )
    text = repr(observations)
    for secret in ("alice", "s3cret", "login", "YWxpY2U6czNjcmV0", "session"):
        assert secret not in text


def test_the_server_header_names_the_server_software() -> None:
    observations = response("HTTP/1.1 404 Not Found\nServer: Microsoft-IIS/10.0\n\n")
    assert attributes(observations, SERVER) == {
        "http_version": "1.1",
        "server_software": "Microsoft-IIS/10.0",
    }
    assert ProtocolRole(SERVER, "http", "server") in observations


def test_bodies_and_partial_lines_yield_nothing() -> None:
    assert request('{"tag": "TANK1.LEVEL", "value": 1200}') == []
    assert request("GET /no-version\n") == []
    assert request("") == []


def test_methods_fall_into_different_groups() -> None:
    keys = {
        _key_bytes(http.PROTOCOL, f"{m} /abc HTTP/1.1\r\n\r\n".encode())
        for m in ("GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS", "PROPFIND")
    }
    assert len(keys) == 8


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLE / "truth.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def sample_identities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[str, str]]]:
    """(attribute, value) pairs of the identities of each asset of the
    ingested sample, by the asset's IP addresses."""
    engine = open_store(str(tmp_path_factory.mktemp("sample") / "store.db"))
    report = ingest([str(SAMPLE / "plant.pcap")], engine)
    assert report.clean, report.all_problems
    with engine.connect() as conn:
        assets = asset_rows(conn)
        rows = conn.execute(
            select(identities.c.address, identities.c.attribute, identities.c.value)
        )
        by_address: dict[str, set[tuple[str, str]]] = {}
        for address, attribute, value in rows:
            by_address.setdefault(address, set()).add((attribute, value))
    found: dict[str, set[tuple[str, str]]] = {}
    for asset in assets:
        for ip in asset["ips"]:
            found.setdefault(ip, set()).update(
                pair for other in asset["ips"] for pair in by_address.get(other, set())
            )
    return found


def _ip(truth: dict[str, Any], name: str) -> str:
    device = next(a for a in truth["assets"] if a["name"] == name)
    ip: str = device["ips"][0]
    return ip


def test_sample_http_server_and_ssh_banners_are_identities_of_the_right_assets(
    truth: dict[str, Any], sample_identities: dict[str, set[tuple[str, str]]]
) -> None:
    erp = sample_identities[_ip(truth, "erp-01")]
    assert ("server_software", "Microsoft-IIS/10.0") in erp
    workstation = sample_identities[_ip(truth, "ws-01")]
    assert ("user_agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)") in workstation
    assert not any(k == "server_software" for k, _ in workstation)
    # every end of an SSH channel in the truth shows OpenSSH 9.2 on Debian 12
    ssh_ends = {end for c in truth["channels"] if c["kind"] == "ssh" for end in c["endpoints"]}
    ssh_ends |= {c["dst"] for c in truth["conversations"] if c["app_protocol"] == "ssh"}
    assert ssh_ends == {"vendor-01", "jump-01", "scada-01"}
    for name in ssh_ends:
        held = sample_identities[_ip(truth, name)]
        assert ("ssh_software", "OpenSSH_9.2p1") in held, name
        assert ("os_hint", "Debian 12") in held, name
    for device in truth["assets"]:
        if device["name"] not in ssh_ends:
            held = sample_identities.get(device["ips"][0], set())
            assert not any(k == "ssh_software" for k, _ in held), device["name"]


def _tshark_http(tshark: str, capture: Path) -> set[tuple[str, str, str]]:
    out = subprocess.run(
        [tshark, "-r", str(capture), "-Y", "http", "-T", "fields", "-E", "separator=|",
         "-e", "ip.src", "-e", "ip.dst", "-e", "http.user_agent", "-e", "http.server"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = set()
    for line in out.splitlines():
        src, _dst, agent, server = line.split("|")
        if agent:
            found.add((src, "user_agent", agent))
        if server:
            found.add((src, "server_software", server.strip()))
    return found


@pytest.mark.oracle
def test_user_agents_and_servers_match_tshark(tshark: str) -> None:
    capture = SAMPLE / "plant.pcap"
    ours = {
        (address, attribute, value)
        for address, protocol, attribute, value in dissected(capture)["identities"]
        if protocol == "http" and attribute in ("user_agent", "server_software")
    }
    assert ours == _tshark_http(tshark, capture)


@pytest.mark.oracle
def test_corpus_user_agents_match_tshark(tshark: str, corpus: Path) -> None:
    capture = corpus / "IEC61850" / "m-send-req.mms.pcap"
    ours = {
        (address, attribute, value)
        for address, protocol, attribute, value in dissected(capture)["identities"]
        if protocol == "http" and attribute in ("user_agent", "server_software")
    }
    assert ours == _tshark_http(tshark, capture)


def test_sample_http_matches_golden(update_golden: bool) -> None:
    data = dissected(SAMPLE / "plant.pcap")
    actual = {
        "operations": [r for r in data["operations"] if r[2] == "http"],
        "identities": [r for r in data["identities"] if r[1] == "http"],
        "roles": [r for r in data["roles"] if r[1] == "http"],
        "malformed": [r for r in data["malformed"] if r[2] == "http"],
    }
    actual = json.loads(json.dumps(actual))
    golden = GOLDEN / "http_plant_sample.json"
    if update_golden:
        golden.write_text(_dump(actual))
    assert actual == json.loads(golden.read_text())


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.builds(lambda b: b"GET / HTTP/1.1\r\n" + b, st.binary(max_size=300)),
        st.builds(lambda b: b"HTTP/1.1 200 OK\r\n" + b, st.binary(max_size=300)),
    ),
    st.sampled_from([(40000, 80), (80, 40000), (1, 2)]),
)
def test_http_dissector_never_raises(message: bytes, ports: tuple[int, int]) -> None:
    ctx = MessageContext("http", "tcp", CLIENT, SERVER, *ports, 0)
    for obs in http.dissect(message, ctx):
        assert isinstance(obs, OBSERVATIONS)
