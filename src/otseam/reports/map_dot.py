"""The map as Graphviz DOT, and as SVG drawn by Graphviz's ``dot`` program.

Zones are clusters (``subgraph cluster_<n>``) coloured by kind and stacked in
Purdue order, top to bottom: invisible edges chain each tier of zones to the
next, and the traffic edges between zones do not constrain the ranks (a
level-1 PLC answering a level-4 server must not pull it upwards). Node ids are
generated (``z0``, ``z0a1``); names appear only in quoted, escaped labels.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from itertools import pairwise
from typing import Final

from otseam.errors import ConfigError
from otseam.model.convergence import Convergence, Placement, ZoneUse
from otseam.reports.map_graph import (
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
    zone_tiers,
)

__all__ = ["DOT_MISSING", "KIND_COLOURS", "dot_to_svg", "render_dot"]

DOT_MISSING: Final = (
    "Graphviz 'dot' is not installed: install the Debian package graphviz "
    "(apt-get install graphviz), or use --format dot"
)
# Zone kind -> (fill, border).
KIND_COLOURS: Final = {
    "it": ("#dbe9f6", "#1f5fa8"),
    "dmz": ("#fdebc8", "#b7791f"),
    "ot": ("#dcefdc", "#2f7d32"),
    "external": ("#e6e6e6", "#666666"),
}
_OTHER_COLOURS: Final = ("#ffffff", "#999999")
_DENIED: Final = "#d62728"  # red: no conduit allows it
_IT_OT: Final = "#ff7f0e"  # orange: an allowed (or unjudged) IT/OT crossing
_CROSSING: Final = "#333333"
_INTERNAL: Final = "#999999"
_SHOWN_SERVICES: Final = 3
_SVG_TIMEOUT: Final = 120.0


def quote(*lines: str) -> str:
    """A DOT quoted string showing ``lines`` literally, one per line.

    Backslash and quote are escaped for DOT, ``&`` so that Graphviz does not
    read an entity, and control characters are made visible first, so the only
    line breaks are the ones between ``lines``.
    """
    escaped = (
        visible(line).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
        for line in lines
    )
    return '"' + "\\n".join(escaped) + '"'


def _attrs(**attrs: str | float) -> str:
    return "[" + ", ".join(f"{k}={v}" for k, v in attrs.items()) + "]"


def _cluster_label(zone: ZoneUse) -> str:
    level = level_text(zone.purdue_level)
    detail = zone.kind if level is None else f"{zone.kind}, level {level}"
    return quote(f"{zone.name} ({detail})")


def _edge_style(edge: Attrs) -> dict[str, str | float]:
    if edge["allowed"] is False:
        colour = _DENIED
    elif edge["it_ot"]:
        colour = _IT_OT
    else:
        colour = _CROSSING if edge["crossing"] else _INTERNAL
    style: dict[str, str | float] = {"color": f'"{colour}"', "fontcolor": f'"{colour}"'}
    style["penwidth"] = 2.5 if edge["crossing"] else 1.0
    if edge["crossing"]:
        style["constraint"] = "false"
    return style


def _edge_line(src: str, dst: str, edge: Attrs) -> str:
    services = as_strs(edge["services"])
    shown = ", ".join(services[:_SHOWN_SERVICES]) or "no services"
    if len(services) > _SHOWN_SERVICES:
        shown += f" +{len(services) - _SHOWN_SERVICES} more"
    volume = f"{as_int(edge['conversations'])} conv · {human_bytes(as_int(edge['bytes']))}"
    lines = [shown, volume] + (["NOT ALLOWED"] if edge["allowed"] is False else [])
    return f"  {src} -> {dst} {_attrs(label=quote(*lines), **_edge_style(edge))};"


def _cluster(n: int, zone: ZoneUse, body: list[str]) -> Iterator[str]:
    fill, border = KIND_COLOURS.get(zone.kind, _OTHER_COLOURS)
    yield f"  subgraph cluster_{n} {{"
    yield f"    label={_cluster_label(zone)};"
    yield f'    style="filled,rounded"; fillcolor="{fill}"; color="{border}"; penwidth=1.5;'
    yield from (f"    {line}" for line in body)
    yield "  }"


def _purdue_order(tops: list[list[str]], bottoms: list[list[str]]) -> Iterator[str]:
    """Invisible edges from the bottom nodes of each tier to the top nodes of the next."""
    for upper, lower in pairwise(range(len(tops))):
        for src in bottoms[upper]:
            for dst in tops[lower]:
                yield f"  {src} -> {dst} [style=invis, weight=10];"


def _zone_level(conv: Convergence) -> Iterator[str]:
    zones = map_zones(conv)
    ids = {zone.name: f"z{n}" for n, zone in enumerate(zones)}
    for n, zone in enumerate(zones):
        label = [zone.name, f"{zone.assets} asset{'' if zone.assets == 1 else 's'}"]
        if zone.owner:
            label.append(f"owner: {zone.owner}")
        yield from _cluster(n, zone, [f"z{n} {_attrs(label=quote(*label))};"])
    tiers = [[ids[z.name] for z in tier] for tier in zone_tiers(zones)]
    yield from _purdue_order(tiers, tiers)
    for conduit in ordered_conduits(conv, zones):
        edge = conduit_edge(conduit)
        yield _edge_line(ids[conduit.src_zone], ids[conduit.dst_zone], edge)


def _asset_label(placement: Placement) -> str:
    ips = ", ".join(placement.ips[:3]) + (" …" if len(placement.ips) > 3 else "")
    return quote(*(line for line in (placement.name, placement.role, ips) if line))


def _asset_level(conv: Convergence) -> Iterator[str]:
    zones = map_zones(conv)
    ids = AssetIds()
    # Each cluster has an invisible anchor above its assets; the assets of one
    # tier sit above the anchors of the next, so clusters stack by Purdue level.
    anchors: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for n, group in enumerate(asset_groups(conv, zones)):
        anchor = anchors[group.zone.name] = f"z{n}anchor"
        body = [f'{anchor} [shape=point, style=invis, width=0, label=""];']
        for m, placement in enumerate(group.placements):
            node_id = f"z{n}a{m}"
            ids.add(placement, node_id)
            extra = {"peripheries": 2} if placement.is_gateway else {}
            body.append(f"{node_id} {_attrs(label=_asset_label(placement), **extra)};")
            body.append(f"{anchor} -> {node_id} [style=invis];")
        members[group.zone.name] = [f"z{n}a{m}" for m in range(len(group.placements))] or [anchor]
        yield from _cluster(n, group.zone, body)
    tiers = zone_tiers(zones)
    tops = [[anchors[z.name] for z in tier] for tier in tiers]
    yield from _purdue_order(tops, [[m for z in tier for m in members[z.name]] for tier in tiers])
    index = conduit_index(conv)
    for edge in ordered_asset_edges(conv, zones):
        src, dst = ids.find(edge.src, edge.src_zone), ids.find(edge.dst, edge.dst_zone)
        yield _edge_line(src, dst, asset_edge(edge, index))


def render_dot(conv: Convergence, level: str) -> str:
    """The map at ``level`` ('zone' or 'asset') as a Graphviz DOT digraph."""
    title = f"{conv.site_name}: {level} map"
    head = [
        "digraph otseam_map {",
        f'  graph [label={quote(title)}, labelloc=t, rankdir=TB, newrank=true, charset="UTF-8",'
        ' fontname="Helvetica"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica",'
        " fontsize=10];",
        '  edge [fontname="Helvetica", fontsize=8];',
    ]
    body = _zone_level(conv) if level == "zone" else _asset_level(conv)
    return "\n".join([*head, *body, "}"]) + "\n"


def dot_to_svg(dot: str, timeout: float = _SVG_TIMEOUT) -> str:
    """SVG drawn by Graphviz ``dot -Tsvg`` from DOT text.

    Raises ConfigError when ``dot`` is missing, fails or takes longer than ``timeout`` seconds.
    """
    program = shutil.which("dot")
    if program is None:
        raise ConfigError(DOT_MISSING)
    try:
        done = subprocess.run(
            [program, "-Tsvg"], input=dot.encode("utf-8"), capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(
            f"Graphviz 'dot' ({program}) took longer than {timeout:g} s to draw the map: "
            "draw the zone level, or use --format dot and run dot yourself"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"Graphviz 'dot' ({program}) could not be run: {exc}") from exc
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip() or "no message"
        raise ConfigError(
            f"Graphviz 'dot' ({program}) failed with exit status {done.returncode}: {problem}; "
            "use --format dot to keep the input it was given"
        )
    return done.stdout.decode("utf-8", "replace")
