"""``otseam map``: the convergence model drawn as zones and conduits, or assets and edges.

:func:`render_map` is a pure function of a :class:`Convergence` (only the SVG
format runs a program, Graphviz's ``dot``). The formats are described in
docs/map.md; each reads its nodes and edges from :mod:`otseam.reports.map_graph`.
"""

from __future__ import annotations

import json
from typing import Final, Literal, TypedDict

from otseam.errors import ConfigError
from otseam.model.convergence import Convergence
from otseam.reports.map_dot import dot_to_svg, render_dot
from otseam.reports.map_graph import (
    Attrs,
    asset_edge,
    asset_groups,
    asset_node,
    conduit_edge,
    conduit_index,
    map_zones,
    ordered_asset_edges,
    ordered_conduits,
    zone_node,
)
from otseam.reports.map_graphml import render_graphml
from otseam.reports.map_text import render_text

__all__ = [
    "MAP_FORMATS",
    "MAP_LEVELS",
    "MapDocument",
    "MapFormat",
    "MapLevel",
    "map_document",
    "render_map",
]

MapLevel = Literal["zone", "asset"]
MapFormat = Literal["text", "json", "graphml", "svg", "dot"]
MAP_LEVELS: Final[tuple[MapLevel, ...]] = ("zone", "asset")
MAP_FORMATS: Final[tuple[MapFormat, ...]] = ("text", "json", "graphml", "svg", "dot")


class MapDocument(TypedDict):
    """What ``--format json`` writes (docs/map.md lists the node and edge fields)."""

    level: MapLevel
    nodes: list[Attrs]
    edges: list[Attrs]


def map_document(conv: Convergence, level: MapLevel) -> MapDocument:
    """The map as plain JSON data: ``{"level", "nodes", "edges"}``, in map order.

    Zone level: the zones (external first, then Purdue level 5 down to 0, then
    zones without a level) and the conduits. Asset level: the assets zone by
    zone, then the assets in no zone, and the asset edges.
    """
    zones = map_zones(conv)
    if level == "zone":
        nodes = [zone_node(zone) for zone in zones]
        edges = [conduit_edge(conduit) for conduit in ordered_conduits(conv, zones)]
    else:
        nodes = [asset_node(p) for group in asset_groups(conv, zones) for p in group.placements]
        index = conduit_index(conv)
        edges = [asset_edge(edge, index) for edge in ordered_asset_edges(conv, zones)]
    return {"level": level, "nodes": nodes, "edges": edges}


def _check(level: str, fmt: str) -> None:
    if level not in MAP_LEVELS:
        raise ConfigError(f"unknown map level {level!r}: use one of {', '.join(MAP_LEVELS)}")
    if fmt not in MAP_FORMATS:
        raise ConfigError(f"unknown map format {fmt!r}: use one of {', '.join(MAP_FORMATS)}")


def render_map(conv: Convergence, level: MapLevel, fmt: MapFormat) -> str:
    """The map of ``conv`` at ``level`` in format ``fmt``, as text to write to a file or stdout.

    Raises ConfigError for an unknown level or format, and for SVG when
    Graphviz's ``dot`` is missing or fails.
    """
    _check(level, fmt)
    if fmt == "text":
        return render_text(conv, level)
    if fmt == "json":
        return json.dumps(map_document(conv, level), indent=2, ensure_ascii=False) + "\n"
    if fmt == "graphml":
        return render_graphml(conv, level)
    dot = render_dot(conv, level)
    return dot if fmt == "dot" else dot_to_svg(dot)
