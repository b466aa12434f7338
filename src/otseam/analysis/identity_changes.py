"""``firmware_change``: a device reported two firmware versions over time.

Dissectors keep every identity value they saw with its first and last
sighting, so when a controller's firmware differs between captures (or
within one), both values stay in the store; this rule turns the change into
a finding, naming the versions in the order they were seen.
"""

from __future__ import annotations

from otseam.analysis.context import Context
from otseam.analysis.zoning import OT_ROLES
from otseam.model.convergence import Finding, Severity

__all__ = ["firmware_change_findings"]


def firmware_change_findings(ctx: Context) -> list[Finding]:
    findings = []
    for address, seen in sorted(ctx.facts.firmware.items()):
        versions = {s.value for s in seen}
        if len(versions) < 2:
            continue
        sightings = sorted(seen, key=lambda s: (s.first_seen, s.value))
        place = ctx.by_address.get(address)
        role = place.role if place else "unknown"
        order = " -> ".join(dict.fromkeys(s.value for s in sightings))
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
                        {
                            "firmware": s.value,
                            "protocol": s.protocol,
                            "first_seen": s.first_seen,
                            "last_seen": s.last_seen,
                        }
                        for s in sightings
                    ],
                    "first_seen": sightings[0].first_seen,
                    "last_seen": max(s.last_seen for s in sightings),
                },
                owners=ctx.owners([ctx.zone(address)], [address]),
            )
        )
    return findings
