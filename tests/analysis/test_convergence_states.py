"""Finding ids are stable across analyses and ingests, findings are stored,
and what people decide about a finding (acknowledged, suppressed, reopened)
survives every re-analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from otseam.analysis.convergence import analyse
from otseam.errors import ConfigError
from otseam.model.convergence import Convergence, Finding
from otseam.store.findings import set_finding_state
from otseam.store.schema import conversations, findings
from tests.analysis.convergence_store import T0, StoreBuilder, plant

WS, PLC, HMI, SCADA = "10.1.0.7", "10.10.0.5", "10.10.0.6", "10.20.0.9"


@pytest.fixture
def store(tmp_path: Path) -> StoreBuilder:
    builder = StoreBuilder(tmp_path / "store.db")
    builder.asset(WS, role="it_workstation")
    builder.asset(PLC, role="plc")
    builder.asset(HMI, role="hmi")
    builder.asset(SCADA, role="scada_server")
    builder.conversation(WS, PLC, 502, app="modbus")
    return builder


def ids(result: Convergence) -> dict[tuple[str, str], str]:
    return {(f.kind, f.title): f.id for f in result.findings}


def crossing(result: Convergence) -> Finding:
    (found,) = [f for f in result.findings if f.kind == "it_ot_crossing"]
    return found


def crossing_to(result: Convergence, server: str) -> Finding:
    (found,) = [
        f
        for f in result.findings
        if f.kind == "it_ot_crossing" and f.evidence["conversations"][0]["server"] == server
    ]
    return found


def decide(store: StoreBuilder, finding_id: str, state: str, actor: str, reason: str) -> None:
    with store.engine.begin() as conn:
        set_finding_state(conn, finding_id, state, actor, reason)


def test_the_same_facts_give_the_same_ids(store: StoreBuilder) -> None:
    first = ids(store.analyse(plant()))
    assert first == ids(store.analyse(plant()))
    assert all(i.startswith("F-") for i in first.values())
    assert len(set(first.values())) == len(first)


def test_ids_stay_when_more_traffic_arrives(store: StoreBuilder) -> None:
    before = crossing(store.analyse(plant()))
    store.conversation(WS, PLC, 502, app="modbus", first_seen=T0 + 3600 * 10**9, packets=40)
    store.conversation(HMI, PLC, 502, app="modbus")
    store.conversation(WS, SCADA, 445, app="smb")
    after = store.analyse(plant())

    same = crossing_to(after, PLC)
    assert same.id == before.id
    assert same.evidence["conversation_count"] == 2  # counted, not part of the id
    assert len({f.id for f in after.findings}) == len(after.findings)


def test_different_facts_give_different_ids(store: StoreBuilder) -> None:
    store.conversation(WS, PLC, 102, app="s7comm")
    store.conversation(WS, HMI, 502, app="modbus")
    found = [f for f in store.analyse(plant()).findings if f.kind == "it_ot_crossing"]
    assert len({f.id for f in found}) == 3


def test_findings_are_stored_with_their_evidence(store: StoreBuilder) -> None:
    result = store.analyse(plant())
    with store.engine.connect() as conn:
        rows = {row.id: row for row in conn.execute(select(findings))}
    assert set(rows) == {f.id for f in result.findings}
    row = rows[crossing(result).id]
    assert (row.kind, row.severity, row.zone) == ("it_ot_crossing", "medium", "cell")
    assert json.loads(row.assets) == [WS, PLC]
    assert json.loads(row.evidence)["service"] == "modbus/tcp/502"
    assert {o["party"] for o in json.loads(row.owners)} == {"it-team", "ot-team"}


def test_analysing_without_storing_leaves_the_stored_findings(store: StoreBuilder) -> None:
    with store.engine.begin() as conn:
        analyse(conn, plant(), store=False)
        assert conn.execute(select(findings.c.id)).first() is None


def test_stored_findings_are_replaced_by_the_next_analysis(store: StoreBuilder) -> None:
    first = crossing(store.analyse(plant()))
    with store.engine.begin() as conn:
        conn.execute(delete(conversations))
    store.analyse(plant())
    with store.engine.connect() as conn:
        stored = {row.id for row in conn.execute(select(findings.c.id))}
    assert first.id not in stored


def test_an_acknowledgement_survives_the_next_analysis(store: StoreBuilder) -> None:
    found = crossing(store.analyse(plant()))
    assert (found.state, found.state_by, found.state_why) == ("open", None, None)

    decide(store, found.id, "acknowledged", "alice", "known integrator access")
    store.conversation(WS, PLC, 502, app="modbus")  # a re-ingest brings more of it
    again = crossing(store.analyse(plant()))
    assert again.id == found.id
    assert (again.state, again.state_by, again.state_why) == (
        "acknowledged",
        "alice",
        "known integrator access",
    )


def test_a_decision_outlives_the_finding_going_away_and_coming_back(
    store: StoreBuilder,
) -> None:
    found = crossing(store.analyse(plant()))
    decide(store, found.id, "suppressed", "bob", "test bench, not production")
    with store.engine.begin() as conn:
        conn.execute(delete(conversations))
    assert [f for f in store.analyse(plant()).findings if f.kind == "it_ot_crossing"] == []

    store.conversation(WS, PLC, 502, app="modbus")
    back = crossing(store.analyse(plant()))
    assert (back.id, back.state, back.state_by) == (found.id, "suppressed", "bob")


def test_reopening_clears_the_decision(store: StoreBuilder) -> None:
    found = crossing(store.analyse(plant()))
    decide(store, found.id, "acknowledged", "alice", "known integrator access")
    decide(store, found.id, "open", "carol", "the integrator left")
    reopened = crossing(store.analyse(plant()))
    assert (reopened.state, reopened.state_by, reopened.state_why) == ("open", None, None)


def test_a_decision_applies_to_its_finding_only(store: StoreBuilder) -> None:
    store.conversation(WS, HMI, 502, app="modbus")
    result = store.analyse(plant())
    first, second = [f for f in result.findings if f.kind == "it_ot_crossing"]
    decide(store, first.id, "acknowledged", "alice", "ok")
    states = {f.id: f.state for f in store.analyse(plant()).findings}
    assert (states[first.id], states[second.id]) == ("acknowledged", "open")


def test_an_unknown_finding_id_is_refused_with_a_hint(store: StoreBuilder) -> None:
    store.analyse(plant())
    with pytest.raises(ConfigError) as caught:
        decide(store, "F-0000000000", "acknowledged", "alice", "why not")
    message = str(caught.value)
    assert "no finding 'F-0000000000' in the store" in message
    assert "otseam findings" in message


def test_an_unknown_state_is_refused_naming_the_states(store: StoreBuilder) -> None:
    found = crossing(store.analyse(plant()))
    with pytest.raises(ConfigError, match="unknown finding state 'closed'") as caught:
        decide(store, found.id, "closed", "alice", "done")
    assert "open, acknowledged, suppressed" in str(caught.value)


def test_one_asset_with_two_addresses_gives_one_finding_per_address(store: StoreBuilder) -> None:
    store.asset("10.1.0.70", "10.1.0.71", role="it_workstation", macs=("00:11:22:33:44:55",))
    store.asset("10.10.0.50", role="plc")
    store.conversation("10.1.0.70", "10.10.0.50", 502, app="modbus")
    store.conversation("10.1.0.71", "10.10.0.50", 502, app="modbus")
    result = store.analyse(plant())  # stored without a clash of ids

    bypasses = [f for f in result.findings if f.kind == "dmz_bypass" and "10.10.0.50" in f.title]
    assert len(bypasses) == 2 and bypasses[0].id != bypasses[1].id
    assert len({f.id for f in result.findings}) == len(result.findings)
