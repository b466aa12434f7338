"""Findings and their states in the store, on SQLite and PostgreSQL: the
analysis of the sample plant gives the same findings on both, and a decision
about a finding survives a re-ingest and a migration-free reopen."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from otseam.analysis.convergence import analyse
from otseam.site.load import load_site
from otseam.store.database import open_store
from otseam.store.findings import set_finding_state
from otseam.store.schema import findings
from tests.store.stores import StoreTarget, ingest_into

SAMPLE = Path(__file__).parents[2] / "src" / "otseam" / "data" / "sample"


def test_findings_are_stored_and_decisions_survive_reingest(store: StoreTarget) -> None:
    ingest_into(store.db, SAMPLE / "plant.pcap")
    site = load_site(SAMPLE / "site.yaml")
    engine = open_store(store.db)
    with engine.begin() as conn:
        first = analyse(conn, site)
        stored = conn.execute(select(func.count()).select_from(findings)).scalar_one()
        assert stored == len(first.findings) > 0
        scan = next(f for f in first.findings if f.kind == "scan")
        set_finding_state(conn, scan.id, "acknowledged", "alice", "ws-02 is being reimaged")
    engine.dispose()
    ingest_into(store.db, SAMPLE / "plant.pcap")  # the same capture: nothing changes
    engine = open_store(store.db)
    with engine.begin() as conn:
        again = analyse(conn, site)
    engine.dispose()
    assert [f.id for f in again.findings] == [f.id for f in first.findings]
    decided = next(f for f in again.findings if f.id == scan.id)
    assert (decided.state, decided.state_by, decided.state_why) == (
        "acknowledged",
        "alice",
        "ws-02 is being reimaged",
    )


def test_long_names_and_reasons_are_kept_whole(store: StoreTarget) -> None:
    ingest_into(store.db, SAMPLE / "plant.pcap")
    engine = open_store(store.db)
    actor, reason = "a" * 400, "because " * 200
    site = load_site(SAMPLE / "site.yaml")
    with engine.begin() as conn:
        finding = analyse(conn, site).findings[0]
        set_finding_state(conn, finding.id, "suppressed", actor, reason)
    with engine.begin() as conn:
        again = next(f for f in analyse(conn, site).findings if f.id == finding.id)
    engine.dispose()
    assert (again.state_by, again.state_why) == (actor, reason)
