"""The convergence commands, run as a user would, on the bundled sample plant."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli

from otseam.site.load import load_site

SAMPLE = Path(__file__).parents[2] / "src" / "otseam" / "data" / "sample"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("conv") / "plant.db"
    done = run_cli("ingest", "-q", "--db", str(db), str(SAMPLE / "plant.pcap"))
    assert done.returncode == 0, done.stderr
    return db


def _json(*args: str) -> Any:
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_zones_from_the_site_file(store: Path) -> None:
    rows = _json(
        "zones", "--db", str(store), "--site", str(SAMPLE / "site.yaml"), "--format", "json"
    )
    levels = {r["name"]: (r["kind"], r["purdue_level"], r["source"]) for r in rows}
    assert levels["control"] == ("ot", 1, "site")
    assert levels["dmz"] == ("dmz", 3.5, "site")
    assert levels["enterprise"] == ("it", 4, "site")


def test_zones_without_a_site_file_are_proposed(store: Path) -> None:
    rows = _json("zones", "--db", str(store), "--format", "json")
    kinds = {tuple(r["cidrs"]): (r["kind"], r["purdue_level"]) for r in rows if r["cidrs"]}
    assert kinds[("10.40.0.0/24",)] == ("ot", 1)
    assert kinds[("10.30.0.0/24",)] == ("ot", 3)
    assert kinds[("10.20.0.0/24",)] == ("dmz", 3.5)
    assert kinds[("10.10.0.0/24",)] == ("it", 4)
    assert all(r["source"] == "suggested" for r in rows)


def test_zones_suggest_writes_a_site_file_that_loads(store: Path, tmp_path: Path) -> None:
    target = tmp_path / "site.yaml"
    done = run_cli("zones", "suggest", "--db", str(store), "-o", str(target))
    assert done.returncode == 0, done.stderr
    site = load_site(target)
    assert {str(c) for z in site.zones for c in z.cidrs} >= {"10.10.0.0/24", "10.40.0.0/24"}
    assert any(c.kind == "teamviewer" and not c.approved for c in site.channels)
    again = run_cli("zones", "suggest", "--db", str(store), "-o", str(target))
    assert again.returncode == 1 and "--force" in again.stderr
    rows = _json("zones", "--db", str(store), "--site", str(target), "--format", "json")
    assert {r["source"] for r in rows} == {"site"}


def test_findings_table_and_json(store: Path) -> None:
    site = str(SAMPLE / "site.yaml")
    rows = _json("findings", "--db", str(store), "--site", site, "--format", "json")
    kinds = {r["kind"] for r in rows}
    assert {"dual_homed", "dmz_bypass", "scan", "external_channel"} <= kinds
    for row in rows:
        assert row["id"].startswith("F-") and row["evidence"] and row["owners"]
    table = run_cli("findings", "--db", str(store), "--site", site, "--kind", "dmz_bypass")
    assert table.returncode == 0 and "DMZ bypassed" in table.stdout
    bad = run_cli("findings", "--db", str(store), "--kind", "nonsense")
    assert bad.returncode != 0 and "unknown kind 'nonsense'" in bad.stderr


def test_acknowledged_and_suppressed_findings_stay_so_across_ingests(
    store: Path, tmp_path: Path, corpus: Path
) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(store, db)
    site = str(SAMPLE / "site.yaml")
    rows = _json("findings", "--db", str(db), "--site", site, "--format", "json")
    scan = next(r for r in rows if r["kind"] == "scan")
    bypass = next(r for r in rows if r["kind"] == "dmz_bypass")
    assert (
        run_cli(
            "findings",
            "ack",
            scan["id"],
            "--db",
            str(db),
            "--by",
            "alice",
            "--why",
            "IT is cleaning ws-02",
        ).returncode
        == 0
    )
    assert (
        run_cli(
            "findings",
            "suppress",
            bypass["id"],
            "--db",
            str(db),
            "--by",
            "bob",
            "--why",
            "temporary integrator access until Friday",
        ).returncode
        == 0
    )
    other = next(iter(sorted((corpus / "Modbus").glob("*.pcap*"))), None)
    if other is not None:
        assert run_cli("ingest", "-q", "--db", str(db), str(other)).returncode in (0, 3)
    rows = _json("findings", "--db", str(db), "--site", site, "--format", "json")
    by_id = {r["id"]: r for r in rows}
    assert by_id[scan["id"]]["state"] == "acknowledged"
    assert by_id[scan["id"]]["state_by"] == "alice"
    assert bypass["id"] not in by_id  # suppressed findings are hidden...
    rows = _json("findings", "--all", "--db", str(db), "--site", site, "--format", "json")
    hidden = next(r for r in rows if r["id"] == bypass["id"])
    assert (hidden["state"], hidden["state_why"]) == (
        "suppressed",
        "temporary integrator access until Friday",
    )
    assert (
        run_cli("findings", "reopen", bypass["id"], "--db", str(db), "--by", "bob").returncode == 0
    )
    rows = _json("findings", "--db", str(db), "--site", site, "--format", "json")
    assert {r["id"]: r["state"] for r in rows}[bypass["id"]] == "open"
    unknown = run_cli("findings", "ack", "F-0000000000", "--db", str(db), "--by", "x", "--why", "y")
    assert unknown.returncode == 1 and "no finding 'F-0000000000'" in unknown.stderr


def test_channels_with_status_and_manager(store: Path) -> None:
    rows = _json(
        "channels", "--db", str(store), "--site", str(SAMPLE / "site.yaml"), "--format", "json"
    )
    status = {r["name"]: (r["status"], r["manager"], r["sessions"] > 0) for r in rows}
    assert status["vendor-ssh"] == ("approved", "ot-security", True)
    assert status["scada-teamviewer"] == ("unapproved", None, True)


def test_owners_names_who_has_nobody(store: Path) -> None:
    rows = _json(
        "owners",
        "--db",
        str(store),
        "--site",
        str(SAMPLE / "site.yaml"),
        "--format",
        "json",
        "--nobody",
    )
    assert {"channel", "asset"} <= {r["kind"] for r in rows}
    channel = next(r for r in rows if r["kind"] == "channel")
    assert channel["subject"] == "scada-teamviewer" and channel["owner"] == "NOBODY"


def test_map_formats(store: Path, tmp_path: Path) -> None:
    site = str(SAMPLE / "site.yaml")
    text = run_cli("map", "--db", str(store), "--site", site)
    assert text.returncode == 0 and "enterprise" in text.stdout and "control" in text.stdout
    graphml = tmp_path / "map.graphml"
    done = run_cli(
        "map",
        "--db",
        str(store),
        "--site",
        site,
        "--level",
        "asset",
        "--format",
        "graphml",
        "-o",
        str(graphml),
    )
    assert done.returncode == 0, done.stderr
    assert ET.parse(graphml).getroot().tag.endswith("graphml")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' is not installed (apt-get install graphviz)")
    svg = run_cli("map", "--db", str(store), "--site", site, "--format", "svg")
    assert svg.returncode == 0, svg.stderr
    root = ET.fromstring(svg.stdout)
    assert root.tag.endswith("svg") and "control" in svg.stdout


def test_questions_json(store: Path) -> None:
    doc = _json(
        "questions", "--db", str(store), "--site", str(SAMPLE / "site.yaml"), "--format", "json"
    )
    assert len(doc["answers"]) == 3 and len(doc["checklist"]) == 4
    statuses = {i["item"]: i["status"] for i in doc["checklist"]}
    assert statuses["Joint boundary monitoring agreed"] == "partial"


def test_export_has_the_convergence_sections(store: Path) -> None:
    doc = _json("export", "--db", str(store), "--site", str(SAMPLE / "site.yaml"))
    for key in ("zones", "conduits", "channels", "findings"):
        assert doc[key], key
    finding = doc["findings"][0]
    assert set(finding) >= {
        "id",
        "kind",
        "severity",
        "title",
        "zone",
        "assets",
        "evidence",
        "owners",
    }


def test_a_bad_site_file_is_one_clear_error(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nzones:\n  - name: office\n    kind: office\n")
    done = run_cli("zones", "--db", str(store), "--site", str(bad))
    assert done.returncode == 1
    assert "bad.yaml:4" in done.stderr and "kind" in done.stderr
    assert "Traceback" not in done.stderr
    missing = run_cli("zones", "--db", str(store), "--site", str(tmp_path / "none.yaml"))
    assert missing.returncode == 1 and "none.yaml" in missing.stderr


def test_owners_from_a_spreadsheet(store: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Building services asset register"])  # a title row above the header
    sheet.append([])
    sheet.append(["Device", "IP Address", "Asset owner", "Patched by", "Criticality", "Room"])
    sheet.append(["bms-01", "10.40.0.30", "facilities", "hvac-contractor", "high", "B2"])
    sheet.append(["ghost", "10.40.0.300", "facilities", "", "", ""])
    path = tmp_path / "register.xlsx"
    book.save(path)
    done = run_cli(
        "owners",
        "--db",
        str(store),
        "--site",
        str(SAMPLE / "site.yaml"),
        "--owners",
        str(path),
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    assert "row 5" in done.stderr and "10.40.0.300" in done.stderr  # the bad row, named
    rows = {r["subject"]: r for r in json.loads(done.stdout) if r["kind"] == "asset"}
    bms = rows["bms-01"]
    assert (bms["owner"], bms["owner_source"], bms["updated_by"]) == (
        "facilities",
        "site",
        "hvac-contractor",
    )
