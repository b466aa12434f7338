"""``dual_homed``: one host with addresses in two zones, recognised by its
host name, its serial or one MAC; routers are left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.convergence_store import StoreBuilder, findings_of, plant


@pytest.fixture
def store(tmp_path: Path) -> StoreBuilder:
    return StoreBuilder(tmp_path / "store.db")


def test_one_host_name_in_an_it_and_an_ot_zone_is_critical(store: StoreBuilder) -> None:
    store.asset("10.1.0.40", role="engineering_workstation", macs=("02:00:00:00:01:40",))
    store.asset("10.10.0.40", role="engineering_workstation", macs=("02:00:00:00:02:40",))
    store.identity("10.1.0.40", "nbns", "name", "ENG-WS")
    store.identity("10.10.0.40", "mdns", "name", "eng-ws")
    result = store.analyse(plant())

    (dual,) = findings_of(result, "dual_homed")
    assert dual.severity == "critical"
    assert dual.zone == "cell"  # the OT side
    assert dual.title == "10.1.0.40 is dual-homed: 10.1.0.40, 10.10.0.40 in zones cell, office"
    assert dual.evidence["linked_by"] == "host name 'eng-ws'"
    assert dual.evidence["zones"] == ["cell", "office"]
    assert sorted(dual.evidence["macs"]) == ["02:00:00:00:01:40", "02:00:00:00:02:40"]
    assert dual.evidence["forwards"] is False
    assert {o.party for o in dual.owners} >= {"it-team", "ot-team"}


def test_a_host_between_the_dmz_and_ot_is_high(store: StoreBuilder) -> None:
    store.asset("10.3.0.40", role="historian")
    store.asset("10.20.0.40", role="historian")
    store.identity("10.3.0.40", "dhcp", "name", "hist01")
    store.identity("10.20.0.40", "dhcp", "name", "hist01")
    (dual,) = findings_of(store.analyse(plant()), "dual_homed")
    assert dual.severity == "high"


def test_one_serial_in_two_zones_is_one_host(store: StoreBuilder) -> None:
    store.asset("10.1.0.41", role="plc", serial="SN-123")
    store.asset("10.10.0.41", role="plc", serial="SN-123")
    (dual,) = findings_of(store.analyse(plant()), "dual_homed")
    assert dual.evidence["linked_by"] == "serial 'SN-123'"


def test_one_mac_with_addresses_in_two_zones_is_dual_homed(store: StoreBuilder) -> None:
    store.asset("10.1.0.42", "10.10.0.42", role="hmi", macs=("02:00:00:00:00:42",))
    (dual,) = findings_of(store.analyse(plant()), "dual_homed")
    assert dual.evidence["linked_by"] == "one MAC address"
    assert dual.evidence["ips"] == ["10.1.0.42", "10.10.0.42"]


def test_the_same_name_in_one_zone_is_not_dual_homed(store: StoreBuilder) -> None:
    store.asset("10.10.0.40", role="hmi")
    store.asset("10.10.0.41", role="hmi")
    store.identity("10.10.0.40", "mdns", "name", "panel")
    store.identity("10.10.0.41", "mdns", "name", "panel")
    assert findings_of(store.analyse(plant()), "dual_homed") == []


def test_a_generic_name_links_nothing(store: StoreBuilder) -> None:
    store.asset("10.1.0.40")
    store.asset("10.10.0.40")
    store.identity("10.1.0.40", "mdns", "name", "localhost")
    store.identity("10.10.0.40", "mdns", "name", "localhost")
    assert findings_of(store.analyse(plant()), "dual_homed") == []


def test_a_name_from_a_protocol_that_names_no_host_links_nothing(store: StoreBuilder) -> None:
    store.asset("10.1.0.40")
    store.asset("10.10.0.40")
    store.identity("10.1.0.40", "http", "name", "login-page")
    store.identity("10.10.0.40", "http", "name", "login-page")
    assert findings_of(store.analyse(plant()), "dual_homed") == []


def test_a_router_between_zones_is_not_dual_homed(store: StoreBuilder) -> None:
    store.asset(
        "10.1.0.1",
        "10.10.0.1",
        "10.20.0.1",
        role="network_device",
        macs=("02:00:00:00:00:01",),
        gateway=True,
    )
    store.identity("10.1.0.1", "snmp", "name", "core-fw")
    store.asset("10.3.0.1", role="network_device")
    store.identity("10.3.0.1", "snmp", "name", "core-fw")
    assert findings_of(store.analyse(plant()), "dual_homed") == []


def test_a_workstation_forwarding_between_zones_is_dual_homed(store: StoreBuilder) -> None:
    store.asset(
        "10.1.0.50", "10.10.0.50", role="it_workstation", macs=("02:00:00:00:00:50",), gateway=True
    )
    (dual,) = findings_of(store.analyse(plant()), "dual_homed")
    assert (dual.evidence["linked_by"], dual.evidence["forwards"]) == (
        "forwards between zones",
        True,
    )
