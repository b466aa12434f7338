"""otseam's conversations against tshark's, on corpus captures of many protocols.

Expected values come from tshark only (docs/oracle.md): per transport
5-tuple and per IP address pair, packets and bytes (frame.len) each way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.oracle import expected
from tests.oracle.captures import CAPTURES, CorpusCapture, by_id
from tests.oracle.model import differences
from tests.oracle.session import Oracle
from tests.oracle.store import export_conversations, ip_pairs
from tests.oracle.tables import merged, otseam_shown, tshark_shown

pytestmark = pytest.mark.oracle

CASES = [pytest.param(c, id=c.id) for c in CAPTURES]


@pytest.fixture(scope="session")
def oracle(tshark: str, corpus: Path) -> Oracle:
    return Oracle(tshark, corpus)


def test_enough_protocols_are_compared() -> None:
    assert len(CAPTURES) >= 12
    assert len({c.path.split("/")[0] for c in CAPTURES}) >= 12
    assert any(" " in c.path for c in CAPTURES)
    assert any(c.path.endswith(".pcapng") for c in CAPTURES)


@pytest.mark.parametrize("capture", CASES)
def test_every_frame_is_read(oracle: Oracle, capture: CorpusCapture) -> None:
    frames = oracle.frames(capture.path).frames
    assert frames, "tshark read no frames"
    assert oracle.stored(capture.path).packets == len(frames)


@pytest.mark.parametrize("capture", CASES)
def test_conversations_agree(oracle: Oracle, capture: CorpusCapture) -> None:
    want = expected.conversations(oracle.frames(capture.path).frames)
    got = oracle.stored(capture.path).conversations
    assert not differences(got, want)
    assert bool(want) is not capture.layer2


@pytest.mark.parametrize("capture", CASES)
def test_ip_pairs_agree(oracle: Oracle, capture: CorpusCapture) -> None:
    want = expected.ip_pairs(oracle.frames(capture.path).frames)
    got = ip_pairs(oracle.stored(capture.path).conversations)
    assert not differences(got, want)


@pytest.mark.parametrize("capture", CASES)
def test_ip_pairs_match_tshark_conv_ip(oracle: Oracle, capture: CorpusCapture) -> None:
    """The same pairs as tshark's own ``-z conv,ip`` and ``-z conv,ipv6``."""
    tables = oracle.tables(capture.path)
    shown = merged(tshark_shown(tables.ip + tables.ipv6, "ip"))
    got = otseam_shown(ip_pairs(oracle.stored(capture.path).conversations), "ip")
    assert not differences(got, shown)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("capture", CASES)
def test_transport_conversations_match_tshark_conv(
    oracle: Oracle, capture: CorpusCapture, transport: str
) -> None:
    """The same conversations as tshark's ``-z conv,tcp`` / ``-z conv,udp``,
    rows of one 5-tuple summed (see test_oracle_differences)."""
    rows = getattr(oracle.tables(capture.path), transport)
    shown = merged(tshark_shown(rows, transport))
    got = otseam_shown(oracle.stored(capture.path).conversations, transport)
    assert not differences(got, shown)


@pytest.mark.parametrize(
    "capture", [pytest.param(by_id(i), id=i) for i in ("enip-arp", "pcapng-ipv6")]
)
def test_cli_export_flows_agree(oracle: Oracle, capture: CorpusCapture, db: str) -> None:
    """The user's path: ``otseam ingest`` then ``otseam export`` JSON."""
    path = oracle.path(capture.path)
    ingested = run_cli("ingest", "--db", db, "--quiet", str(path))
    assert ingested.returncode == 0, ingested.stderr
    exported = run_cli("export", "--db", db)
    assert exported.returncode == 0, exported.stderr
    flows = json.loads(exported.stdout)["flows"]
    want = expected.conversations(oracle.frames(capture.path).frames)
    assert not differences(export_conversations(flows), want)
