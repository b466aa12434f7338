"""End to end: the bundled sample plant, ingested and analysed, agrees with the
truth file the lab wrote about it: zones, Purdue levels, crossings, the
dual-homed host, the channels and exactly the findings the truth lists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otseam.analysis.convergence import analyse
from otseam.ingest import ingest
from otseam.model.convergence import Convergence
from otseam.site.load import load_site
from otseam.site.model import Site
from otseam.store.database import open_store
from tests.truth_findings import finding_signatures

SAMPLE = Path(__file__).parents[1] / "src" / "otseam" / "data" / "sample"
Json = dict[str, Any]


@pytest.fixture(scope="module")
def truth() -> Json:
    loaded: Json = json.loads((SAMPLE / "truth.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = str(tmp_path_factory.mktemp("sample") / "plant.db")
    engine = open_store(db)
    ingest([str(SAMPLE / "plant.pcap")], engine)
    engine.dispose()
    yield db


def _analyse(db: str, site: Site) -> Convergence:
    with open_store(db).begin() as conn:
        return analyse(conn, site)


@pytest.fixture(scope="module")
def conv(store: str) -> Convergence:
    return _analyse(store, load_site(SAMPLE / "site.yaml"))


def test_exactly_the_findings_the_truth_lists(conv: Convergence, truth: Json) -> None:
    found, expected = finding_signatures(conv, truth)
    assert found == expected


def test_every_asset_sits_in_its_zones_at_its_purdue_level(conv: Convergence, truth: Json) -> None:
    by_ip = {ip: p for p in conv.placements for ip in p.ips}
    for asset in truth["assets"]:
        if asset["role"] == "network_device":
            continue  # the router is one asset per interface MAC: checked below
        for nic in asset["interfaces"]:
            place = by_ip[nic["ip"]]
            assert nic["zone"] in place.zones, (asset["name"], place)
            if asset["purdue_level"] is not None:
                assert place.purdue_level == asset["purdue_level"], (asset["name"], place)
    router = next(a for a in truth["assets"] if a["name"] == "fw-01")
    for nic in router["interfaces"]:
        assert by_ip[nic["ip"]].zone == nic["zone"]


def test_zones_and_levels_are_the_truths(conv: Convergence, truth: Json) -> None:
    zones = {z.name: (z.kind, z.purdue_level) for z in conv.zones}
    assert zones == {z["name"]: (z["kind"], z["purdue_level"]) for z in truth["zones"]}


def test_every_crossing_is_in_the_conduit_matrix_allowed_as_the_truth_says(
    conv: Convergence, truth: Json
) -> None:
    cells = {(c.src_zone, c.dst_zone): c for c in conv.conduits}
    for crossing in truth["crossings"]:
        cell = cells[(crossing["src_zone"], crossing["dst_zone"])]
        service = f"{crossing['app_protocol']}/{crossing['transport']}/{crossing['dst_port']}"
        assert service in cell.services, (crossing, cell.services)
        assert (service not in cell.denied_services) == crossing["allowed"], crossing


def test_channels_have_the_truths_status_and_manager(conv: Convergence, truth: Json) -> None:
    channels = {c.name: c for c in conv.channels}
    for channel in truth["channels"]:
        use = channels[channel["name"]]
        assert use.status == ("approved" if channel["approved"] else "unapproved")
        assert use.manager == channel["manager"]
        assert use.sessions >= 1 and use.bytes > 0
    assert set(channels) == {c["name"] for c in truth["channels"]}


def test_findings_name_the_people_on_both_sides(conv: Convergence) -> None:
    bypass = next(f for f in conv.findings if f.kind == "dmz_bypass")
    sides = {o.side for o in bypass.owners}
    assert {"it", "ot"} <= sides
    assert all(o.contact for o in bypass.owners if o.role == "zone_owner")


def test_without_a_site_file_the_proposed_zones_match_the_truths(store: str, truth: Json) -> None:
    conv = _analyse(store, Site())
    proposed = {z.cidrs: (z.kind, z.purdue_level) for z in conv.zones if z.cidrs}
    for zone in truth["zones"]:
        if zone["kind"] == "external":
            continue
        assert proposed[tuple(zone["cidrs"])] == (zone["kind"], zone["purdue_level"]), zone
    kinds = {f.kind for f in conv.findings}
    assert "unapproved_conduit" not in kinds  # no conduits stated, none can be broken
    assert {"dual_homed", "scan", "dmz_bypass", "it_ot_crossing"} <= kinds
