"""Findings on zone-crossing conversations: it_ot_crossing, dmz_bypass,
unapproved_conduit, insecure_protocol and scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from otseam.model.convergence import Finding
from tests.analysis.convergence_store import StoreBuilder, findings_of, plant

CONDUITS = """
conduits:
  - name: engineering
    from: office
    to: cell
    services: [{protocol: s7comm, transport: tcp, port: 102}]
  - {name: historian-pull, from: dmz, to: operations, services: [{protocol: opcua}]}
"""
WS, GUEST, HISTORIAN, PLC, HMI, SCADA = (
    "10.1.0.7",
    "10.2.0.8",
    "10.3.0.5",
    "10.10.0.5",
    "10.10.0.6",
    "10.20.0.9",
)


@pytest.fixture
def store(tmp_path: Path) -> StoreBuilder:
    builder = StoreBuilder(tmp_path / "store.db")
    builder.asset(WS, role="it_workstation", name="ws-07")
    builder.asset(GUEST, role="it_workstation")
    builder.asset(HISTORIAN, role="historian")
    builder.asset(PLC, role="plc", name="plc-05")
    builder.asset(HMI, role="hmi")
    builder.asset(SCADA, role="scada_server")
    return builder


def one(found: list[Finding]) -> Finding:
    assert len(found) == 1, [f.title for f in found]
    return found[0]


# -- it_ot_crossing ------------------------------------------------------------------


def test_an_it_ot_crossing_a_conduit_allows_is_low(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 102, app="s7comm")
    store.conversation(WS, PLC, 102, app="s7comm")
    crossing = one(findings_of(store.analyse(plant(CONDUITS)), "it_ot_crossing"))

    assert crossing.severity == "low"
    assert crossing.title == "IT/OT crossing: ws-07 (office) -> plc-05 (cell) over s7comm/tcp/102"
    assert (crossing.zone, crossing.assets) == ("cell", ("ws-07", "plc-05"))
    evidence = crossing.evidence
    assert (evidence["src_zone"], evidence["dst_zone"], evidence["conduit"]) == (
        "office",
        "cell",
        "engineering",
    )
    assert evidence["conversation_count"] == 2
    assert {o.party for o in crossing.owners} == {"it-team", "ot-team"}


def test_an_it_ot_crossing_no_conduit_allows_is_high(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 502, app="modbus")
    crossing = one(findings_of(store.analyse(plant(CONDUITS)), "it_ot_crossing"))
    assert (crossing.severity, crossing.evidence["conduit"]) == ("high", None)


def test_an_it_ot_crossing_is_medium_when_the_site_states_no_conduits(
    store: StoreBuilder,
) -> None:
    store.conversation(WS, PLC, 502, app="modbus")
    assert one(findings_of(store.analyse(plant()), "it_ot_crossing")).severity == "medium"


def test_an_ot_host_opening_into_it_is_a_crossing_too(store: StoreBuilder) -> None:
    store.conversation(SCADA, WS, 445, app="smb")
    crossing = one(findings_of(store.analyse(plant()), "it_ot_crossing"))
    assert crossing.evidence["src_zone"] == "operations"


def test_no_it_ot_crossing_between_it_and_the_dmz(store: StoreBuilder) -> None:
    store.conversation(WS, HISTORIAN, 443, app="tls")
    store.conversation(HISTORIAN, SCADA, 4840, app="opcua")
    assert findings_of(store.analyse(plant()), "it_ot_crossing") == []


def test_one_finding_per_client_server_and_service(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 502, app="modbus")
    store.conversation(WS, PLC, 102, app="s7comm")
    store.conversation(WS, HMI, 502, app="modbus")
    found = findings_of(store.analyse(plant()), "it_ot_crossing")
    assert sorted(f.evidence["service"] for f in found) == [
        "modbus/tcp/502",
        "modbus/tcp/502",
        "s7comm/tcp/102",
    ]
    assert len({f.id for f in found}) == 3


# -- dmz_bypass ------------------------------------------------------------------------


def test_it_straight_to_level_1_bypasses_the_dmz(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 502, app="modbus")
    bypass = one(findings_of(store.analyse(plant()), "dmz_bypass"))
    assert bypass.severity == "high"
    assert bypass.title == "DMZ bypassed: ws-07 (office) -> plc-05 (cell) over modbus/tcp/502"


def test_level_1_opening_to_it_bypasses_the_dmz_too(store: StoreBuilder) -> None:
    store.conversation(PLC, GUEST, 80, app="http")
    assert len(findings_of(store.analyse(plant()), "dmz_bypass")) == 1


@pytest.mark.parametrize(
    ("client", "server", "port", "app"),
    [(WS, HISTORIAN, 443, "tls"), (WS, SCADA, 4840, "opcua"), (HISTORIAN, PLC, 502, "modbus")],
    ids=["it-to-dmz", "it-to-ot-level-3", "dmz-to-ot-level-1"],
)
def test_no_dmz_bypass(store: StoreBuilder, client: str, server: str, port: int, app: str) -> None:
    store.conversation(client, server, port, app=app)
    assert findings_of(store.analyse(plant()), "dmz_bypass") == []


# -- unapproved_conduit ------------------------------------------------------------------


def test_crossing_traffic_no_conduit_allows_is_unapproved(store: StoreBuilder) -> None:
    store.conversation(WS, SCADA, 3389, app="rdp")
    store.conversation(WS, GUEST, 22, app="ssh")
    result = store.analyse(plant(CONDUITS))

    found = {f.evidence["dst_zone"]: f for f in findings_of(result, "unapproved_conduit")}
    assert set(found) == {"operations", "guest"}
    assert found["operations"].severity == "high"  # OT at stake
    assert found["guest"].severity == "medium"  # IT to IT
    assert (
        found["operations"].title
        == "No conduit allows ws-07 (office) -> 10.20.0.9 (operations) over rdp/tcp/3389"
    )


def test_no_unapproved_conduit_when_a_conduit_allows_it(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 102, app="s7comm")
    store.conversation(HISTORIAN, SCADA, 4840, app="opcua")
    assert findings_of(store.analyse(plant(CONDUITS)), "unapproved_conduit") == []


def test_no_unapproved_conduit_when_the_site_states_no_conduits(store: StoreBuilder) -> None:
    store.conversation(WS, SCADA, 3389, app="rdp")
    assert findings_of(store.analyse(plant()), "unapproved_conduit") == []


def test_no_unapproved_conduit_inside_one_zone(store: StoreBuilder) -> None:
    store.conversation(HMI, PLC, 502, app="modbus")
    result = store.analyse(plant(CONDUITS))
    assert [f for f in result.findings if f.kind != "unowned"] == []


# -- insecure_protocol ------------------------------------------------------------------


def test_telnet_into_ot_is_insecure(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 23, app="telnet")
    insecure = one(findings_of(store.analyse(plant()), "insecure_protocol"))
    assert insecure.severity == "high"
    assert insecure.title.startswith("Insecure protocol into OT: ws-07 (office) -> plc-05")
    assert "telnet" in insecure.evidence["reason"]
    assert "clear text" in insecure.evidence["reason"]


def test_an_unanswered_telnet_attempt_is_not_insecure_use(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 23, app="telnet", answered=False)
    assert findings_of(store.analyse(plant()), "insecure_protocol") == []


def test_telnet_into_it_is_not_this_rule(store: StoreBuilder) -> None:
    store.conversation(SCADA, WS, 23, app="telnet")
    assert findings_of(store.analyse(plant()), "insecure_protocol") == []


def test_opc_ua_with_security_mode_none_into_ot_is_insecure(store: StoreBuilder) -> None:
    store.identity(SCADA, "opcua", "security_mode", "None")
    store.conversation(HISTORIAN, SCADA, 4840, app="opcua")
    insecure = one(findings_of(store.analyse(plant(CONDUITS)), "insecure_protocol"))
    assert "security mode None" in insecure.evidence["reason"]
    assert insecure.evidence["conduit"] == "historian-pull"  # allowed, and still insecure


def test_opc_ua_with_signing_is_not_insecure(store: StoreBuilder) -> None:
    store.identity(SCADA, "opcua", "security_mode", "SignAndEncrypt")
    store.conversation(HISTORIAN, SCADA, 4840, app="opcua")
    assert findings_of(store.analyse(plant()), "insecure_protocol") == []


def test_opc_ua_without_security_inside_one_zone_is_no_finding(store: StoreBuilder) -> None:
    store.identity(PLC, "opcua", "security_mode", "None")
    store.conversation(HMI, PLC, 4840, app="opcua")
    assert findings_of(store.analyse(plant()), "insecure_protocol") == []


# -- scan -------------------------------------------------------------------------------


def probe_cell(store: StoreBuilder, client: str, targets: int, answered: int = 0) -> None:
    """``client`` tries ``targets`` ports on two cell hosts; the first ``answered`` answer."""
    for i in range(targets):
        server = PLC if i % 2 else HMI
        store.conversation(client, server, 1000 + i, answered=i < answered)


def test_many_unanswered_probes_into_ot_are_one_scan(store: StoreBuilder) -> None:
    probe_cell(store, WS, 12, answered=2)
    result = store.analyse(plant(CONDUITS))

    scan = one(findings_of(result, "scan"))
    assert scan.severity == "critical"  # the target zone is OT
    assert scan.zone == "cell"
    assert scan.title == "ws-07 (office) probed 12 services on 2 hosts in cell; 10 of 12 unanswered"
    assert scan.evidence["unanswered"] == 10
    assert scan.evidence["conversation_count"] == 12
    assert sorted(scan.evidence["targets"]) == ["10.10.0.6", "plc-05"]
    assert scan.assets[0] == "ws-07"
    # its probes are accounted for by the scan, not reported one by one
    crossing_kinds = {"it_ot_crossing", "dmz_bypass", "unapproved_conduit", "insecure_protocol"}
    assert [f for f in result.findings if f.kind in crossing_kinds] == []


def test_a_scan_of_an_it_zone_is_high(store: StoreBuilder) -> None:
    for i in range(10):
        store.conversation(GUEST, WS, 2000 + i, answered=False)
    assert one(findings_of(store.analyse(plant()), "scan")).severity == "high"


def test_a_few_probes_are_no_scan(store: StoreBuilder) -> None:
    probe_cell(store, WS, 5)
    result = store.analyse(plant())
    assert findings_of(result, "scan") == []
    assert len(findings_of(result, "it_ot_crossing")) == 5


def test_many_answered_services_are_no_scan(store: StoreBuilder) -> None:
    probe_cell(store, WS, 12, answered=8)
    assert findings_of(store.analyse(plant()), "scan") == []


def test_other_traffic_of_the_scanning_host_is_still_reported(store: StoreBuilder) -> None:
    probe_cell(store, WS, 12)
    store.conversation(WS, SCADA, 502, app="modbus")
    result = store.analyse(plant())
    assert len(findings_of(result, "scan")) == 1
    assert [f.evidence["dst_zone"] for f in findings_of(result, "it_ot_crossing")] == ["operations"]
