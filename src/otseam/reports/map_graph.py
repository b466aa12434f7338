"""The map as plain data: zones in Purdue order, nodes and edges as JSON-ready dicts.

Every map format (text, JSON, GraphML, DOT) reads its zones, groups, nodes and
edges from here, so the formats cannot disagree about what the map shows. The
dicts are what ``otseam map --format json`` writes (docs/map.md).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from otseam.analysis.conduits import UNZONED
from otseam.model.convergence import AssetEdge, ConduitUse, Convergence, Placement, ZoneUse
from otseam.reports.export import iso_time

__all__ = [
    "UNKNOWN_KIND",
    "UNZONED",
    "UNZONED_KIND",
    "AssetGroup",
    "AssetIds",
    "Attrs",
    "ConduitIndex",
    "JsonValue",
    "as_int",
    "as_strs",
    "asset_edge",
    "asset_groups",
    "asset_node",
    "conduit_edge",
    "conduit_index",
    "human_bytes",
    "level_text",
    "map_zones",
    "ordered_asset_edges",
    "ordered_conduits",
    "visible",
    "zone_node",
    "zone_of",
    "zone_tiers",
]

JsonValue = str | int | float | bool | None | list[str] | list[int]
Attrs = dict[str, JsonValue]

# The kind of a zone that traffic or a placement names but the zone list lacks.
UNKNOWN_KIND: Final = "unknown"
# The kind of the pseudo-zone UNZONED: the addresses in no zone (placements with zone None).
UNZONED_KIND: Final = "unzoned"
_ESCAPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def visible(text: str) -> str:
    """``text`` with control, format and separator characters shown as ``\\xNN`` / ``\\uNNNN``.

    Names come from the network: a newline or a bidi override in an asset name
    must not rearrange a listing or a drawing.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        if unicodedata.category(char) in _ESCAPED_CATEGORIES:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def as_strs(value: JsonValue) -> list[str]:
    """A list attribute of a node or edge as strings ([] for anything else)."""
    return [str(item) for item in value] if isinstance(value, list) else []


def as_int(value: JsonValue) -> int:
    """A count attribute of a node or edge (0 for anything but an integer)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _clean(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes) replaced, so it can be written as UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


def human_bytes(count: int) -> str:
    """'512 B', '12.3 kB', '4.0 MB' (decimal units)."""
    if count < 1000:
        return f"{count} B"
    value = float(count)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def level_text(level: float | None) -> str | None:
    """'4', '3.5', or None for no Purdue level."""
    if level is None:
        return None
    return f"{level:g}"


def _tier(zone: ZoneUse) -> tuple[int, float]:
    """External first, then Purdue levels from 5 down to 0, zones without a level, no zone."""
    if zone.kind == "external":
        return (0, 0.0)
    if zone.kind == UNZONED_KIND:
        return (3, 0.0)
    if zone.purdue_level is None:
        return (2, 0.0)
    return (1, -zone.purdue_level)


def zone_of(name: str | None) -> str:
    """A zone name, with None (in no zone) as the pseudo-zone UNZONED."""
    return UNZONED if name is None else name


def _referenced_zones(conv: Convergence) -> Iterable[str | None]:
    for conduit in conv.conduits:
        yield conduit.src_zone
        yield conduit.dst_zone
    for placement in conv.placements:
        yield placement.zone
    for edge in conv.edges:
        yield edge.src_zone
        yield edge.dst_zone


def map_zones(conv: Convergence) -> list[ZoneUse]:
    """The zones in map order, plus any zone only named by a conduit, placement or edge."""
    zones: dict[str, ZoneUse] = {}
    for zone in conv.zones:
        zones.setdefault(zone.name, zone)
    for name in map(zone_of, _referenced_zones(conv)):
        if name not in zones:
            unzoned = name == UNZONED
            zones[name] = ZoneUse(
                name=name,
                kind=UNZONED_KIND if unzoned else UNKNOWN_KIND,
                purdue_level=None,
                cidrs=(),
                vlans=(),
                owner=None,
                source="suggested",
                evidence="addresses in no zone" if unzoned else "named by traffic only",
                assets=sum(1 for p in conv.placements if unzoned and p.zone is None),
            )
    return sorted(zones.values(), key=lambda z: (*_tier(z), z.name))


def zone_tiers(zones: list[ZoneUse]) -> list[list[ZoneUse]]:
    """``zones`` (in map order) cut into runs on the same tier: one run per Purdue level."""
    tiers: list[list[ZoneUse]] = []
    for zone in zones:
        if tiers and _tier(tiers[-1][0]) == _tier(zone):
            tiers[-1].append(zone)
        else:
            tiers.append([zone])
    return tiers


def _zone_index(zones: list[ZoneUse]) -> dict[str, int]:
    return {zone.name: i for i, zone in enumerate(zones)}


def ordered_conduits(conv: Convergence, zones: list[ZoneUse]) -> list[ConduitUse]:
    """The conduits by source zone, then destination zone, in map order."""
    index = _zone_index(zones)
    return sorted(
        conv.conduits,
        key=lambda c: (index[zone_of(c.src_zone)], index[zone_of(c.dst_zone)], c.services),
    )


@dataclass(frozen=True, slots=True)
class AssetGroup:
    """The assets of one zone (the pseudo-zone UNZONED: assets in no zone), by name."""

    zone: ZoneUse
    placements: tuple[Placement, ...]


def _edge_only_placements(conv: Convergence) -> list[Placement]:
    """A bare placement for each asset an edge names but no placement describes."""
    known = {p.name for p in conv.placements}
    extra: dict[str, Placement] = {}
    for edge in conv.edges:
        for name, zone in ((edge.src, edge.src_zone), (edge.dst, edge.dst_zone)):
            if name not in known and name not in extra:
                extra[name] = Placement(
                    asset_id=-1,
                    key="",
                    name=name,
                    role="unknown",
                    ips=(),
                    macs=(),
                    zone=zone,
                    zones=() if zone is None else (zone,),
                    purdue_level=None,
                    evidence="named by an edge, not among the placements",
                )
    return list(extra.values())


def asset_groups(conv: Convergence, zones: list[ZoneUse]) -> list[AssetGroup]:
    """One group per zone in map order (``zones`` from :func:`map_zones`)."""
    members: dict[str, list[Placement]] = {}
    for placement in (*conv.placements, *_edge_only_placements(conv)):
        members.setdefault(zone_of(placement.zone), []).append(placement)
    return [AssetGroup(zone, _by_name(members.get(zone.name, []))) for zone in zones]


class AssetIds:
    """Node ids of assets, found from an edge's end: by (name, zone), else by name alone.

    A dual-homed asset can be placed in two zones under one name; its edges go
    to the placement in the zone the edge names.
    """

    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], str] = {}
        self._named: dict[str, str] = {}

    def add(self, placement: Placement, node_id: str) -> None:
        self._exact.setdefault((placement.name, zone_of(placement.zone)), node_id)
        self._named.setdefault(placement.name, node_id)

    def find(self, name: str, zone: str | None) -> str:
        return self._exact.get((name, zone_of(zone))) or self._named[name]


def _by_name(placements: list[Placement]) -> tuple[Placement, ...]:
    return tuple(sorted(placements, key=lambda p: (p.name.casefold(), p.name, p.key)))


def ordered_asset_edges(conv: Convergence, zones: list[ZoneUse]) -> list[AssetEdge]:
    """The asset edges by source zone and name, then destination zone and name."""
    index = _zone_index(zones)
    return sorted(
        conv.edges,
        key=lambda e: (
            index[zone_of(e.src_zone)],
            e.src,
            index[zone_of(e.dst_zone)],
            e.dst,
            e.services,
        ),
    )


def zone_node(zone: ZoneUse) -> Attrs:
    """A zone as a map node."""
    return {
        "id": _clean(zone.name),
        "name": _clean(zone.name),
        "kind": _clean(zone.kind),
        "purdue_level": zone.purdue_level,
        "assets": zone.assets,
        "owner": None if zone.owner is None else _clean(zone.owner),
        "source": zone.source,
        "cidrs": [_clean(c) for c in zone.cidrs],
        "vlans": list(zone.vlans),
    }


def conduit_edge(conduit: ConduitUse) -> Attrs:
    """A cell of the zone x zone matrix as a map edge."""
    return {
        "source": _clean(conduit.src_zone),
        "target": _clean(conduit.dst_zone),
        "services": [_clean(s) for s in conduit.services],
        "conversations": conduit.conversations,
        "packets": conduit.packets,
        "bytes": conduit.bytes,
        "first_seen": iso_time(conduit.first_seen),
        "last_seen": iso_time(conduit.last_seen),
        "crossing": conduit.crossing,
        "it_ot": conduit.it_ot,
        "allowed": conduit.allowed,
        "conduits": [_clean(c) for c in conduit.conduits],
        "denied_services": [_clean(s) for s in conduit.denied_services],
    }


def asset_node(placement: Placement) -> Attrs:
    """A placed asset as a map node."""
    return {
        "id": _clean(placement.name),
        "key": _clean(placement.key),
        "name": _clean(placement.name),
        "role": _clean(placement.role),
        "ips": [_clean(ip) for ip in placement.ips],
        "macs": [_clean(mac) for mac in placement.macs],
        "zone": None if placement.zone is None else _clean(placement.zone),
        "zones": [_clean(z) for z in placement.zones],
        "purdue_level": placement.purdue_level,
        "is_gateway": placement.is_gateway,
    }


def _edge_allowed(edge: AssetEdge, conduit: ConduitUse | None) -> bool | None:
    """Whether the site's conduits allow this edge: its zone pair's verdict, narrowed
    to the edge's own services when only some of the pair's services are denied."""
    if conduit is None or conduit.allowed is not False:
        return None if conduit is None else conduit.allowed
    denied = set(conduit.denied_services)
    return not (not denied or denied & set(edge.services))


ConduitIndex = dict[tuple[str, str], ConduitUse]


def conduit_index(conv: Convergence) -> ConduitIndex:
    """The conduits by (source zone, destination zone), for :func:`asset_edge`."""
    return {(c.src_zone, c.dst_zone): c for c in conv.conduits}


def asset_edge(edge: AssetEdge, conduits: ConduitIndex) -> Attrs:
    """An asset-to-asset edge as a map edge, with its zone pair's IT/OT and policy verdict."""
    conduit = conduits.get((zone_of(edge.src_zone), zone_of(edge.dst_zone)))
    return {
        "source": _clean(edge.src),
        "target": _clean(edge.dst),
        "src_zone": None if edge.src_zone is None else _clean(edge.src_zone),
        "dst_zone": None if edge.dst_zone is None else _clean(edge.dst_zone),
        "services": [_clean(s) for s in edge.services],
        "conversations": edge.conversations,
        "bytes": edge.bytes,
        "crossing": edge.crossing,
        "it_ot": False if conduit is None else conduit.it_ot,
        "allowed": _edge_allowed(edge, conduit),
    }
