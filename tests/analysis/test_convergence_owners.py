"""Responsibilities (who owns, updates and is told about each asset, zone
and channel) and the ``unowned`` findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from otseam.model.convergence import Convergence, Responsibility
from tests.analysis.convergence_store import PLANT_ZONES, StoreBuilder, findings_of, plant, site

LAB_ZONE = "  - {name: lab, kind: ot, purdue_level: 2, cidrs: [10.30.0.0/24]}\n"
ASSETS = """
assets:
  - ips: [10.10.0.5]
    name: Press PLC
    owner: alice
    updated_by: integrator
    notify: [it-team]
    criticality: high
"""
PLC, HMI, LAB_PLC, LAB_SWITCH, STRAY = (
    "10.10.0.5",
    "10.10.0.6",
    "10.30.0.5",
    "10.30.0.1",
    "192.168.99.9",
)


@pytest.fixture
def result(tmp_path: Path) -> Convergence:
    store = StoreBuilder(tmp_path / "store.db")
    store.asset(PLC, role="plc")
    store.asset(HMI, role="hmi", name="hmi-06")
    store.asset(LAB_PLC, role="plc", name="lab-plc")
    store.asset(LAB_SWITCH, role="network_device", name="lab-switch")
    store.asset(STRAY, name="stray")
    store.asset("93.184.216.34")
    store.conversation(PLC, "93.184.216.34", 443, app="tls")
    return store.analyse(
        site(PLANT_ZONES.replace("monitoring:", LAB_ZONE + "monitoring:") + ASSETS)
    )


def owned(result: Convergence, kind: str, subject: str) -> Responsibility:
    found = [r for r in result.responsibilities if (r.subject_kind, r.subject) == (kind, subject)]
    assert len(found) == 1, [(r.subject_kind, r.subject) for r in result.responsibilities]
    return found[0]


def test_an_asset_owner_named_by_the_site_file_wins(result: Convergence) -> None:
    press = owned(result, "asset", "Press PLC")
    assert (press.owner, press.owner_source, press.zone) == ("alice", "site", "cell")
    assert (press.updated_by, press.criticality, press.role) == ("integrator", "high", "plc")
    # its own list, its owner, then the OT boundary monitor
    assert press.notify == ("it-team", "alice", "ot-team")


def test_an_asset_without_an_entry_inherits_its_zones_owner(result: Convergence) -> None:
    hmi = owned(result, "asset", "hmi-06")
    assert (hmi.owner, hmi.owner_source) == ("ot-team", "zone")
    assert hmi.updated_by is None  # nobody patches by inheritance
    assert hmi.notify == ("ot-team",)


def test_zones_are_owned_by_the_owner_the_site_names(result: Convergence) -> None:
    assert owned(result, "zone", "office").owner == "it-team"
    lab = owned(result, "zone", "lab")
    assert (lab.owner, lab.owner_source, lab.notify) == (None, "none", ())


def test_a_zone_with_no_owner_is_a_finding_naming_its_assets(result: Convergence) -> None:
    (lab,) = [f for f in findings_of(result, "unowned") if f.zone == "lab"]
    assert lab.severity == "medium"
    assert lab.title == "Zone lab has no owner (1 assets in it have none)"
    assert lab.assets == ("lab-plc",)  # the switch is no one's to own
    assert lab.evidence["subject_kind"] == "zone"


def test_a_channel_with_no_manager_is_a_finding(result: Convergence) -> None:
    (name,) = [c.name for c in result.channels]
    assert owned(result, "channel", name).owner is None
    (found,) = [f for f in findings_of(result, "unowned") if f.channel == name]
    assert found.title == f"Channel {name} has no owner"


def test_owned_zones_and_the_internet_are_no_finding(result: Convergence) -> None:
    subjects = {f.evidence.get("subject") for f in findings_of(result, "unowned")}
    assert subjects & {"office", "guest", "dmz", "operations", "cell", "internet"} == set()


def test_assets_in_no_zone_with_no_owner_are_listed_together(result: Convergence) -> None:
    (stray,) = [f for f in findings_of(result, "unowned") if f.zone is None and not f.channel]
    assert (stray.severity, stray.assets) == ("low", ("stray",))
    assert stray.title == "1 assets in no zone have no owner"


def test_a_finding_names_asset_owners_and_zone_owners_with_their_side(tmp_path: Path) -> None:
    store = StoreBuilder(tmp_path / "store.db")
    store.asset("10.1.0.7", role="it_workstation")
    store.asset(PLC, role="plc")
    store.conversation("10.1.0.7", PLC, 502, app="modbus")
    (crossing,) = findings_of(store.analyse(plant(ASSETS)), "it_ot_crossing")
    parties = {(o.party, o.role): (o.side, o.contact) for o in crossing.owners}
    assert parties[("alice", "owner")] == ("ot", None)  # alice is in ot-team
    assert parties[("it-team", "notify")] == ("it", "it@example.com")
    assert parties[("it-team", "zone_owner")] == ("it", "it@example.com")
    assert parties[("ot-team", "zone_owner")] == ("ot", "ot@example.com")
    assert ("ot-team", "monitoring") in parties
