"""External channels matched against the site's register (approved,
outside_window, unapproved, unknown, unused) and remote access into OT."""

from __future__ import annotations

from pathlib import Path

import pytest

from otseam.model.convergence import ChannelUse, Convergence
from tests.analysis.convergence_store import (
    PLANT_ZONES,
    T0,
    StoreBuilder,
    at,
    findings_of,
    plant,
    site,
)

REGISTER = """
conduits:
  - {name: admin-ssh, from: office, to: operations, services: [{protocol: ssh}]}
channels:
  - name: vendor-vpn
    kind: vpn
    vendor: Acme
    outside: [198.51.100.0/24]
    inside: [10.10.0.0/24]
    transport: udp
    port: 500
    approved: true
    manager: integrator
  - name: weekend-support
    kind: remote_desktop
    outside: [203.0.113.50/32]
    port: 5938
    approved: true
    manager: ot-team
    windows: [{days: [sat, sun], start: "08:00", end: "12:00"}]
  - {name: old-modem, kind: cellular_gateway, outside: [192.0.2.77/32], approved: false}
  - {name: spare-link, kind: vpn, outside: [192.0.2.200/32], approved: true, manager: it-team}
"""
WS, HISTORIAN, PLC, HMI, SCADA = "10.1.0.7", "10.3.0.5", "10.10.0.5", "10.10.0.6", "10.20.0.9"
VENDOR, SUPPORT, MODEM, CLOUD = "198.51.100.9", "203.0.113.50", "192.0.2.77", "93.184.216.34"
SATURDAY_MORNING = at("2024-03-09T09:00")


@pytest.fixture
def store(tmp_path: Path) -> StoreBuilder:
    builder = StoreBuilder(tmp_path / "store.db")
    builder.asset(WS, role="it_workstation", name="ws-07")
    builder.asset(HISTORIAN, role="historian")
    builder.asset(PLC, role="plc", name="plc-05")
    builder.asset(HMI, role="hmi", name="hmi-06")
    builder.asset(SCADA, role="scada_server")
    for outside in (VENDOR, SUPPORT, MODEM, CLOUD):
        builder.asset(outside)
    return builder


def channel(result: Convergence, name: str) -> ChannelUse:
    found = [c for c in result.channels if c.name == name]
    assert len(found) == 1, [c.name for c in result.channels]
    return found[0]


def channel_findings(result: Convergence) -> dict[str | None, str]:
    return {f.channel: f.severity for f in findings_of(result, "external_channel")}


# -- the register ------------------------------------------------------------------------


def test_a_registered_approved_channel_is_approved_and_no_finding(store: StoreBuilder) -> None:
    store.conversation(PLC, VENDOR, 500, transport="udp", app="ike", packets=6, size=900)
    result = store.analyse(plant(REGISTER))

    vpn = channel(result, "vendor-vpn")
    assert (vpn.status, vpn.registered, vpn.approved, vpn.kind) == ("approved", True, True, "vpn")
    assert (vpn.manager, vpn.vendor, vpn.inside, vpn.outside) == (
        "integrator",
        "Acme",
        (PLC,),
        (VENDOR,),
    )
    assert (vpn.services, vpn.sessions, vpn.packets, vpn.bytes) == (("ike/udp/500",), 1, 6, 900)
    assert "vendor-vpn" not in channel_findings(result)


def test_an_approved_channel_used_outside_its_window_is_a_finding(store: StoreBuilder) -> None:
    store.conversation(SUPPORT, HMI, 5938, app="teamviewer", first_seen=T0)  # a Wednesday
    result = store.analyse(plant(REGISTER))

    assert channel(result, "weekend-support").status == "outside_window"
    (found,) = [
        f for f in findings_of(result, "external_channel") if f.channel == "weekend-support"
    ]
    assert found.severity == "medium"
    assert found.title == "Channel weekend-support used outside its maintenance window"
    assert found.zone == "cell"
    assert "ot-team" in {o.party for o in found.owners if o.role == "manager"}


def test_an_approved_channel_used_inside_its_window_is_approved(store: StoreBuilder) -> None:
    store.conversation(SUPPORT, HMI, 5938, app="teamviewer", first_seen=SATURDAY_MORNING)
    result = store.analyse(plant(REGISTER))
    assert channel(result, "weekend-support").status == "approved"
    assert "weekend-support" not in channel_findings(result)
    # an approved channel's sessions are no remote-access finding either
    assert findings_of(result, "remote_access") == []


def test_maintenance_windows_are_in_the_sites_time_zone(store: StoreBuilder) -> None:
    register = REGISTER.replace("days: [sat, sun]", "days: mon-fri")
    berlin = PLANT_ZONES.replace("timezone: UTC", "timezone: Europe/Berlin")
    # 11:30 UTC is 12:30 in Berlin (winter time): past the window's end
    store.conversation(SUPPORT, HMI, 5938, app="teamviewer", first_seen=at("2024-03-06T11:30"))
    assert channel(store.analyse(site(berlin + register)), "weekend-support").status == (
        "outside_window"
    )
    assert channel(store.analyse(plant(register)), "weekend-support").status == "approved"


def test_a_registered_channel_not_approved_is_critical(store: StoreBuilder) -> None:
    store.conversation(SCADA, MODEM, 443, app="tls")
    result = store.analyse(plant(REGISTER))
    assert channel(result, "old-modem").status == "unapproved"
    assert channel_findings(result)["old-modem"] == "critical"


def test_unregistered_traffic_between_ot_and_the_internet_is_unknown(
    store: StoreBuilder,
) -> None:
    store.conversation(PLC, CLOUD, 443, app="tls")
    result = store.analyse(plant(REGISTER))

    name = f"plc-05 <-> {CLOUD} (tls)"
    unknown = channel(result, name)
    assert (unknown.status, unknown.registered, unknown.approved) == ("unknown", False, None)
    assert channel_findings(result)[name] == "high"
    (found,) = [f for f in findings_of(result, "external_channel") if f.channel == name]
    assert found.title == f"Unregistered external channel {name}"


def test_a_dmz_talking_to_the_internet_is_a_channel(store: StoreBuilder) -> None:
    store.conversation(HISTORIAN, CLOUD, 443, app="tls")
    result = store.analyse(plant())
    assert [c.status for c in result.channels] == ["unknown"]


def test_a_vpn_from_ot_into_it_is_a_channel(store: StoreBuilder) -> None:
    store.conversation(PLC, WS, 1194, transport="udp", app="openvpn")
    result = store.analyse(plant())
    (vpn,) = result.channels
    assert (vpn.kind, vpn.inside, vpn.outside) == ("vpn", (PLC,), (WS,))


def test_it_talking_to_the_internet_is_no_channel(store: StoreBuilder) -> None:
    store.conversation(WS, CLOUD, 443, app="tls")
    result = store.analyse(plant())
    assert result.channels == ()
    assert findings_of(result, "external_channel") == []


def test_a_registered_channel_never_seen_is_unused(store: StoreBuilder) -> None:
    result = store.analyse(plant(REGISTER))
    spare = channel(result, "spare-link")
    assert (spare.status, spare.sessions, spare.first_seen, spare.outside) == (
        "unused",
        0,
        None,
        ("192.0.2.200/32",),
    )
    assert channel_findings(result) == {}


# -- remote_access ------------------------------------------------------------------------


def test_rdp_from_it_into_ot_without_a_conduit_is_remote_access(store: StoreBuilder) -> None:
    store.conversation(WS, SCADA, 3389, app="rdp")
    (found,) = findings_of(store.analyse(plant(REGISTER)), "remote_access")
    assert found.severity == "critical"
    assert (
        found.title
        == "Remote access (rdp) into operations: ws-07 (office) -> 10.20.0.9 (operations)"
    )
    assert (found.evidence["tool"], found.evidence["inside"]) == ("rdp", SCADA)


def test_ssh_a_conduit_allows_is_no_remote_access_finding(store: StoreBuilder) -> None:
    store.conversation(WS, SCADA, 22, app="ssh")
    assert findings_of(store.analyse(plant(REGISTER)), "remote_access") == []


def test_ssh_the_conduit_does_not_cover_is_remote_access(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 22)  # no application label: the port says ssh
    (found,) = findings_of(store.analyse(plant(REGISTER)), "remote_access")
    assert found.evidence["tool"] == "ssh"


def test_an_unanswered_ssh_probe_is_no_remote_access(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 22, app="ssh", answered=False)
    assert findings_of(store.analyse(plant(REGISTER)), "remote_access") == []


def test_remote_access_inside_one_zone_is_no_finding(store: StoreBuilder) -> None:
    store.conversation(HMI, PLC, 5900, app="vnc")
    assert findings_of(store.analyse(plant(REGISTER)), "remote_access") == []


def test_remote_access_from_ot_to_ot_is_high(store: StoreBuilder) -> None:
    store.conversation(SCADA, HMI, 5900, app="vnc")
    (found,) = findings_of(store.analyse(plant(REGISTER)), "remote_access")
    assert found.severity == "high"
