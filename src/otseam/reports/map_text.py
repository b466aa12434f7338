"""The map as an indented listing: one block per zone, in Purdue order (docs/map.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from otseam.model.convergence import AssetEdge, Convergence, Placement, ZoneUse
from otseam.reports.map_graph import (
    UNZONED_KIND,
    AssetGroup,
    AssetIds,
    Attrs,
    as_int,
    as_strs,
    asset_edge,
    asset_groups,
    conduit_edge,
    conduit_index,
    human_bytes,
    level_text,
    map_zones,
    ordered_asset_edges,
    ordered_conduits,
    visible,
    zone_of,
)

__all__ = ["edge_summary", "render_text", "services_text", "zone_heading"]

_SHOWN_SERVICES: Final = 6


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def services_text(services: Sequence[str], limit: int = _SHOWN_SERVICES) -> str:
    """'modbus/tcp/502, tcp/80' with at most ``limit`` named, then '+N more'."""
    if not services:
        return "no services"
    shown = ", ".join(visible(s) for s in services[:limit])
    rest = len(services) - limit
    return f"{shown} +{rest} more" if rest > 0 else shown


def zone_heading(zone: ZoneUse) -> str:
    """'enterprise (it, level 4, 6 assets, owner IT operations)'; '(no zone) (2 assets)'."""
    if zone.kind == UNZONED_KIND:
        return f"{visible(zone.name)} ({_plural(zone.assets, 'asset')})"
    parts = [visible(zone.kind)]
    level = level_text(zone.purdue_level)
    if level is not None:
        parts.append(f"level {level}")
    parts.append(_plural(zone.assets, "asset"))
    if zone.owner:
        parts.append(f"owner {visible(zone.owner)}")
    return f"{visible(zone.name)} ({', '.join(parts)})"


def _flags(edge: Attrs) -> list[str]:
    flags = []
    if edge["allowed"] is False:
        denied = as_strs(edge.get("denied_services"))
        narrowed = denied and set(denied) != set(as_strs(edge["services"]))
        flags.append(f"NOT ALLOWED ({services_text(denied)})" if narrowed else "NOT ALLOWED")
    elif edge["allowed"] is True:
        flags.append("allowed")
    if edge["it_ot"]:
        flags.append("IT/OT crossing")
    elif edge["crossing"]:
        flags.append("crossing")
    return flags


def edge_summary(edge: Attrs) -> str:
    """'modbus/tcp/502 · 3 conversations · 12.3 kB · NOT ALLOWED · IT/OT crossing'."""
    parts = [
        services_text(as_strs(edge["services"])),
        _plural(as_int(edge["conversations"]), "conversation"),
        human_bytes(as_int(edge["bytes"])),
        *_flags(edge),
    ]
    return " · ".join(parts)


def _zone_level(conv: Convergence) -> list[str]:
    zones = map_zones(conv)
    conduits = ordered_conduits(conv, zones)
    lines = [
        f"{visible(conv.site_name)}: {_plural(len(zones), 'zone')}, "
        f"{_plural(len(conduits), 'conduit')}"
    ]
    for zone in zones:
        lines.append(zone_heading(zone))
        for conduit in conduits:
            if conduit.src_zone != zone.name:
                continue
            target = visible(conduit.dst_zone)
            if conduit.dst_zone == zone.name:
                target += " (within the zone)"
            lines.append(f"  -> {target}: {edge_summary(conduit_edge(conduit))}")
    return lines


def _asset_line(placement: Placement) -> str:
    ips = ", ".join(visible(ip) for ip in placement.ips) or "no address"
    gateway = ", gateway" if placement.is_gateway else ""
    return f"  {visible(placement.name)} ({visible(placement.role)}{gateway}) {ips}"


def _outgoing(groups: list[AssetGroup], edges: list[AssetEdge]) -> dict[str, list[AssetEdge]]:
    """The edges each placement started, keyed 'group:index'."""
    ids = AssetIds()
    for n, group in enumerate(groups):
        for m, placement in enumerate(group.placements):
            ids.add(placement, f"{n}:{m}")
    outgoing: dict[str, list[AssetEdge]] = {}
    for edge in edges:
        outgoing.setdefault(ids.find(edge.src, edge.src_zone), []).append(edge)
    return outgoing


def _asset_level(conv: Convergence) -> list[str]:
    zones = map_zones(conv)
    groups = asset_groups(conv, zones)
    edges = ordered_asset_edges(conv, zones)
    outgoing = _outgoing(groups, edges)
    index = conduit_index(conv)
    assets = sum(len(g.placements) for g in groups)
    lines = [
        f"{visible(conv.site_name)}: {_plural(assets, 'asset')}, {_plural(len(edges), 'edge')}"
    ]
    for n, group in enumerate(groups):
        lines.append(zone_heading(group.zone))
        if not group.placements:
            lines.append("  (no assets)")
        for m, placement in enumerate(group.placements):
            lines.append(_asset_line(placement))
            for edge in outgoing.get(f"{n}:{m}", []):
                target = visible(edge.dst)
                if edge.crossing:
                    target += f" [{visible(zone_of(edge.dst_zone))}]"
                lines.append(f"    -> {target}: {edge_summary(asset_edge(edge, index))}")
    return lines


def render_text(conv: Convergence, level: str) -> str:
    """The map at ``level`` ('zone' or 'asset') as an indented listing."""
    lines = _zone_level(conv) if level == "zone" else _asset_level(conv)
    return "\n".join(lines) + "\n"
