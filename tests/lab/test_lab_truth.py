"""The truth and site files are derived correctly from a plant."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from otseam.lab.check import OPERATION_FILTERS
from otseam.lab.firewall import ruleset
from otseam.lab.plants import plant_named
from otseam.lab.sitefile import plant_site, site, write_site
from otseam.lab.truth import SCHEMA, truth
from otseam.site.load import load_site


def _crossing(doc: dict[str, Any], src: str, dst: str, port: int) -> dict[str, Any]:
    found = [c for c in doc["crossings"] if (c["src"], c["dst"], c["dst_port"]) == (src, dst, port)]
    assert len(found) == 1, f"no single crossing {src} -> {dst}:{port}"
    crossing: dict[str, Any] = found[0]
    return crossing


def test_crossings_carry_the_conduit_that_allows_them() -> None:
    doc = truth(plant_named("converged"))
    assert doc["schema"] == SCHEMA
    assert _crossing(doc, "scada-01", "rtu-104-01", 2404)["conduit"] == "scada-to-control"
    bypass = _crossing(doc, "ws-03", "plc-mb-01", 502)
    assert (bypass["conduit"], bypass["allowed"]) == (None, False)
    assert _crossing(doc, "scada-01", "relay-01", 5938)["allowed"] is False


def test_the_ssh_hop_through_the_jump_host_is_its_own_crossing() -> None:
    doc = truth(plant_named("converged"))
    hop = _crossing(doc, "jump-01", "scada-01", 22)
    assert (hop["src_zone"], hop["dst_zone"], hop["conduit"]) == (
        "dmz",
        "operations",
        "jump-to-operations",
    )


def test_the_dual_homed_host_sends_from_the_interface_on_the_destination_subnet() -> None:
    doc = truth(plant_named("converged"))
    assert [entry["asset"] for entry in doc["dual_homed"]] == ["ews-01"]
    sources = {(c["src"], c["dst"]): c["src_ip"] for c in doc["conversations"]}
    assert sources[("ews-01", "erp-01")] == "10.10.0.60"
    assert sources[("ews-01", "plc-s7-01")] == "10.40.0.60"
    ews = [c for c in doc["crossings"] if c["src"] == "ews-01" or c["dst"] == "ews-01"]
    assert ews == [], "the workstation bridges the zones itself; nothing of it is routed"


def test_operations_name_who_did_them_and_each_can_be_checked() -> None:
    doc = truth(plant_named("converged"))
    ops = {(op["src"], op["dst"], op["operation"]) for op in doc["operations"]}
    assert ("ews-01", "plc-s7-01", "plc_stop") in ops
    assert ("ews-01", "plc-s7-01", "program_download") in ops
    assert ("scada-01", "rtu-104-01", "control") in ops
    for op in doc["operations"]:
        assert (op["protocol"], op["operation"]) in OPERATION_FILTERS


def test_site_file_states_zones_conduits_and_channel_register(tmp_path: Path) -> None:
    plant = plant_named("converged")
    path = write_site(plant, tmp_path / "site.yaml")
    loaded = yaml.safe_load(path.read_text())
    assert loaded == site(plant)
    assert [z["name"] for z in loaded["zones"]] == [z.name for z in plant.zones]
    assert {c["name"]: c["approved"] for c in loaded["channels"]} == {
        "vendor-ssh": True,
        "scada-teamviewer": False,
    }
    registered = {a["name"]: a.get("updated_by") for a in loaded["assets"]}
    assert registered == {
        "fw-01": None,
        "hist-01": None,
        "jump-01": None,
        "scada-01": "ot-engineering",
        "opc-01": "ot-engineering",
        "hmi-01": "ot-engineering",
        "plc-mb-01": "integrator",
        "plc-s7-01": "integrator",
        "plc-enip-01": "integrator",
        "rtu-104-01": "integrator",
        "ews-01": "it-infrastructure",
    }  # bms-01 is the controller nobody registered
    channel = {c["name"]: c for c in loaded["channels"]}["vendor-ssh"]
    assert channel["vendor"] == "Integrator GmbH"
    assert channel["outside"] == list(plant.host("vendor-01").ips)
    assert channel["inside"] == list(plant.host("jump-01").ips)
    assert "outside_ips" not in channel and "inside_ips" not in channel
    assert loaded["monitoring"] == {
        "it": "it-infrastructure",
        "ot": "ot-engineering",
        "agreed": False,
    }
    kinds = {t["name"]: t["kind"] for t in loaded["teams"]}
    assert kinds["it-infrastructure"] == "it" and kinds["integrator"] == "vendor"


def test_site_file_is_read_by_otseam_without_problems(tmp_path: Path) -> None:
    plant = plant_named("converged")
    path = write_site(plant, tmp_path / "site.yaml")
    read = load_site(path)
    assert read == replace(plant_site(plant), source=str(path))
    assert read.party_kind("ot-engineering") == "ot"


def test_router_ruleset_drops_by_default_and_never_translates() -> None:
    plant = plant_named("converged")
    rules = ruleset(plant)
    assert "policy drop;" in rules
    assert "nat" not in rules and "masquerade" not in rules
    assert 'tcp dport 2404 accept comment "conduit scada-to-control: iec104"' in rules
    for exception in plant.firewall_exceptions:
        assert exception in rules
