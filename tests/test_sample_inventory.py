"""The bundled sample end to end: ingest it and find what its truth says.

The lab wrote truth.json from what it built. This checks the inventory part
(issue 2): every device's MAC is an asset holding its addresses, the
identities the Modbus and EtherNet/IP dissectors read are the ones the lab
configured, and every operation the lab performed (Modbus, EtherNet/IP,
S7, IEC 104, OPC UA, BACnet) is there with the right requester. Zones,
roles and findings are checked where they are built.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from otseam.ingest import ingest
from otseam.store.database import open_store
from otseam.store.queries import asset_rows, operation_rows

SAMPLE = Path(str(resources.files("otseam") / "data" / "sample"))
DISSECTED = {"modbus", "enip"}  # protocols whose identity and operations issue 2 reads
TRUTH_TO_OTSEAM = {"read_identity": "identify"}  # otherwise the same name


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLE / "truth.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = open_store(str(tmp_path_factory.mktemp("sample") / "store.db"))
    report = ingest([str(SAMPLE / "plant.pcap")], engine)
    assert report.clean, report.all_problems
    return engine


def test_every_device_mac_is_an_asset_with_its_addresses(
    store: Engine, truth: dict[str, Any]
) -> None:
    with store.connect() as conn:
        assets = asset_rows(conn)
    by_mac = {mac: asset for asset in assets for mac in asset["macs"]}
    for device in truth["assets"]:
        for mac in device["macs"]:
            assert mac in by_mac, f"{device['name']}: MAC {mac} is no asset"
        if device["role"] == "network_device":
            continue  # a router's addresses are its interfaces': checked by the map
        held = {ip for mac in device["macs"] for ip in by_mac[mac]["ips"]}
        assert held == set(device["ips"]), device["name"]


def test_identities_on_the_wire_are_read(store: Engine, truth: dict[str, Any]) -> None:
    with store.connect() as conn:
        assets = asset_rows(conn)
    by_ip = {ip: asset for asset in assets for ip in asset["ips"]}
    checked = 0
    for device in truth["assets"]:
        served = {p["name"] for p in device["protocols"] if p["role"] == "server"}
        if not served & DISSECTED or not device["identity_on_wire"]:
            continue
        asset = by_ip[device["ips"][0]]
        for field, value in device["identity_on_wire"].items():
            if field in {"vendor", "product", "model", "firmware"}:
                assert asset[field] == value, f"{device['name']}: {field}"
                checked += 1
    assert checked >= 5  # the Modbus PLC's four objects and the EtherNet/IP product


def test_operations_of_the_scenario_are_seen(store: Engine, truth: dict[str, Any]) -> None:
    ip_of = {device["name"]: device["ips"] for device in truth["assets"]}
    with store.connect() as conn:
        seen = {(o["src"], o["dst"], o["protocol"], o["operation"]) for o in operation_rows(conn)}
    expected = truth["operations"]  # every protocol's operations, issue 3's dissectors included
    assert {o["protocol"] for o in expected} >= DISSECTED | {"s7comm", "iec104", "opcua"}
    for op in expected:
        wanted = TRUTH_TO_OTSEAM.get(op["operation"], op["operation"])
        assert any(
            (src, dst, op["protocol"], wanted) in seen
            for src in ip_of[op["src"]]
            for dst in ip_of[op["dst"]]
        ), op
