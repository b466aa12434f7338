"""The convergence picture as rows and JSON sections (zones, conduits,
channels, owners, findings), for the CLI tables and the export."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from otseam.model.convergence import Convergence, Finding
from otseam.reports.export import iso_time

__all__ = [
    "channel_rows",
    "conduit_rows",
    "convergence_sections",
    "finding_rows",
    "owner_rows",
    "placement_rows",
    "zone_rows",
]


def _level(level: float | None) -> float | int | None:
    return int(level) if level is not None and level == int(level) else level


def zone_rows(conv: Convergence) -> list[dict[str, Any]]:
    return [
        {
            "name": z.name,
            "kind": z.kind,
            "purdue_level": _level(z.purdue_level),
            "cidrs": list(z.cidrs),
            "vlans": list(z.vlans),
            "owner": z.owner,
            "assets": z.assets,
            "source": z.source,
            "evidence": z.evidence,
        }
        for z in conv.zones
    ]


def placement_rows(conv: Convergence) -> list[dict[str, Any]]:
    return [
        {
            "asset": p.name,
            "id": p.asset_id,
            "role": p.role,
            "ips": list(p.ips),
            "zone": p.zone,
            "zones": list(p.zones),
            "purdue_level": _level(p.purdue_level),
            "evidence": p.evidence,
        }
        for p in conv.placements
    ]


def conduit_rows(conv: Convergence) -> list[dict[str, Any]]:
    return [
        {
            "from": c.src_zone,
            "to": c.dst_zone,
            "services": list(c.services),
            "conversations": c.conversations,
            "packets": c.packets,
            "bytes": c.bytes,
            "first_seen": iso_time(c.first_seen),
            "last_seen": iso_time(c.last_seen),
            "crossing": c.crossing,
            "it_ot": c.it_ot,
            "allowed": c.allowed,
            "conduits": list(c.conduits),
            "denied_services": list(c.denied_services),
        }
        for c in conv.conduits
    ]


def channel_rows(conv: Convergence) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "kind": c.kind,
            "status": c.status,
            "registered": c.registered,
            "approved": c.approved,
            "manager": c.manager,
            "vendor": c.vendor,
            "inside": list(c.inside),
            "outside": list(c.outside),
            "services": list(c.services),
            "sessions": c.sessions,
            "packets": c.packets,
            "bytes": c.bytes,
            "first_seen": iso_time(c.first_seen),
            "last_seen": iso_time(c.last_seen),
            "evidence": c.evidence,
        }
        for c in conv.channels
    ]


def owner_rows(conv: Convergence) -> list[dict[str, Any]]:
    return [
        {
            "kind": r.subject_kind,
            "subject": r.subject,
            "zone": r.zone,
            "role": r.role,
            "owner": r.owner or "NOBODY",
            "owner_source": r.owner_source,
            "updated_by": r.updated_by or ("NOBODY" if r.subject_kind == "asset" else None),
            "notify": list(r.notify),
            "criticality": r.criticality,
        }
        for r in conv.responsibilities
    ]


def _evidence(value: Any, key: str = "") -> Any:
    """Evidence with times as ISO text (keys ending in _seen hold nanoseconds)."""
    if isinstance(value, dict):
        return {k: _evidence(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_evidence(v) for v in value]
    if key.endswith("_seen") and isinstance(value, int):
        return iso_time(value)
    return value


def finding_document(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "kind": f.kind,
        "severity": f.severity,
        "title": f.title,
        "zone": f.zone,
        "assets": list(f.assets),
        "channel": f.channel,
        "evidence": _evidence(f.evidence),
        "owners": [asdict(o) for o in f.owners],
        "state": f.state,
        "state_by": f.state_by,
        "state_why": f.state_why,
    }


def finding_rows(
    conv: Convergence, include_suppressed: bool = False, table: bool = True
) -> list[dict[str, Any]]:
    """Findings with their owners' names; a table also gets packets and last seen."""
    rows = []
    for f in conv.findings:
        if f.state == "suppressed" and not include_suppressed:
            continue
        row = finding_document(f)
        row["owners"] = sorted({o.party for o in f.owners})
        if table:
            row["packets"] = f.evidence.get("packets", f.evidence.get("count"))
            row["last_seen"] = iso_time(f.evidence.get("last_seen"))
        rows.append(row)
    return rows


def convergence_sections(conv: Convergence) -> dict[str, Any]:
    """The export's zones[], conduits[], channels[], findings[] (and placements, owners)."""
    return {
        "site": {
            "name": conv.site_name,
            "zones_from": "site" if conv.site_given else "suggested",
            "monitoring": conv.monitoring,
        },
        "zones": zone_rows(conv),
        "placements": placement_rows(conv),
        "conduits": conduit_rows(conv),
        "channels": channel_rows(conv),
        "owners": owner_rows(conv),
        "findings": [finding_document(f) for f in conv.findings],
    }
