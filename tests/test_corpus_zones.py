"""Real single-subnet ICS captures from the public corpus: the convergence
analysis, with no site file, proposes one OT zone and reports no zone
crossing, bypass, scan or dual-homed host (there is nothing to cross)."""

from __future__ import annotations

from pathlib import Path

import pytest

from otseam.analysis.convergence import analyse
from otseam.ingest import ingest
from otseam.model.convergence import Convergence
from otseam.site.model import Site
from otseam.store.database import open_store

# (capture, its one private /24): each capture's IPv4 traffic stays in it
SINGLE_SUBNET = [
    ("ModbusTCP/modbus_test_data_part1.pcap", "10.0.0.0/24"),
    ("s7/s7comm_downloading_block_db1.pcap", "192.168.1.0/24"),
    ("dnp3/dnp3_test_data_part1.pcap", "10.0.0.0/24"),
    ("IEC60870-5-104/TestDissectIec104.pcap", "172.27.248.0/24"),
    ("BACnet/bacnet_test.pcap", "10.1.1.0/24"),
    ("OPC/opc-ua-ap-method-wireshark-freeze.pcap", "192.168.41.0/24"),
]
CROSSING_KINDS = {"it_ot_crossing", "dmz_bypass", "unapproved_conduit", "scan", "dual_homed"}


def analysed(corpus: Path, capture: str, tmp_path: Path) -> Convergence:
    path = corpus / capture
    if not path.is_file():
        pytest.skip(f"{capture} is not in the corpus at {corpus}")
    engine = open_store(str(tmp_path / "store.db"))
    try:
        report = ingest([str(path)], engine)
        assert [o.status for o in report.outcomes] == ["ingested"], report.all_problems
        with engine.begin() as conn:
            return analyse(conn, Site())
    finally:
        engine.dispose()


@pytest.mark.parametrize(("capture", "subnet"), SINGLE_SUBNET, ids=[c for c, _ in SINGLE_SUBNET])
def test_a_single_subnet_capture_is_one_ot_zone_with_no_crossing(
    corpus: Path, tmp_path: Path, capture: str, subnet: str
) -> None:
    result = analysed(corpus, capture, tmp_path)

    zones = [z for z in result.zones if z.kind != "external"]
    assert [(z.cidrs, z.source, z.kind) for z in zones] == [((subnet,), "suggested", "ot")]
    assert zones[0].assets >= 1
    false = [f"{f.kind}: {f.title}" for f in result.findings if f.kind in CROSSING_KINDS]
    assert false == []
    assert {(c.src_zone, c.dst_zone) for c in result.conduits} == {(zones[0].name, zones[0].name)}
