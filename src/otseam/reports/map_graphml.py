"""The map as GraphML (http://graphml.graphdrawing.org/), for yEd, Gephi or networkx.

A directed graph. At zone level the zones are the nodes. At asset level each
zone is a node holding a nested ``<graph>`` of its assets (GraphML primer,
section 3.3 "Nested Graphs"); assets in no zone sit in the top graph, and all
edges are in the top graph, the common ancestor of their ends. Node and edge
ids are generated (``z0``, ``z0::a1``, ``e3``): names travel only as data, so
an untrusted name cannot collide with or forge an id.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Final

from otseam.model.convergence import Convergence
from otseam.reports.map_graph import (
    AssetGroup,
    AssetIds,
    Attrs,
    JsonValue,
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

__all__ = ["GRAPHML_NS", "render_graphml"]

GRAPHML_NS: Final = "http://graphml.graphdrawing.org/xmlns"
# GraphML attr.type of each attribute; anything not named here is a string
# (lists are written as comma-separated strings).
_TYPES: Final = {
    "purdue_level": "double",
    "assets": "long",
    "conversations": "long",
    "packets": "long",
    "bytes": "long",
    "crossing": "boolean",
    "it_ot": "boolean",
    "allowed": "boolean",
    "is_gateway": "boolean",
}
# Carried by the element itself (id, source, target), not as data.
_STRUCTURAL: Final = frozenset({"id", "source", "target"})


def _xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (shown as ``\\xNN`` instead)."""

    def allowed(code: int) -> bool:
        return (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or (0x10000 <= code <= 0x10FFFF)
        )

    if all(allowed(ord(c)) for c in text):
        return text
    return "".join(c if allowed(ord(c)) else f"\\x{ord(c):02x}" for c in text)


def _value_text(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_xml_safe(str(v)) for v in value)
    if isinstance(value, float):
        return repr(value)
    return _xml_safe(str(value))


class _Document:
    """A GraphML document under construction: keys are declared as attributes appear."""

    def __init__(self) -> None:
        self.root = ET.Element("graphml", {"xmlns": GRAPHML_NS})
        self.keys: dict[tuple[str, str], str] = {}
        self.key_end = 0  # <key> elements precede every <graph>

    def key(self, domain: str, name: str) -> str:
        if (domain, name) not in self.keys:
            key_id = f"{domain[0]}_{name}"
            attrs = {"id": key_id, "for": domain, "attr.name": name}
            attrs["attr.type"] = _TYPES.get(name, "string")
            self.root.insert(self.key_end, ET.Element("key", attrs))
            self.key_end += 1
            self.keys[(domain, name)] = key_id
        return self.keys[(domain, name)]

    def add(self, parent: ET.Element, tag: str, ids: dict[str, str], attrs: Attrs) -> ET.Element:
        element = ET.SubElement(parent, tag, ids)
        for name, value in attrs.items():
            if name in _STRUCTURAL or value is None:
                continue
            data = ET.SubElement(element, "data", {"key": self.key(tag, name)})
            data.text = _value_text(value)
        return element


def _graph(parent: ET.Element, graph_id: str) -> ET.Element:
    return ET.SubElement(parent, "graph", {"id": graph_id, "edgedefault": "directed"})


def _add_edges(doc: _Document, graph: ET.Element, edges: Iterable[tuple[str, str, Attrs]]) -> None:
    for n, (source, target, edge) in enumerate(edges):
        doc.add(graph, "edge", {"id": f"e{n}", "source": source, "target": target}, edge)


def _zone_level(doc: _Document, top: ET.Element, conv: Convergence) -> None:
    zones = map_zones(conv)
    ids = {zone.name: f"z{n}" for n, zone in enumerate(zones)}
    for zone in zones:
        doc.add(top, "node", {"id": ids[zone.name]}, {"type": "zone", **zone_node(zone)})
    conduits = ordered_conduits(conv, zones)
    _add_edges(doc, top, ((ids[c.src_zone], ids[c.dst_zone], conduit_edge(c)) for c in conduits))


def _add_group(doc: _Document, top: ET.Element, n: int, group: AssetGroup, ids: AssetIds) -> None:
    zone = doc.add(top, "node", {"id": f"z{n}"}, {"type": "zone", **zone_node(group.zone)})
    graph, prefix = _graph(zone, f"z{n}:"), f"z{n}::a"
    for m, placement in enumerate(group.placements):
        ids.add(placement, f"{prefix}{m}")
        doc.add(graph, "node", {"id": f"{prefix}{m}"}, {"type": "asset", **asset_node(placement)})


def _asset_level(doc: _Document, top: ET.Element, conv: Convergence) -> None:
    zones = map_zones(conv)
    ids = AssetIds()
    for n, group in enumerate(asset_groups(conv, zones)):
        _add_group(doc, top, n, group, ids)
    index = conduit_index(conv)
    edges = (
        (ids.find(e.src, e.src_zone), ids.find(e.dst, e.dst_zone), asset_edge(e, index))
        for e in ordered_asset_edges(conv, zones)
    )
    _add_edges(doc, top, edges)


def render_graphml(conv: Convergence, level: str) -> str:
    """The map at ``level`` ('zone' or 'asset') as a GraphML document."""
    doc = _Document()
    top = _graph(doc.root, "otseam-map")
    ET.SubElement(top, "desc").text = _xml_safe(f"{conv.site_name}: {level} map")
    if level == "zone":
        _zone_level(doc, top, conv)
    else:
        _asset_level(doc, top, conv)
    ET.indent(doc.root)
    body = ET.tostring(doc.root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
