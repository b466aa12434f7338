"""The conduit matrix: which zone opens conversations to which, over what.

Each cell counts the conversations initiated from ``src_zone`` to
``dst_zone``, with their services, packets, bytes and first/last seen. A cell
is allowed when the site file states conduits and every service in the cell
is allowed by one (traffic inside one zone always is). Asset-level edges are
the same aggregation by asset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from otseam.analysis.facts import Flow, is_group
from otseam.analysis.zoning import Zoning
from otseam.model.convergence import AssetEdge, ConduitUse
from otseam.site.model import Conduit, Service, Site

__all__ = ["UNZONED", "allowing_conduit", "asset_edges", "conduit_matrix", "is_it_ot"]

UNZONED: Final = "(no zone)"


def is_it_ot(zoning: Zoning, a: str | None, b: str | None) -> bool:
    return {zoning.kind(a), zoning.kind(b)} == {"it", "ot"}


def _matches(service: Service, flow: Flow) -> bool:
    return (
        (service.protocol is None or service.protocol == flow.app)
        and (service.transport is None or service.transport == flow.transport)
        and (service.port is None or service.port == flow.port)
    )


def allowing_conduit(site: Site, src: str | None, dst: str | None, flow: Flow) -> Conduit | None:
    """The site conduit allowing ``flow`` from zone ``src`` to ``dst``, if any."""
    for conduit in site.conduits:
        if (conduit.src_zone, conduit.dst_zone) != (src, dst):
            continue
        if not conduit.services or any(_matches(s, flow) for s in conduit.services):
            return conduit
    return None


@dataclass
class _Cell:
    services: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)
    conduits: set[str] = field(default_factory=set)
    conversations: int = 0
    packets: int = 0
    bytes: int = 0
    first_seen: int = 0
    last_seen: int = 0

    def add(self, flow: Flow) -> None:
        self.services.add(flow.service)
        self.conversations += 1
        self.packets += flow.packets
        self.bytes += flow.bytes
        if not self.first_seen or flow.first_seen < self.first_seen:
            self.first_seen = flow.first_seen
        self.last_seen = max(self.last_seen, flow.last_seen)


def conduit_matrix(site: Site, flows: Iterable[Flow], zoning: Zoning) -> list[ConduitUse]:
    """Zone x zone cells, busiest first."""
    cells: dict[tuple[str, str], _Cell] = {}
    for flow in flows:
        src, dst = zoning.zone_of(flow.client), zoning.zone_of(flow.server)
        if (src is None and dst is None) or is_group(flow.server):
            continue
        cell = cells.setdefault((src or UNZONED, dst or UNZONED), _Cell())
        cell.add(flow)
        if src and dst and src != dst and site.conduits:
            conduit = allowing_conduit(site, src, dst, flow)
            if conduit:
                cell.conduits.add(conduit.name)
            else:
                cell.denied.add(flow.service)
    uses = [_use(site, key, cell, zoning) for key, cell in cells.items()]
    return sorted(uses, key=lambda u: (-u.bytes, u.src_zone, u.dst_zone))


def _use(site: Site, key: tuple[str, str], cell: _Cell, zoning: Zoning) -> ConduitUse:
    src, dst = key
    crossing = src != dst
    allowed = None if not site.conduits else (not crossing or not cell.denied)
    return ConduitUse(
        src,
        dst,
        tuple(sorted(cell.services)),
        cell.conversations,
        cell.packets,
        cell.bytes,
        cell.first_seen,
        cell.last_seen,
        crossing,
        is_it_ot(zoning, src, dst),
        allowed,
        tuple(sorted(cell.conduits)),
        tuple(sorted(cell.denied)),
    )


def asset_edges(flows: list[Flow], name: Callable[[str], str], zoning: Zoning) -> list[AssetEdge]:
    """Asset-to-asset edges (``name`` gives an address's asset name), busiest first;
    multicast and broadcast are nobody's asset and are left out."""
    cells: dict[tuple[str, str], _Cell] = {}
    zone_by_name: dict[str, str | None] = {}
    for flow in flows:
        if is_group(flow.server):
            continue
        src, dst = name(flow.client), name(flow.server)
        cells.setdefault((src, dst), _Cell()).add(flow)
        zone_by_name.setdefault(src, zoning.zone_of(flow.client))
        zone_by_name.setdefault(dst, zoning.zone_of(flow.server))
    edges = []
    for (src, dst), cell in cells.items():
        a, b = zone_by_name.get(src), zone_by_name.get(dst)
        edges.append(
            AssetEdge(
                src, dst, a, b, tuple(sorted(cell.services)), cell.conversations, cell.bytes, a != b
            )
        )
    return sorted(edges, key=lambda e: (-e.bytes, e.src, e.dst))
