"""Zones and placements: the site file's zones (by CIDR and VLAN), the
``internet`` zone for public addresses, zones proposed from traffic when
there is no site file, and each asset's zone and Purdue level."""

from __future__ import annotations

from pathlib import Path

import pytest

from otseam.model.convergence import Convergence, Placement, ZoneUse
from otseam.site.model import Site
from tests.analysis.convergence_store import StoreBuilder, site

PLANT = site(
    """
version: 1
site: {name: Test plant}
teams:
  - {name: it-team, kind: it}
  - {name: ot-team, kind: ot}
zones:
  - {name: office, kind: it, purdue_level: 4, cidrs: [10.1.0.0/24], owner: it-team}
  - {name: cell, kind: ot, purdue_level: 1, cidrs: [10.10.0.0/24], owner: ot-team}
  - {name: lab, kind: ot, purdue_level: 2, vlans: [30], owner: ot-team}
assets:
  - {ips: [10.10.0.5], name: Press PLC, purdue_level: 0}
"""
)


@pytest.fixture
def store(tmp_path: Path) -> StoreBuilder:
    return StoreBuilder(tmp_path / "store.db")


def zone(result: Convergence, name: str) -> ZoneUse:
    found = [z for z in result.zones if z.name == name]
    assert len(found) == 1, [z.name for z in result.zones]
    return found[0]


def placed(result: Convergence, ip: str) -> Placement:
    return next(p for p in result.placements if ip in p.ips)


def cells(result: Convergence) -> set[tuple[str, str]]:
    return {(c.src_zone, c.dst_zone) for c in result.conduits}


# -- zones from the site file ---------------------------------------------------


def test_site_zones_are_the_files_with_their_asset_counts(store: StoreBuilder) -> None:
    store.asset("10.1.0.7", role="it_workstation")
    store.asset("10.10.0.5", role="plc")
    store.asset("10.10.0.6", role="hmi")
    result = store.analyse(PLANT)

    assert result.site_given and result.site_name == "Test plant"
    office = zone(result, "office")
    assert (office.kind, office.purdue_level, office.cidrs, office.owner) == (
        "it",
        4,
        ("10.1.0.0/24",),
        "it-team",
    )
    assert (office.source, office.evidence, office.assets) == ("site", "stated in test.yaml", 1)
    assert zone(result, "cell").assets == 2
    lab = zone(result, "lab")
    assert (lab.cidrs, lab.vlans, lab.purdue_level) == ((), (30,), 2)
    assert placed(result, "10.1.0.7").zone == "office"
    assert placed(result, "10.10.0.6").zone == "cell"


def test_an_address_seen_on_a_zones_vlan_is_in_that_zone(store: StoreBuilder) -> None:
    store.asset("172.16.5.2", role="plc")
    store.asset("172.16.5.3", role="hmi")
    store.conversation("172.16.5.3", "172.16.5.2", 502, app="modbus", vlan=30)
    result = store.analyse(PLANT)

    assert placed(result, "172.16.5.2").zone == "lab"
    assert zone(result, "lab").assets == 2
    assert cells(result) == {("lab", "lab")}


def test_public_addresses_fall_in_an_internet_zone(store: StoreBuilder) -> None:
    store.asset("10.1.0.7", role="it_workstation")
    store.asset("93.184.216.34")
    store.conversation("10.1.0.7", "93.184.216.34", 443, app="tls")
    result = store.analyse(PLANT)

    internet = zone(result, "internet")
    assert (internet.kind, internet.source, internet.purdue_level, internet.assets) == (
        "external",
        "suggested",
        None,
        1,
    )
    assert placed(result, "93.184.216.34").zone == "internet"
    assert cells(result) == {("office", "internet")}


@pytest.mark.parametrize("given", [PLANT, Site()], ids=["site", "suggested"])
def test_a_public_address_that_never_answered_is_in_the_internet_zone(
    store: StoreBuilder, given: Site
) -> None:
    store.asset("10.10.0.5", role="plc")
    store.conversation("10.10.0.5", "93.184.216.34", 443, app="tls", answered=False)
    result = store.analyse(given)

    assert zone(result, "internet").kind == "external"
    assert {c.dst_zone for c in result.conduits} == {"internet"}
    assert [c.status for c in result.channels] == ["unknown"]


def test_no_internet_zone_without_public_addresses(store: StoreBuilder) -> None:
    store.asset("10.1.0.7", role="it_workstation")
    result = store.analyse(PLANT)
    assert "internet" not in {z.name for z in result.zones}


@pytest.mark.parametrize("given", [PLANT, Site()], ids=["site", "suggested"])
def test_multicast_is_in_no_zone(store: StoreBuilder, given: Site) -> None:
    store.asset("10.10.0.5", role="plc")
    store.conversation("10.10.0.5", "239.192.0.1", 2222, transport="udp", answered=False)
    result = store.analyse(given)

    assert "external" not in {z.kind for z in result.zones}
    assert len(result.zones) == max(len(given.zones), 1)
    assert result.edges == ()  # a multicast group is nobody's asset: no edge to it
    assert result.conduits == ()  # nor a conduit
    assert {f.kind for f in result.findings} <= {"unowned"}


def test_an_address_outside_every_site_zone_is_placed_nowhere(store: StoreBuilder) -> None:
    store.asset("192.168.200.9")
    result = store.analyse(PLANT)
    place = placed(result, "192.168.200.9")
    assert (place.zone, place.zones, place.purdue_level) == (None, (), None)
    assert place.evidence.startswith("no address in a zone")


# -- zones proposed without a site file ------------------------------------------


def test_without_a_site_file_each_subnet_is_a_suggested_zone(store: StoreBuilder) -> None:
    store.asset("192.168.1.10", role="plc")
    store.asset("192.168.1.20", role="hmi")
    store.asset("192.168.2.5", role="historian")
    store.asset("192.168.2.1", role="network_device", gateway=True)
    store.asset("192.168.3.50", role="it_workstation")
    store.asset("192.168.3.51", role="it_workstation")
    result = store.analyse()

    assert not result.site_given
    assert {z.source for z in result.zones} == {"suggested"}
    ot = zone(result, "ot-192.168.1")
    assert (ot.kind, ot.purdue_level, ot.cidrs, ot.assets) == ("ot", 1, ("192.168.1.0/24",), 2)
    assert "1 plc" in ot.evidence and "1 hmi" in ot.evidence
    dmz = zone(result, "dmz-192.168.2")
    assert (dmz.kind, dmz.purdue_level, dmz.assets) == ("dmz", 3.5, 2)
    it = zone(result, "it-192.168.3")
    assert (it.kind, it.purdue_level, it.assets) == ("it", 4, 2)
    assert len(result.zones) == 3


def test_an_ot_subnet_takes_the_level_of_its_lowest_control_role(store: StoreBuilder) -> None:
    store.asset("192.168.7.10", role="scada_server")
    store.asset("192.168.7.20", role="hmi")
    result = store.analyse()
    assert zone(result, "ot-192.168.7").purdue_level == 2


def test_a_subnet_with_a_historian_and_a_workstation_is_it(store: StoreBuilder) -> None:
    store.asset("192.168.2.5", role="historian")
    store.asset("192.168.2.6", role="it_workstation")
    result = store.analyse()
    assert zone(result, "it-192.168.2").kind == "it"


def test_suggested_zoning_puts_public_addresses_in_internet(store: StoreBuilder) -> None:
    store.asset("192.168.1.10", role="plc")
    store.asset("203.0.113.8")
    result = store.analyse()
    assert zone(result, "internet").kind == "external"
    assert placed(result, "203.0.113.8").zone == "internet"


# -- placements --------------------------------------------------------------------


def test_an_hmi_in_an_ot_zone_sits_at_purdue_level_2(store: StoreBuilder) -> None:
    store.asset("10.10.0.6", role="hmi")
    store.asset("10.1.0.6", role="hmi")
    result = store.analyse(PLANT)

    hmi = placed(result, "10.10.0.6")
    assert (hmi.zone, hmi.purdue_level) == ("cell", 2)
    assert "Purdue level 2 for a hmi in an OT zone" in hmi.evidence
    # outside OT the role says nothing: the zone's level holds
    assert placed(result, "10.1.0.6").purdue_level == 4


def test_an_asset_with_no_control_role_takes_its_zones_level(store: StoreBuilder) -> None:
    store.asset("10.10.0.9", role="unknown")
    place = placed(store.analyse(PLANT), "10.10.0.9")
    assert (place.purdue_level, place.evidence) == (1, "10.10.0.9 in cell; zone's Purdue level")


def test_a_site_asset_entry_renames_the_asset_and_sets_its_level(store: StoreBuilder) -> None:
    store.asset("10.10.0.5", role="plc", name="plc-0815")
    store.asset("10.10.0.7", role="plc", name="plc-0816")
    result = store.analyse(PLANT)

    press = placed(result, "10.10.0.5")
    assert (press.name, press.purdue_level) == ("Press PLC", 0)
    assert press.evidence.endswith("Purdue level from the site file")
    assert placed(result, "10.10.0.7").name == "plc-0816"


def test_an_unnamed_asset_is_named_by_its_first_address(store: StoreBuilder) -> None:
    store.asset("10.10.0.8", "10.10.0.18", role="plc")
    assert placed(store.analyse(PLANT), "10.10.0.8").name == "10.10.0.8"


def test_a_host_in_two_zones_belongs_to_the_one_its_role_belongs_in(
    store: StoreBuilder,
) -> None:
    store.asset(
        "10.1.0.30", "10.10.0.30", role="engineering_workstation", macs=("02:00:00:00:00:30",)
    )
    store.asset("10.1.0.31", "10.10.0.31", role="it_workstation", macs=("02:00:00:00:00:31",))
    result = store.analyse(PLANT)

    ews = placed(result, "10.1.0.30")
    assert (ews.zone, ews.zones) == ("cell", ("cell", "office"))
    assert placed(result, "10.1.0.31").zone == "office"


def test_without_a_site_file_vlans_split_a_subnet_into_zones(store: StoreBuilder) -> None:
    store.asset("10.50.0.10", role="plc")
    store.asset("10.50.0.11", role="hmi")
    store.asset("10.50.0.20", role="it_workstation")
    store.asset("10.50.0.21", role="it_server")
    store.conversation("10.50.0.11", "10.50.0.10", 502, app="modbus", vlan=30)
    store.conversation("10.50.0.20", "10.50.0.21", 80, app="http", vlan=10)
    result = store.analyse(Site())

    found = {(z.name, z.kind, z.vlans) for z in result.zones}
    assert found == {("ot-10.50.0-vlan30", "ot", (30,)), ("it-10.50.0-vlan10", "it", (10,))}
    assert placed(result, "10.50.0.10").zone == "ot-10.50.0-vlan30"
    assert placed(result, "10.50.0.21").zone == "it-10.50.0-vlan10"


def test_without_a_site_file_one_vlan_names_no_split(store: StoreBuilder) -> None:
    store.asset("10.60.0.10", role="plc")
    store.asset("10.60.0.11", role="hmi")
    store.conversation("10.60.0.11", "10.60.0.10", 502, app="modbus", vlan=40)
    (zone,) = store.analyse(Site()).zones
    assert (zone.name, zone.vlans, zone.evidence.startswith("subnet 10.60.0.0/24 on VLAN 40")) == (
        "ot-10.60.0",
        (40,),
        True,
    )
