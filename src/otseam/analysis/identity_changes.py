"""``firmware_change``: a device reported two firmware versions over time.

Dissectors keep every identity value they saw with its first and last
sighting, so when a controller's firmware differs between captures (or
within one), both values stay in the store; this rule turns the change into
a finding, naming the versions in the order they were seen.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.engine import Connection

from otseam.analysis.context import Context
from otseam.analysis.zoning import OT_ROLES
from otseam.model.convergence import Finding, Severity
from otseam.store.schema import identities

__all__ = ["firmware_change_findings"]

Sighting = tuple[str, str, int, int]  # value, protocol, first seen, last seen


def _firmware(conn: Connection) -> dict[str, list[Sighting]]:
    t = identities.c
    query = select(t.address, t.value, t.protocol, t.first_seen, t.last_seen).where(
        t.attribute == "firmware"
    )
    found: dict[str, list[Sighting]] = defaultdict(list)
    for address, value, protocol, first, last in conn.execute(query):
        found[address].append((value, protocol, first, last))
    return found


def firmware_change_findings(ctx: Context, conn: Connection) -> list[Finding]:
    findings = []
    for address, sightings in sorted(_firmware(conn).items()):
        versions = {value for value, *_ in sightings}
        if len(versions) < 2:
            continue
        sightings.sort(key=lambda s: (s[2], s[0]))
        place = ctx.by_address.get(address)
        role = place.role if place else "unknown"
        order = " -> ".join(dict.fromkeys(value for value, *_ in sightings))
        severity: Severity = "high" if role in OT_ROLES else "medium"
        findings.append(
            ctx.make(
                "firmware_change",
                severity,
                f"Firmware of {ctx.name(address)} changed: {order}",
                (address, tuple(sorted(versions))),
                zone=ctx.zone(address),
                assets=[ctx.name(address)],
                evidence={
                    "address": address,
                    "role": role,
                    "versions": [
                        {"firmware": v, "protocol": p, "first_seen": f, "last_seen": last}
                        for v, p, f, last in sightings
                    ],
                    "first_seen": sightings[0][2],
                    "last_seen": sightings[-1][3],
                },
                owners=ctx.owners([ctx.zone(address)], [address]),
            )
        )
    return findings
