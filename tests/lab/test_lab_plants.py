"""Every plant definition is self-consistent and keeps to the lab's address rules."""

from __future__ import annotations

import ipaddress

import pytest

from otseam.lab.model import ROLES, Plant
from otseam.lab.plants import PLANTS, plant_named

DOCUMENTATION = [
    ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
]
PRIVATE = ipaddress.IPv4Network("10.0.0.0/8")


@pytest.fixture(params=sorted(PLANTS))
def plant(request: pytest.FixtureRequest) -> Plant:
    return plant_named(request.param)


def test_unknown_plant_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="converged"):
        plant_named("nope")


def test_names_addresses_and_macs_are_unique(plant: Plant) -> None:
    names = [host.name for host in plant.hosts]
    ips = [nic.ip for host in plant.hosts for nic in host.nics]
    macs = [nic.mac for host in plant.hosts for nic in host.nics]
    assert len(set(names)) == len(names)
    assert len(set(ips)) == len(ips)
    assert len(set(macs)) == len(macs)


def test_every_interface_sits_in_its_zone(plant: Plant) -> None:
    for host in plant.hosts:
        for nic in host.nics:
            assert plant.zone(nic.zone).contains(nic.ip), f"{host.name} {nic.ip} not in {nic.zone}"
            first_octet = int(nic.mac.split(":")[0], 16)
            assert first_octet & 1 == 0, f"{host.name}: {nic.mac} is not a unicast MAC"


def test_addresses_keep_to_the_lab_rules(plant: Plant) -> None:
    for zone in plant.zones:
        assert len(zone.bridge) <= 15
        for cidr in zone.cidrs:
            network = ipaddress.IPv4Network(cidr)
            if zone.kind == "external":
                assert any(network.subnet_of(doc) for doc in DOCUMENTATION), cidr
            else:
                assert network.subnet_of(PRIVATE), cidr


def test_roles_are_known_and_one_router_joins_every_zone(plant: Plant) -> None:
    assert {host.role for host in plant.hosts} <= set(ROLES)
    routers = [host for host in plant.hosts if host.forwarding]
    assert len(routers) == 1
    assert {nic.zone for nic in routers[0].nics} == {zone.name for zone in plant.zones}


def test_actions_flows_and_operations_name_real_assets(plant: Plant) -> None:
    for action in plant.actions:
        assert 0 <= action.at < 1
        plant.host(action.host)
        for flow in action.program.flows:
            assert flow.dst_ip in plant.host(flow.dst).ips
        for operation in action.program.operations:
            plant.host(operation.dst)


def test_conduits_channels_taps_and_findings_refer_to_the_plant(plant: Plant) -> None:
    zone_names = {zone.name for zone in plant.zones}
    for conduit in plant.conduits:
        assert {conduit.src_zone, conduit.dst_zone} <= zone_names
    for channel in plant.channels:
        for end in channel.endpoints:
            plant.host(end)
    for _tap, zones in plant.taps:
        assert set(zones) <= zone_names
    subjects = {host.name for host in plant.hosts} | {c.name for c in plant.channels}
    assert {finding.subject for finding in plant.findings} <= subjects


def test_the_converged_plant_has_what_issue_5_asks_for() -> None:
    plant = plant_named("converged")
    roles = {host.role for host in plant.hosts}
    assert {"plc", "rtu", "hmi", "engineering_workstation", "historian", "jump_host"} <= roles
    assert {zone.kind for zone in plant.zones} == {"it", "dmz", "ot", "external"}
    modules = {p.module for host in plant.hosts for p in host.daemons}
    assert {"modbus_plc", "s7_plc", "opcua_server", "bacnet_device", "iec104_rtu"} <= modules
    assert {"enip_adapter", "ssh_server", "remote_desktop"} <= modules
    assert {channel.approved for channel in plant.channels} == {True, False}
