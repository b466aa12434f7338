"""Asset roles (issue 3): each rule on small constructed facts, the
precedence between rules, the loading of facts from a store, and the bundled
sample end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from otseam.analysis.roles import RULES, AssetFacts, Peers, Verdict, assign_roles, classify
from otseam.ingest import ingest
from otseam.protocols.catalog import REGISTRY
from otseam.store.database import open_store
from otseam.store.schema import (
    asset_addresses,
    asset_protocols,
    assets,
    bindings,
    conversations,
    identities,
    operations,
    stations,
)

SAMPLE = Path(str(resources.files("otseam") / "data" / "sample"))


def facts(**kwargs: Any) -> AssetFacts:
    return AssetFacts(**kwargs)


def peers(protocol: str, operation: str, *keys: str) -> Peers:
    return Peers.of({(protocol, operation): keys})


def decided(f: AssetFacts) -> tuple[str, str]:
    verdict = classify(f)
    return verdict.role, verdict.rule


# -- identity ------------------------------------------------------------------


def test_gateway_is_a_network_device_and_beats_its_device_type() -> None:
    verdict = classify(
        facts(gateway_ips=6, identity={"device_type": ["Programmable Logic Controller"]})
    )
    assert verdict == Verdict(
        "network_device", "gateway", "router or gateway: its MAC carries 6 IP addresses"
    )


@pytest.mark.parametrize(
    ("device_type", "role"),
    [
        ("Programmable Logic Controller", "plc"),
        ("Human-Machine Interface", "hmi"),
        ("Managed Ethernet Switch", "network_device"),
        ("IO-Device+IO-Controller", "plc"),
    ],
)
def test_device_type_decides(device_type: str, role: str) -> None:
    verdict = classify(facts(identity={"device_type": [device_type]}))
    assert (verdict.role, verdict.rule) == (role, "device_type")
    assert verdict.evidence == f"its identity says device type {device_type!r}"


def test_a_device_type_that_is_no_controller_stops_the_enip_guess() -> None:
    adapter = facts(
        identity={"device_type": ["Communications Adapter"]}, served={"enip": "semantics"}
    )
    assert decided(adapter) == ("unknown", "undecided")
    assert decided(facts(served={"enip": "semantics"})) == ("plc", "field_server")


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        ({"capabilities": ["bridge,router"]}, ("network_device", "network_identity")),
        ({"capabilities": ["station-only"]}, ("unknown", "no_evidence")),
        ({"sys_object_id": ["1.3.6.1.4.1.9.1.516"]}, ("network_device", "network_identity")),
        ({"sys_object_id": ["1.3.6.1.4.1.311.1.1.3"]}, ("unknown", "no_evidence")),
        ({"sys_object_id": ["1.3.6.1.4.1"]}, ("unknown", "no_evidence")),
    ],
    ids=["lldp-bridge", "lldp-station", "snmp-cisco", "snmp-microsoft", "snmp-short"],
)
def test_network_identity(identity: dict[str, list[str]], expected: tuple[str, str]) -> None:
    assert decided(facts(identity=identity)) == expected


def test_network_identity_evidence_names_the_maker() -> None:
    verdict = classify(facts(identity={"sys_object_id": ["1.3.6.1.4.1.9.1.516"]}))
    assert (
        verdict.evidence
        == "its SNMP sysObjectID 1.3.6.1.4.1.9.1.516 belongs to Cisco network equipment"
    )


def test_historian_named_by_its_identity_beats_its_web_server() -> None:
    f = facts(identity={"server_software": ["PlantHistorian/7.2"]}, served={"http": "semantics"})
    assert classify(f) == Verdict(
        "historian",
        "historian_identity",
        "its identity names a historian: server_software 'PlantHistorian/7.2'",
    )


# -- operations ----------------------------------------------------------------


def test_engineering_operations_make_an_engineering_workstation() -> None:
    sent = {
        ("s7comm", "program_download"): ["plc"],
        ("s7comm", "plc_stop"): ["plc"],
        ("s7comm", "read"): ["plc", "p2"],
    }
    verdict = classify(facts(sent=Peers.of(sent), used={"s7comm": "semantics"}))
    assert verdict == Verdict(
        "engineering_workstation",
        "engineering_operations",
        "sent engineering operations plc_stop (s7comm), program_download (s7comm) to 1 asset",
    )


@pytest.mark.parametrize(
    "operation",
    ["program_download", "program_upload", "plc_stop", "plc_start", "block_delete", "memory_reset"],
)
def test_the_target_of_engineering_is_a_controller(operation: str) -> None:
    verdict = classify(facts(received=peers("s7comm", operation, "ews", "ews2")))
    assert (verdict.role, verdict.rule) == ("plc", "engineered_controller")
    assert verdict.evidence.endswith(f"{operation} (s7comm) from 2 assets")


def test_a_firmware_update_alone_does_not_make_a_plc() -> None:
    assert decided(facts(received=peers("enip", "firmware_update", "ews"))) == (
        "unknown",
        "no_evidence",
    )
    assert decided(facts(sent=peers("enip", "firmware_update", "dev")))[0] == (
        "engineering_workstation"
    )


# -- industrial protocol roles -------------------------------------------------


def test_field_server_evidence_names_protocol_clients_and_identity() -> None:
    f = facts(
        served={"modbus": "semantics", "http": "port"},
        received=peers("modbus", "read", "hmi", "scada", "ews"),
        identity={"vendor": ["Schneider Electric"], "product": ["Modicon M340"]},
    )
    assert classify(f) == Verdict(
        "plc",
        "field_server",
        "serves modbus (semantics); polled by 3 clients; "
        "identifies as Schneider Electric Modicon M340",
    )


@pytest.mark.parametrize(
    ("served", "publishes", "role", "title"),
    [
        ({"dnp3": "semantics"}, set(), "rtu", "DNP3 outstation"),
        ({"iec104": "semantics"}, set(), "rtu", "IEC 104 controlled station"),
        ({"mms": "semantics"}, set(), "ied", "IEC 61850 MMS server"),
        ({}, {"goose"}, "ied", "GOOSE publisher"),
        ({"modbus": "semantics", "dnp3": "semantics"}, set(), "rtu", "DNP3 outstation"),
        ({"s7comm": "semantics"}, set(), "plc", ""),
        ({"bacnet": "semantics"}, set(), "plc", ""),
    ],
)
def test_field_server_role_follows_the_protocol(
    served: dict[str, str], publishes: set[str], role: str, title: str
) -> None:
    verdict = classify(facts(served=served, publishes=publishes))
    assert (verdict.role, verdict.rule) == (role, "field_server")
    assert verdict.evidence.startswith(f"{title}: " if title else "serves ")


def test_opc_server_and_a_plc_serving_opc_ua_too() -> None:
    gateway = facts(
        served={"opcua": "semantics"},
        used={"modbus": "semantics"},
        received=peers("opcua", "read", "scada"),
        sent=peers("modbus", "read", "plc"),
    )
    assert classify(gateway) == Verdict(
        "opc_server", "opc_server", "serves opcua (semantics) to 1 client; polls 1 field device"
    )
    plc = facts(served={"opcua": "semantics", "s7comm": "semantics"})
    assert decided(plc) == ("plc", "field_server")


@pytest.mark.parametrize(
    ("protocol", "title"), [("iec104", "IEC 104 controlling station"), ("dnp3", "DNP3 master")]
)
def test_telecontrol_master_is_a_scada_server(protocol: str, title: str) -> None:
    verdict = classify(facts(used={protocol: "semantics"}, sent=peers(protocol, "read", "rtu")))
    assert verdict == Verdict(
        "scada_server",
        "telecontrol_master",
        f"{title}: uses {protocol} (semantics) towards 1 outstation",
    )


def _poller(devices: int, operation: str = "read") -> AssetFacts:
    return facts(
        used={"modbus": "semantics"},
        sent=peers("modbus", operation, *(f"plc{n}" for n in range(devices))),
    )


def test_field_poller_hmi_scada_and_too_little_to_tell() -> None:
    assert decided(_poller(1)) == ("unknown", "undecided")
    assert classify(_poller(1)).evidence == "no rule decides: it uses modbus (semantics)"
    assert classify(_poller(2)) == Verdict(
        "hmi", "field_poller", "polls 2 field devices over modbus (semantics)"
    )
    assert decided(_poller(9)) == ("hmi", "field_poller")
    assert decided(_poller(10)) == ("scada_server", "field_poller")
    assert decided(_poller(30, "identify")) == ("unknown", "undecided")  # a discovery sweep


# -- ports ---------------------------------------------------------------------


def test_field_server_by_port_says_so() -> None:
    assert classify(facts(served={"iso-tsap": "port"})) == Verdict(
        "plc", "field_server_port", "serves iso-tsap on the service port (port evidence only)"
    )
    assert decided(facts(served={"iec104": "port"})) == ("rtu", "field_server_port")
    assert decided(facts(served={"opcua": "port"})) == ("opc_server", "opc_server_port")


def test_historian_port_beats_it_server() -> None:
    f = facts(historian_clients={5450: 3}, served={"http": "port"})
    assert classify(f) == Verdict(
        "historian",
        "historian_port",
        "receives data on TCP 5450 (OSIsoft PI Data Archive) from 3 clients",
    )


def test_jump_host_accepts_and_opens_remote_sessions() -> None:
    assert classify(facts(served={"ssh": "semantics"}, used={"rdp": "port"})) == Verdict(
        "jump_host", "jump_host", "accepts ssh sessions and opens rdp sessions onwards"
    )
    assert decided(facts(served={"ssh": "semantics"})) == ("it_server", "it_server")


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        ({"http": "semantics", "dns": "port"}, ("it_server", "it_server")),
        ({"http": "port", "ntp": "port"}, ("it_server", "it_server")),
        ({"http": "port", "modbus": "port"}, ("plc", "field_server_port")),
        ({"mqtt": "port"}, ("unknown", "undecided")),
        ({"ntp": "port"}, ("unknown", "undecided")),
    ],
    ids=["web-dns", "web-ntp", "web-plc", "mqtt-only", "ntp-only"],
)
def test_it_server_serves_only_it_services(
    served: dict[str, str], expected: tuple[str, str]
) -> None:
    assert decided(facts(served=served)) == expected


def test_a_file_server_that_talks_to_a_plc_is_no_it_server() -> None:
    f = facts(served={"smb": "semantics"}, used={"enip": "semantics"})
    assert classify(f) == Verdict(
        "unknown",
        "undecided",
        "no rule decides: it serves smb (semantics) and uses enip (semantics)",
    )
    assert decided(facts(served={"smb": "semantics"}, used={"enip": "port"})) == (
        "it_server",
        "it_server",
    )


def test_it_server_evidence() -> None:
    verdict = classify(facts(served={"http": "semantics", "dns": "port"}))
    assert verdict.evidence == "serves only IT services: http (semantics), dns (port)"


@pytest.mark.parametrize(
    ("used", "served", "expected"),
    [
        ({"http": "semantics", "dns": "port"}, {}, ("it_workstation", "it_workstation")),
        ({"dns": "port", "modbus": "port"}, {}, ("it_workstation", "it_workstation")),
        ({"dns": "port", "modbus": "semantics"}, {}, ("unknown", "undecided")),
        ({"mdns": "port", "ssdp": "port"}, {}, ("unknown", "undecided")),
        ({"http": "port"}, {"mqtt": "port"}, ("unknown", "undecided")),
    ],
    ids=["browser", "scanner", "reads-a-plc", "chatter-only", "serves-something"],
)
def test_it_workstation(
    used: dict[str, str], served: dict[str, str], expected: tuple[str, str]
) -> None:
    assert decided(facts(used=used, served=served)) == expected


def test_scanner_evidence_names_what_it_tried() -> None:
    verdict = classify(facts(used={"dns": "port", "modbus": "port", "enip": "port"}))
    assert verdict.evidence == (
        "uses IT services as a client: dns (port); serves nothing; "
        "also tried enip, modbus (port) without a decoded exchange"
    )


def test_no_facts_is_unknown_never_a_guess() -> None:
    assert classify(AssetFacts()) == Verdict("unknown", "no_evidence", "no evidence yet")


# -- precedence ----------------------------------------------------------------


def test_rules_are_ordered_by_tier() -> None:
    order = ["identity", "operations", "protocol", "port"]
    tiers = [order.index(tier) for tier, _rule in RULES]
    assert tiers == sorted(tiers)
    assert {tier for tier, _rule in RULES} == set(order)


EVERY_TIER: dict[str, Callable[[AssetFacts], None]] = {  # facts are read-only: replaced
    "identity": lambda f: setattr(f, "identity", {}),
    "operations": lambda f: setattr(f, "sent", Peers([])),
    "protocol": lambda f: setattr(f, "used", {}),
}


def test_identity_beats_operations_beats_protocol_roles_beats_ports() -> None:
    f = facts(
        identity={"device_type": ["Human-Machine Interface"]},
        sent=peers("s7comm", "plc_stop", "plc"),
        used={"iec104": "semantics"},
        served={"http": "port"},
    )
    seen = [decided(f)]
    for drop in EVERY_TIER.values():
        drop(f)
        seen.append(decided(f))
    assert seen == [
        ("hmi", "device_type"),
        ("engineering_workstation", "engineering_operations"),
        ("scada_server", "telecontrol_master"),
        ("it_server", "it_server"),
    ]


def test_semantics_beat_port_evidence() -> None:
    f = facts(served={"iec104": "port", "modbus": "semantics"})
    assert decided(f) == ("plc", "field_server")


# -- loading facts from a store --------------------------------------------------

NS = 1_000_000_000


def _seen() -> dict[str, int]:
    return {"first_seen": NS, "last_seen": 2 * NS}


def _load_store(conn: Connection) -> None:
    conn.execute(
        insert(operations),
        [
            {"src": src, "dst": dst, "protocol": "s7comm", "operation": op, "code": code,
             "code_name": name, "exception": False, "count": 1, **_seen()}
            for src, dst, op, code, name in [
                ("10.0.0.60", "10.0.0.11", "program_download", 0x1A, "Request download"),
                ("10.0.0.60", "10.0.0.11", "read", 4, "Read Var"),
                ("10.0.0.50", "10.0.0.11", "read", 4, "Read Var"),
            ]
        ],
    )  # fmt: skip
    conn.execute(
        insert(identities),
        [{"address": "10.0.0.30", "protocol": "http", "attribute": "server_software",
          "value": "Proficy Historian", "count": 1, **_seen()}],
    )  # fmt: skip
    zero = {f"{k}_frames": 0 for k in ("profinet", "goose", "sv", "ethercat", "powerlink", "lldp")}
    conn.execute(
        insert(stations),
        [{"mac": "00:00:00:00:00:40", "packets": 9, "bytes": 900, "vlan": 0, **zero,
          "goose_frames": 9, **_seen()}],
    )  # fmt: skip
    conn.execute(
        insert(conversations),
        [
            {"transport": "tcp", "a": "10.0.0.31", "a_port": 5450, "b": client, "b_port": 40000,
             "a_to_b_packets": 1, "b_to_a_packets": 1, "a_to_b_bytes": 60, "b_to_a_bytes": 60,
             "initiator": "b", "a_tcp_flags": 0, "b_tcp_flags": 0, "app_protocol": None,
             "vlan": 0, **_seen()}
            for client in ("10.0.0.1", "10.0.0.2")
        ],
    )  # fmt: skip


def test_assign_roles_loads_every_facts_table(tmp_path: Path) -> None:
    engine = open_store(str(tmp_path / "store.db"))
    addresses = ["10.0.0.1", "10.0.0.11", "10.0.0.30", "10.0.0.31", "10.0.0.50", "10.0.0.60"]
    asset_of = {a: f"ip:{a}" for a in addresses} | {"00:00:00:00:00:40": "mac:00:00:00:00:00:40"}
    with engine.begin() as conn:
        _load_store(conn)
        verdicts = assign_roles(
            conn, asset_of, {"ip:10.0.0.1": 5}, {("ip:10.0.0.50", "s7comm", "client"): "port"}
        )
    assert {k: (v.role, v.rule) for k, v in verdicts.items()} == {
        "ip:10.0.0.1": ("network_device", "gateway"),
        "ip:10.0.0.11": ("plc", "engineered_controller"),
        "ip:10.0.0.30": ("historian", "historian_identity"),
        "ip:10.0.0.31": ("historian", "historian_port"),
        "ip:10.0.0.50": ("unknown", "undecided"),
        "ip:10.0.0.60": ("engineering_workstation", "engineering_operations"),
        "mac:00:00:00:00:00:40": ("ied", "field_server"),
    }
    assert verdicts["ip:10.0.0.31"].evidence.endswith("from 2 clients")


# -- the bundled sample end to end ---------------------------------------------

DECODED = {spec.name for spec in REGISTRY.specs if spec.dissector is not None}


def expected_role(device: dict[str, Any], interface_ips: list[str]) -> tuple[str, str, str]:
    """(role, rule, why) the sample's device must get with the dissectors
    registered now. Today's dissectors: modbus and enip (issue 2); the
    others (s7comm, iec104, opcua, http, ssh...) may have landed: then the
    device gets its truth role by the rule named here, else what the
    port-based protocol roles allow (or unknown)."""
    name, truth = device["name"], device["role"]
    has = DECODED.__contains__
    if truth == "network_device":
        if set(interface_ips) & {"10.10.0.1", "10.30.0.1", "10.40.0.1"}:
            return truth, "gateway", "its MAC forwards other zones' traffic on a tap"
        return "unknown", "no_evidence", "the taps show too few addresses behind this interface"
    table: dict[str, tuple[str, str, str]] = {
        "plc-mb-01": ("plc", "field_server", "the Modbus dissector sees it answer"),
        "plc-enip-01": ("plc", "device_type", "List Identity says Programmable Logic Controller"),
        "plc-s7-01": (
            ("plc", "engineered_controller", "the S7 dissector sees the download and stop")
            if has("s7comm")
            else ("plc", "field_server_port", "it answers on TCP 102")
        ),
        "rtu-104-01": (
            ("rtu", "field_server", "IEC 104 controlled station")
            if has("iec104")
            else ("rtu", "field_server_port", "it answers on TCP 2404")
        ),
        "bms-01": (
            ("plc", "field_server", "the BACnet dissector sees it answer")
            if has("bacnet")
            else ("plc", "field_server_port", "it answers on UDP 47808")
        ),
        "hmi-01": ("hmi", "field_poller", "it polls the PLCs over Modbus, EtherNet/IP, ..."),
        "scada-01": (
            ("scada_server", "telecontrol_master", "IEC 104 controlling station")
            if has("iec104")
            # by ports alone it accepts SSH and dials a TeamViewer relay
            else ("jump_host", "jump_host", "IEC 104 not decoded")
        ),
        "opc-01": (
            ("opc_server", "opc_server", "the OPC UA dissector sees it answer")
            if has("opcua")
            else ("opc_server", "opc_server_port", "it answers on TCP 4840")
        ),
        "hist-01": (
            ("historian", "historian_identity", "its HTTP Server header says PlantHistorian")
            if has("http")
            else ("historian", "historian_port", "scada-01 pushes to it on TCP 5450 (PI)")
        ),
        "erp-01": ("it_server", "it_server", "it serves HTTP and DNS only"),
        "jump-01": ("jump_host", "jump_host", "vendor-01 reaches it over SSH, it hops on"),
        "ws-01": ("it_workstation", "it_workstation", "it browses erp-01 and hist-01"),
        "ws-02": ("it_workstation", "it_workstation", "DNS, and a scan no service answered"),
        "ws-03": ("unknown", "undecided", "it only reads one PLC over Modbus: HMI or not?"),
        "vendor-01": ("it_workstation", "it_workstation", "an SSH client only"),
        "relay-01": ("it_server", "it_server", "a remote-access relay"),
    }
    if name == "ews-01":  # dual-homed: one asset per interface (one MAC each)
        if interface_ips == ["10.10.0.60"]:
            return "it_workstation", "it_workstation", "its office interface only browses"
        if has("s7comm"):
            return truth, "engineering_operations", "S7 download and stop to plc-s7-01"
        return "unknown", "undecided", "one Modbus PLC written, S7 by port only"
    return table[name]


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = open_store(str(tmp_path_factory.mktemp("roles") / "store.db"))
    report = ingest([str(SAMPLE / "plant.pcap")], engine)
    assert report.clean, report.all_problems
    return engine


def _verdicts_from_store(conn: Connection) -> dict[str, Verdict]:
    """The classifier rerun on what the rebuild stored, to learn each rule's name."""
    keys = dict(conn.execute(select(assets.c.id, assets.c.key)).all())
    asset_of = {
        v: keys[i]
        for i, v in conn.execute(select(asset_addresses.c.asset_id, asset_addresses.c.value))
    }
    carried: dict[str, int] = dict(
        conn.execute(
            select(bindings.c.mac, func.count(func.distinct(bindings.c.ip))).group_by(
                bindings.c.mac
            )
        ).all()
    )
    gateways = {
        key: carried[key.removeprefix("mac:")]
        for key, is_gateway in conn.execute(select(assets.c.key, assets.c.is_gateway))
        if is_gateway
    }
    links = {
        (keys[i], p, r): e
        for i, p, r, e in conn.execute(
            select(asset_protocols.c.asset_id, asset_protocols.c.protocol,
                   asset_protocols.c.role, asset_protocols.c.evidence)
        )
    }  # fmt: skip
    return assign_roles(conn, asset_of, gateways, links)


def test_sample_every_asset_has_its_expected_role_and_rule(sample_store: Engine) -> None:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    device_of = {mac: d for d in truth["assets"] for mac in d["macs"]}
    with sample_store.connect() as conn:
        verdicts = _verdicts_from_store(conn)
        rows = conn.execute(select(assets.c.key, assets.c.role, assets.c.role_evidence)).all()
        ips_of: dict[str, list[str]] = {}
        for key, kind, value in conn.execute(
            select(assets.c.key, asset_addresses.c.kind, asset_addresses.c.value).join(
                asset_addresses, asset_addresses.c.asset_id == assets.c.id
            )
        ):
            if kind == "ip":
                ips_of.setdefault(key, []).append(value)
    assert len(rows) == len(verdicts) >= len(truth["assets"])
    problems = []
    for key, role, evidence in rows:
        verdict = verdicts[key]
        assert (role, evidence) == (verdict.role, verdict.evidence), key  # stored = recomputed
        device = device_of[key.removeprefix("mac:")]
        want_role, want_rule, why = expected_role(device, ips_of.get(key, []))
        if (verdict.role, verdict.rule) != (want_role, want_rule):
            problems.append(
                f"{device['name']} ({key}): got {verdict.role} by {verdict.rule} "
                f"({verdict.evidence!r}); expected {want_role} by {want_rule}: {why}"
            )
    assert not problems, "\n".join(problems)


def test_sample_roles_are_truth_roles_where_decided(sample_store: Engine) -> None:
    """A decided role is never a wrong one: it is the lab's truth, except for
    the office interface of the dual-homed engineering workstation."""
    truth = json.loads((SAMPLE / "truth.json").read_text())
    device_of = {mac: d for d in truth["assets"] for mac in d["macs"]}
    with sample_store.connect() as conn:
        rows = conn.execute(select(assets.c.key, assets.c.role)).all()
    decided_rows = [(k, r) for k, r in rows if r != "unknown"]
    assert len(decided_rows) >= 15
    wrong = {
        device_of[k.removeprefix("mac:")]["name"]
        for k, r in decided_rows
        if r != device_of[k.removeprefix("mac:")]["role"]
    }
    assert wrong <= {"ews-01"}


def test_rebuild_keeps_asset_ids(sample_store: Engine) -> None:
    with sample_store.connect() as conn:
        before = conn.execute(select(assets.c.key, assets.c.id, assets.c.role)).all()
    report = ingest([str(SAMPLE / "plant.pcap")], sample_store)  # same capture: nothing new
    assert report.clean
    with sample_store.connect() as conn:
        after = conn.execute(select(assets.c.key, assets.c.id, assets.c.role)).all()
    assert sorted(after) == sorted(before)
