"""`otseam map` rendering: every format on a small hand-made Convergence, hostile
names in every format, and SVG through the real Graphviz `dot`."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from otseam.errors import ConfigError
from otseam.model.convergence import AssetEdge, ConduitUse, Convergence, Placement, ZoneUse
from otseam.reports.map import MAP_LEVELS, MapLevel, map_document, render_map
from otseam.reports.map_dot import DOT_MISSING
from otseam.reports.map_graph import UNZONED, human_bytes, visible

G = "{http://graphml.graphdrawing.org/xmlns}"
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = 'ctl "A"\\ <script>alert(1)</script>\nx &amp; \x1b[31m'


def zone(
    name: str, kind: str, level: float | None, assets: int, owner: str | None = None
) -> ZoneUse:
    return ZoneUse(name, kind, level, (), (), owner, "site", "site file", assets)


def asset(name: str, role: str, ip: str, zone_name: str | None, level: float | None) -> Placement:
    zones = () if zone_name is None else (zone_name,)
    return Placement(0, f"ip:{ip}", name, role, (ip,), (), zone_name, zones, level, "cidr")


def conduit(
    src: str, dst: str, service: str, allowed: bool | None, it_ot: bool, size: int = 1000
) -> ConduitUse:
    return ConduitUse(
        src, dst, (service,), 3, 30, size, 1, 2, src != dst, it_ot, allowed,
        denied_services=(service,) if allowed is False else (),
    )  # fmt: skip


def edge(src: str, dst: str, src_zone: str, dst_zone: str, service: str) -> AssetEdge:
    return AssetEdge(src, dst, src_zone, dst_zone, (service,), 3, 12_300, src_zone != dst_zone)


def plant(control: str = "control", plc: str = "plc-1") -> Convergence:
    """Four zones; enterprise -> control Modbus is an IT/OT crossing no conduit allows."""
    return Convergence(
        site_name="plant-a",
        site_given=True,
        zones=(
            zone(control, "ot", 1, 2),
            zone("enterprise", "it", 4, 1, owner="IT operations"),
            zone("internet", "external", None, 0),
            zone("dmz", "dmz", 3.5, 1),
        ),
        placements=(
            asset(plc, "plc", "10.1.0.10", control, 1),
            asset("hmi-1", "hmi", "10.1.0.20", control, 2),
            asset("erp", "server", "10.0.0.5", "enterprise", 4),
            asset("historian", "historian", "10.2.0.7", "dmz", 3.5),
        ),
        conduits=(
            conduit("enterprise", control, "modbus/tcp/502", False, True, 12_300),
            conduit(control, "enterprise", "tcp/1433", True, True),
            conduit("dmz", control, "opcua/tcp/4840", True, False),
            conduit(control, control, "modbus/tcp/502", True, False),
            conduit("internet", "enterprise", "tcp/443", None, False),
        ),
        edges=(
            edge("hmi-1", plc, control, control, "modbus/tcp/502"),
            edge("erp", plc, "enterprise", control, "modbus/tcp/502"),
            edge("historian", plc, "dmz", control, "opcua/tcp/4840"),
        ),
        channels=(),
        findings=(),
        responsibilities=(),
    )


def shuffled(conv: Convergence) -> Convergence:
    """The same facts in the reverse order."""
    return dataclasses.replace(
        conv,
        zones=conv.zones[::-1],
        placements=conv.placements[::-1],
        conduits=conv.conduits[::-1],
        edges=conv.edges[::-1],
    )


# -- text ---------------------------------------------------------------------------


def test_text_zone_lists_zones_in_purdue_order_and_flags_the_denied_crossing() -> None:
    text = render_map(plant(), "zone", "text")
    headings = [line for line in text.splitlines()[1:] if not line.startswith(" ")]
    assert headings == [
        "internet (external, 0 assets)",
        "enterprise (it, level 4, 1 asset, owner IT operations)",
        "dmz (dmz, level 3.5, 1 asset)",
        "control (ot, level 1, 2 assets)",
    ]
    lines = text.splitlines()
    below = lines[lines.index(headings[1]) + 1]
    assert below == (
        "  -> control: modbus/tcp/502 · 3 conversations · 12.3 kB · NOT ALLOWED · IT/OT crossing"
    )
    assert (
        "  -> enterprise: tcp/1433 · 3 conversations · 1.0 kB · allowed · IT/OT crossing" in lines
    )
    assert (
        "  -> control (within the zone): modbus/tcp/502 · 3 conversations · 1.0 kB · allowed"
        in lines
    )


def test_text_asset_lists_assets_per_zone_with_outgoing_edges() -> None:
    lines = render_map(plant(), "asset", "text").splitlines()
    start = lines.index("enterprise (it, level 4, 1 asset, owner IT operations)")
    assert lines[start + 1 : start + 3] == [
        "  erp (server) 10.0.0.5",
        "    -> plc-1 [control]: modbus/tcp/502 · 3 conversations · 12.3 kB · NOT ALLOWED"
        " · IT/OT crossing",
    ]
    control = lines.index("control (ot, level 1, 2 assets)")
    assert lines[control + 1 : control + 4] == [
        "  hmi-1 (hmi) 10.1.0.20",
        "    -> plc-1: modbus/tcp/502 · 3 conversations · 12.3 kB · allowed",
        "  plc-1 (plc) 10.1.0.10",
    ]
    assert lines[lines.index("internet (external, 0 assets)") + 1] == "  (no assets)"


# -- json ---------------------------------------------------------------------------


def test_json_zone_has_nodes_and_edges_in_map_order() -> None:
    doc = json.loads(render_map(plant(), "zone", "json"))
    assert set(doc) == {"level", "nodes", "edges"}
    assert doc["level"] == "zone"
    assert [n["name"] for n in doc["nodes"]] == ["internet", "enterprise", "dmz", "control"]
    assert doc["nodes"][1] == {
        "id": "enterprise", "name": "enterprise", "kind": "it", "purdue_level": 4,
        "assets": 1, "owner": "IT operations", "source": "site", "cidrs": [], "vlans": [],
    }  # fmt: skip
    pairs = [(e["source"], e["target"]) for e in doc["edges"]]
    assert pairs == [
        ("internet", "enterprise"),
        ("enterprise", "control"),
        ("dmz", "control"),
        ("control", "enterprise"),
        ("control", "control"),
    ]
    denied = doc["edges"][1]
    assert (denied["allowed"], denied["it_ot"], denied["crossing"]) == (False, True, True)
    assert denied["services"] == ["modbus/tcp/502"] and denied["bytes"] == 12_300


def test_json_is_stable_whatever_the_input_order() -> None:
    for level in MAP_LEVELS:
        assert render_map(plant(), level, "json") == render_map(shuffled(plant()), level, "json")


def test_json_asset_nodes_are_grouped_by_zone_and_edges_carry_the_verdict() -> None:
    doc = map_document(plant(), "asset")
    assert [(n["name"], n["zone"]) for n in doc["nodes"]] == [
        ("erp", "enterprise"),
        ("historian", "dmz"),
        ("hmi-1", "control"),
        ("plc-1", "control"),
    ]
    verdicts = {(e["source"], e["allowed"], e["it_ot"]) for e in doc["edges"]}
    assert verdicts == {("erp", False, True), ("historian", True, False), ("hmi-1", True, False)}


# -- graphml ------------------------------------------------------------------------


def parse_graphml(text: str) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{G}graphml"
    keys = {k.get("id", ""): k for k in root.findall(f"{G}key")}
    for data in root.iter(f"{G}data"):
        assert data.get("key") in keys, data.get("key")
    return root, keys


def data(element: ET.Element, keys: dict[str, ET.Element]) -> dict[str, str]:
    return {
        keys[d.get("key", "")].get("attr.name", ""): d.text or ""
        for d in element.findall(f"{G}data")
    }


def test_graphml_zone_level_is_a_directed_graph_of_zones_with_typed_keys() -> None:
    root, keys = parse_graphml(render_map(plant(), "zone", "graphml"))
    graph = root.find(f"{G}graph")
    assert graph is not None and graph.get("edgedefault") == "directed"
    nodes = graph.findall(f"{G}node")
    edges = graph.findall(f"{G}edge")
    assert len(nodes) == 4 and len(edges) == 5
    types = {(k.get("for"), k.get("attr.name")): k.get("attr.type") for k in keys.values()}
    assert types[("node", "purdue_level")] == "double"
    assert types[("node", "assets")] == "long"
    assert types[("edge", "allowed")] == "boolean"
    assert types[("edge", "bytes")] == "long"
    names = {n.get("id"): data(n, keys)["name"] for n in nodes}
    denied = [e for e in edges if data(e, keys).get("allowed") == "false"]
    assert [(names[e.get("source")], names[e.get("target")]) for e in denied] == [
        ("enterprise", "control")
    ]
    assert data(denied[0], keys)["it_ot"] == "true"
    # internet -> enterprise: no policy, so no "allowed" at all rather than a guess
    assert "allowed" not in data(edges[0], keys)


def test_graphml_asset_level_nests_assets_inside_zone_nodes() -> None:
    root, keys = parse_graphml(render_map(plant(), "asset", "graphml"))
    top = root.find(f"{G}graph")
    assert top is not None
    zones = top.findall(f"{G}node")
    assert [data(z, keys)["name"] for z in zones] == ["internet", "enterprise", "dmz", "control"]
    members = {
        data(z, keys)["name"]: [data(a, keys)["name"] for a in z.findall(f"{G}graph/{G}node")]
        for z in zones
    }
    assert members == {
        "internet": [],
        "enterprise": ["erp"],
        "dmz": ["historian"],
        "control": ["hmi-1", "plc-1"],
    }
    ids = {n.get("id"): data(n, keys)["name"] for n in root.iter(f"{G}node")}
    edges = top.findall(f"{G}edge")
    assert len(edges) == 3
    assert {(ids[e.get("source")], ids[e.get("target")]) for e in edges} == {
        ("erp", "plc-1"),
        ("historian", "plc-1"),
        ("hmi-1", "plc-1"),
    }


# -- dot / svg ----------------------------------------------------------------------


def test_dot_has_one_cluster_per_zone_and_a_red_denied_crossing() -> None:
    dot = render_map(plant(), "zone", "dot")
    assert dot.startswith("digraph otseam_map {")
    assert len(re.findall(r"subgraph cluster_\d+ \{", dot)) == 4
    assert 'label="enterprise (it, level 4)";' in dot
    assert 'label="internet (external)";' in dot
    ids = dict(re.findall(r'^ +(z\d+) \[label="([^"\\]+)', dot, re.MULTILINE))
    by_name = {name: node for node, name in ids.items()}
    denied = [line for line in dot.splitlines() if "NOT ALLOWED" in line]
    assert len(denied) == 1
    assert denied[0].lstrip().startswith(f"{by_name['enterprise']} -> {by_name['control']} ")
    assert 'color="#d62728"' in denied[0] and "penwidth=2.5" in denied[0]
    assert "modbus/tcp/502" in denied[0]
    allowed_it_ot = next(line for line in dot.splitlines() if "tcp/1433" in line)
    assert 'color="#ff7f0e"' in allowed_it_ot and "penwidth=2.5" in allowed_it_ot


def test_dot_stacks_zones_in_purdue_order() -> None:
    dot = render_map(plant(), "zone", "dot")
    invisible = re.findall(r"(z\d+) -> (z\d+) \[style=invis", dot)
    # internet (z0) above enterprise (z1) above dmz (z2) above control (z3)
    assert invisible == [("z0", "z1"), ("z1", "z2"), ("z2", "z3")]
    assert 'fillcolor="#dcefdc"' in dot  # ot green


@pytest.fixture
def dot_program() -> str:
    path = shutil.which("dot")
    if path is None:
        pytest.skip("Graphviz 'dot' is not installed (Debian package graphviz)")
    return path


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("level", MAP_LEVELS)
def test_svg_is_drawn_by_dot_with_the_zone_names(dot_program: str, level: MapLevel) -> None:
    texts = svg_texts(render_map(plant(), level, "svg"))
    for name in ("enterprise (it, level 4)", "control (ot, level 1)", "dmz (dmz, level 3.5)"):
        assert name in texts


def test_hostile_names_survive_every_format(dot_program: str) -> None:
    conv = plant(control=HOSTILE, plc=HOSTILE + "-plc")
    for level in MAP_LEVELS:
        _, keys = parse_graphml(render_map(conv, level, "graphml"))
        texts = svg_texts(render_map(conv, level, "svg"))
        assert f"{visible(HOSTILE)} (ot, level 1)" in texts
        doc = json.loads(render_map(conv, level, "json"))
        assert HOSTILE in {n.get("zone", n["name"]) for n in doc["nodes"]}
        text = render_map(conv, level, "text")
        assert all(not line.startswith("x &amp;") for line in text.splitlines())
        assert "\x1b" not in text
    root, keys = parse_graphml(render_map(conv, "asset", "graphml"))
    names = {data(n, keys)["name"] for n in root.iter(f"{G}node")}
    # XML keeps the newline, quotes and markup; only the escape character is shown as \x1b
    assert HOSTILE.replace("\x1b", "\\x1b") in names
    assert f"{visible(HOSTILE)}-plc" in svg_texts(render_map(conv, "asset", "svg"))


def test_svg_without_dot_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError) as raised:
        render_map(plant(), "zone", "svg")
    assert str(raised.value) == DOT_MISSING
    assert "apt-get install graphviz" in str(raised.value) and "--format dot" in str(raised.value)
    assert render_map(plant(), "zone", "dot").startswith("digraph")  # dot text needs no program


# -- options and helpers ------------------------------------------------------------


def test_unknown_level_or_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown map level 'rack'"):
        render_map(plant(), "rack", "text")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"unknown map format 'png'.*graphml"):
        render_map(plant(), "zone", "png")  # type: ignore[arg-type]


def test_zones_named_only_by_traffic_still_appear() -> None:
    conv = dataclasses.replace(
        plant(),
        conduits=(*plant().conduits, conduit("vendor-vpn", "control", "tcp/22", False, False)),
    )
    doc = map_document(conv, "zone")
    assert doc["nodes"][-1]["name"] == "vendor-vpn"
    assert doc["nodes"][-1]["kind"] == "unknown"
    root, _ = parse_graphml(render_map(conv, "zone", "graphml"))
    assert len(root.findall(f"{G}graph/{G}node")) == 5
    assert "subgraph cluster_4" in render_map(conv, "zone", "dot")


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 B"), (999, "999 B"), (12_300, "12.3 kB"), (4_000_000, "4.0 MB"), (10**13, "10.0 TB")],
)
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text


def test_the_text_example_in_the_docs_is_what_render_map_writes() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "map.md").read_text(encoding="utf-8")
    example = page.split("### text\n\n```\n", 1)[1].split("```", 1)[0]
    assert example == render_map(plant(), "zone", "text")


def test_assets_in_no_zone_are_grouped_last_under_no_zone() -> None:
    stray = asset("laptop", "it_workstation", "192.168.9.9", None, None)
    conv = dataclasses.replace(
        plant(),
        placements=(*plant().placements, stray),
        conduits=(*plant().conduits, conduit(UNZONED, "control", "tcp/80", False, False)),
        edges=(
            *plant().edges,
            AssetEdge("laptop", "plc-1", None, "control", ("tcp/80",), 1, 60, True),
        ),
    )
    lines = render_map(conv, "asset", "text").splitlines()
    assert lines[-3:] == [
        f"{UNZONED} (1 asset)",
        "  laptop (it_workstation) 192.168.9.9",
        "    -> plc-1 [control]: tcp/80 · 1 conversation · 60 B · NOT ALLOWED · crossing",
    ]
    assert render_map(conv, "zone", "text").splitlines()[-2:] == [
        f"{UNZONED} (1 asset)",
        "  -> control: tcp/80 · 3 conversations · 1.0 kB · NOT ALLOWED · crossing",
    ]
    root, keys = parse_graphml(render_map(conv, "asset", "graphml"))
    last = root.findall(f"{G}graph/{G}node")[-1]
    assert data(last, keys)["kind"] == "unzoned"
    assert [data(a, keys)["name"] for a in last.findall(f"{G}graph/{G}node")] == ["laptop"]


def test_an_edge_of_a_dual_homed_asset_goes_to_its_placement_in_the_edge_zone() -> None:
    ews = [asset("ews", "engineering_workstation", ip, z, None) for ip, z in
           (("10.0.0.9", "enterprise"), ("10.1.0.9", "control"))]  # fmt: skip
    conv = dataclasses.replace(
        plant(),
        placements=(*plant().placements, *ews),
        edges=(edge("ews", "plc-1", "control", "control", "s7comm/tcp/102"),),
    )
    lines = render_map(conv, "asset", "text").splitlines()
    at = lines.index("  ews (engineering_workstation) 10.1.0.9")
    assert lines[at + 1].startswith("    -> plc-1: s7comm/tcp/102")
    after = lines[lines.index("  ews (engineering_workstation) 10.0.0.9") + 1]
    assert not after.startswith("    ->")
    dot = render_map(conv, "asset", "dot")
    assert re.search(r'(z3a\d) \[label="ews\\nengineering_workstation\\n10\.1\.0\.9"\]', dot)
    node = re.search(r'(z3a\d) \[label="ews', dot)
    assert node is not None and re.search(rf"  {node.group(1)} -> z3a\d ", dot)


def test_asset_dot_stacks_each_zone_below_the_assets_of_the_tier_above() -> None:
    dot = render_map(plant(), "asset", "dot")
    between = re.findall(r"(z\d+a\w+) -> (z\d+anchor) \[style=invis, weight=10\]", dot)
    # internet has no assets: its anchor; enterprise: erp; dmz: historian
    assert between == [("z0anchor", "z1anchor"), ("z1a0", "z2anchor"), ("z2a0", "z3anchor")]
