"""What every finding rule reads: the site, the facts, the zones and placements,
and the helpers that give a finding its stable id, evidence and owners."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from otseam.analysis.facts import Facts, Flow
from otseam.analysis.zoning import Zoning
from otseam.model.convergence import Finding, Placement, Responsible, Severity
from otseam.site.model import AssetOverride, Site

__all__ = ["EVIDENCE_LIMIT", "Context", "finding_id"]

EVIDENCE_LIMIT: Final = 20  # conversations listed in a finding's evidence; all are counted


def finding_id(kind: str, *parts: object) -> str:
    """A stable id from what the finding is about (never from counts or times)."""
    text = "|".join([kind, *(str(p) for p in parts)])
    return "F-" + hashlib.blake2s(text.encode(), digest_size=5).hexdigest()


@dataclass
class Context:
    site: Site
    facts: Facts
    zoning: Zoning
    placements: list[Placement]
    overrides: dict[int, AssetOverride | None]  # asset id -> the site file's entry for it
    by_address: dict[str, Placement] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for place in self.placements:
            for address in (*place.ips, *place.macs):
                self.by_address[address] = place

    def name(self, address: str) -> str:
        place = self.by_address.get(address)
        return place.name if place else address

    def key(self, address: str) -> str:
        place = self.by_address.get(address)
        return place.key if place else address

    def zone(self, address: str) -> str | None:
        return self.zoning.zone_of(address)

    def evidence(self, flows: Iterable[Flow], **extra: Any) -> dict[str, Any]:
        """Conversations (the first few listed), packet and byte totals, first/last seen."""
        flows = sorted(flows, key=lambda f: (f.first_seen, f.id))
        listed = [
            {
                "conversation": f.id,
                "client": f.client,
                "server": f.server,
                "service": f.service,
                "packets": f.packets,
                "bytes": f.bytes,
                "first_seen": f.first_seen,
                "last_seen": f.last_seen,
                "answered": f.answered,
            }
            for f in flows[:EVIDENCE_LIMIT]
        ]
        return {
            "conversations": listed,
            "conversation_count": len(flows),
            "packets": sum(f.packets for f in flows),
            "bytes": sum(f.bytes for f in flows),
            "first_seen": min((f.first_seen for f in flows), default=None),
            "last_seen": max((f.last_seen for f in flows), default=None),
            **extra,
        }

    def owners(
        self,
        zones: Iterable[str | None],
        addresses: Iterable[str] = (),
        channel_manager: str | None = None,
        monitors: bool = False,
    ) -> tuple[Responsible, ...]:
        """Who is responsible, on each side: asset owners, zone owners, the channel's
        manager and the boundary monitors for IT/OT matters."""
        found: dict[tuple[str, str], Responsible] = {}
        for address in addresses:
            asset = self.facts.asset_of.get(address)
            entry = self.overrides.get(asset.id) if asset else None
            if entry and entry.owner:
                self._add(found, entry.owner, "owner", self.zone(address))
            for party in entry.notify if entry else ():
                self._add(found, party, "notify", self.zone(address))
        for zone in dict.fromkeys(zones):
            use = self.zoning.zone(zone)
            if use and use.owner:
                self._add(found, use.owner, "zone_owner", zone)
        if channel_manager:
            self._add(found, channel_manager, "manager", None)
        if monitors:
            for monitor in (self.site.monitoring.it, self.site.monitoring.ot):
                if monitor:
                    self._add(found, monitor, "monitoring", None)
        return tuple(found.values())

    def _add(
        self, found: dict[tuple[str, str], Responsible], party: str, role: str, zone: str | None
    ) -> None:
        if (party, role) in found:
            return
        side = self.site.party_kind(party) or self.zoning.kind(zone)
        found[(party, role)] = Responsible(party, role, side, self.site.contact(party))

    def make(
        self,
        kind: str,
        severity: Severity,
        title: str,
        key: tuple[object, ...],
        *,
        zone: str | None,
        assets: Iterable[str],
        evidence: dict[str, Any],
        owners: tuple[Responsible, ...],
        channel: str | None = None,
    ) -> Finding:
        return Finding(
            finding_id(kind, *key),
            kind,
            severity,
            title,
            zone,
            tuple(dict.fromkeys(assets)),
            channel,
            evidence,
            owners,
        )
