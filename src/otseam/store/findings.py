"""Storing findings and what people decided about them.

``save_findings`` replaces the analysed findings (they are recomputed from
the facts every time); ``finding_states`` keeps each acknowledgement or
suppression by the finding's stable id, so it outlives re-ingests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from otseam.errors import ConfigError
from otseam.model.convergence import Finding
from otseam.store.schema import finding_states, findings

__all__ = ["STATES", "apply_states", "save_findings", "set_finding_state"]

STATES: Final = ("open", "acknowledged", "suppressed")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save_findings(conn: Connection, found: Iterable[Finding]) -> None:
    conn.execute(delete(findings))
    rows = [
        {
            "id": f.id,
            "kind": f.kind,
            "severity": f.severity,
            "title": f.title,
            "zone": f.zone,
            "channel": f.channel,
            "assets": json.dumps(list(f.assets)),
            "evidence": json.dumps(f.evidence, default=str),
            "owners": json.dumps([asdict(o) for o in f.owners]),
            "analysed_at": _now(),
        }
        for f in found
    ]
    if rows:
        conn.execute(insert(findings), rows)


def apply_states(conn: Connection, found: Iterable[Finding]) -> list[Finding]:
    """The findings with their stored state (open when nobody decided anything)."""
    s = finding_states.c
    states = {
        row.finding_id: row
        for row in conn.execute(select(s.finding_id, s.state, s.actor, s.reason))
    }
    result = []
    for finding in found:
        row = states.get(finding.id)
        if row is not None:
            finding = replace(finding, state=row.state, state_by=row.actor, state_why=row.reason)
        result.append(finding)
    return result


def set_finding_state(
    conn: Connection, finding_id: str, state: str, actor: str, reason: str
) -> None:
    """Acknowledge, suppress or reopen a finding; raises ConfigError for an unknown id."""
    if state not in STATES:
        raise ConfigError(f"unknown finding state {state!r}: use one of {', '.join(STATES)}")
    known = conn.execute(select(findings.c.id).where(findings.c.id == finding_id)).first()
    decided = conn.execute(
        select(finding_states.c.finding_id).where(finding_states.c.finding_id == finding_id)
    ).first()
    if known is None and decided is None:
        raise ConfigError(
            f"no finding {finding_id!r} in the store: run 'otseam findings' to list their ids"
        )
    conn.execute(delete(finding_states).where(finding_states.c.finding_id == finding_id))
    if state != "open":
        conn.execute(
            insert(finding_states).values(
                finding_id=finding_id, state=state, actor=actor, reason=reason, changed_at=_now()
            )
        )
