"""Who owns, updates and is told about each asset, zone and channel.

An asset's owner is the one the site file (or an imported spreadsheet)
names for it, else its zone's owner. ``updated_by`` comes only from the site
file: nobody patches a PLC by inheritance. ``notify`` is the asset's own list,
its owner and the boundary monitor of its side. ``unowned`` findings name the
zones and channels with nobody, and, per zone, the assets with nobody.
"""

from __future__ import annotations

from collections import defaultdict

from otseam.analysis.context import Context
from otseam.model.convergence import ChannelUse, Finding, Placement, Responsibility

__all__ = ["responsibilities", "unowned_findings"]


def _asset(ctx: Context, place: Placement) -> Responsibility:
    entry = ctx.overrides.get(place.asset_id)
    zone = ctx.zoning.zone(place.zone)
    owner, source = None, "none"
    if entry and entry.owner:
        owner, source = entry.owner, "site"
    elif zone and zone.owner:
        owner, source = zone.owner, "zone"
    monitor = (
        ctx.site.monitoring.ot
        if zone and zone.kind in ("ot", "dmz")
        else (ctx.site.monitoring.it if zone and zone.kind == "it" else None)
    )
    notify = [*(entry.notify if entry else ()), owner, monitor]
    return Responsibility(
        "asset",
        place.name,
        place.zone,
        owner,
        source,
        entry.updated_by if entry else None,
        tuple(dict.fromkeys(p for p in notify if p)),
        place.role,
        entry.criticality if entry else None,
        place.key,
    )


def responsibilities(ctx: Context, channels: list[ChannelUse]) -> list[Responsibility]:
    found = [_asset(ctx, place) for place in ctx.placements]
    for zone in ctx.zoning.zones:
        notify: tuple[str, ...] = (zone.owner,) if zone.owner else ()
        found.append(
            Responsibility(
                "zone",
                zone.name,
                zone.name,
                zone.owner,
                "site" if zone.owner else "none",
                None,
                notify,
            )
        )
    for channel in channels:
        notify = tuple(p for p in (channel.manager, ctx.site.monitoring.ot) if p)
        found.append(
            Responsibility(
                "channel",
                channel.name,
                None,
                channel.manager,
                "site" if channel.manager else "none",
                None,
                notify,
            )
        )
    return found


def unowned_findings(ctx: Context, found: list[Responsibility]) -> list[Finding]:
    """Zones and channels with nobody; an asset inherits its zone's owner, so
    unowned assets are listed in their zone's finding (or in one for no zone)."""
    assets_by_zone: dict[str | None, list[str]] = defaultdict(list)
    with_ip = {p.name for p in ctx.placements if p.ips}
    for item in found:
        unowned = item.subject_kind == "asset" and not item.owner
        # a MAC alone is not placed anywhere; routers belong to the network's owner
        if unowned and item.role != "network_device" and (item.zone or item.subject in with_ip):
            assets_by_zone[item.zone].append(item.subject)
    findings = []
    for item in found:
        if item.owner or item.subject_kind == "asset":
            continue
        if item.subject_kind == "zone" and ctx.zoning.kind(item.subject) == "external":
            continue
        assets = sorted(assets_by_zone.pop(item.subject, [])) if item.subject_kind == "zone" else []
        title = f"{item.subject_kind.capitalize()} {item.subject} has no owner"
        if assets:
            title += f" ({len(assets)} assets in it have none)"
        findings.append(
            ctx.make(
                "unowned",
                "medium",
                title,
                (item.subject_kind, item.subject),
                zone=item.zone,
                assets=assets,
                channel=item.subject if item.subject_kind == "channel" else None,
                evidence={
                    "subject_kind": item.subject_kind,
                    "subject": item.subject,
                    "assets": assets,
                },
                owners=ctx.owners([item.zone], monitors=True),
            )
        )
    names = sorted(assets_by_zone.get(None, []))
    if names:
        findings.append(
            ctx.make(
                "unowned",
                "low",
                f"{len(names)} assets in no zone have no owner",
                ("assets", None),
                zone=None,
                assets=names,
                evidence={"subject_kind": "asset", "assets": names},
                owners=ctx.owners([], monitors=True),
            )
        )
    return findings
