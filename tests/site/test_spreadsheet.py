"""Owner registers as plants keep them (CSV and XLSX) become asset overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from otseam.errors import ConfigError
from otseam.site.model import AssetOverride, Person, Site, Team
from otseam.site.spreadsheet import merge_notes, merge_overrides, read_owner_sheet


def write_register(path: Path) -> Path:
    """A register the way plants have it: title, merged cells, blank rows, extra columns."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Line 1"
    sheet["A1"] = "Asset register Line 1"
    sheet.merge_cells("A1:H1")
    sheet.append([])  # row 2 blank
    sheet.append(["Tag", "IP Address", "MAC address", "Serial No.", "Responsible",
                  "Location", "Patched by", "Criticality", "Type", "Notify"])  # fmt: skip
    sheet.append(["plc-01", "10.40.0.5; 10.41.0.5", "00-1A-2B-3C-4D-5E", 4711.0, "J. Weber",
                  "Hall 3", "integrator", "High", "plc", "ot-eng, it-ops"])  # fmt: skip
    sheet.append([])  # row 5 blank
    sheet.append(["hmi-01", "10.40.0.20\n10.40.1.20", None, None, "ot-eng", None, None, None])
    sheet.append(["plc-02", "10.0.0.300", None, None, "ot-eng"])  # row 7: bad IP
    sheet.append(["plc-03", None, None, None, "ot-eng"])  # row 8: nothing to match by
    sheet.append(["rtu-01", "10.40.0.9", None, None, None, None, None, "urgent"])  # row 9
    book.save(path)
    return path


def test_xlsx_register_keeps_good_rows_and_names_bad_cells(tmp_path: Path) -> None:
    imported = read_owner_sheet(write_register(tmp_path / "owners.xlsx"))
    assert imported.overrides == (
        AssetOverride(name="plc-01", ips=("10.40.0.5", "10.41.0.5"), macs=("00:1a:2b:3c:4d:5e",),
                      serial="4711", role="plc", criticality="high", owner="J. Weber",
                      updated_by="integrator", notify=("ot-eng", "it-ops")),
        AssetOverride(name="hmi-01", ips=("10.40.0.20", "10.40.1.20"), owner="ot-eng"),
    )  # fmt: skip
    assert imported.problems == (
        "owners.xlsx row 7, column B (IP Address): '10.0.0.300' is not an IP address",
        "owners.xlsx row 8: no IP address, MAC address or serial number to match the asset by",
        "owners.xlsx row 9, column H (Criticality): 'urgent' is not a criticality "
        "(low, medium, high or critical)",
    )
    assert "owners.xlsx: header on row 3 of sheet 'Line 1'" in imported.notes
    assert "owners.xlsx: columns ignored (not known): F (Location)" in imported.notes


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_register_with_title_and_synonyms(tmp_path: Path, separator: str) -> None:
    rows = [
        ["Asset list - Building 2"],
        [],
        ["Device", "IPv4", "Serial number", "Asset owner", "Maintainer", "Role", "Comment"],
        ["ews-01", "10.10.0.50", "SN-1", "it-ops", "ot-eng", "engineering_workstation", "old"],
        ["", "", "", "", "", "", ""],
        ["scada-01", "10.30.0.10", "", "ot-eng", "", "scada_server", ""],
    ]
    path = tmp_path / "register.csv"
    lines = [separator.join(f'"{cell}"' if "," in cell else cell for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    imported = read_owner_sheet(path)
    assert [o.name for o in imported.overrides] == ["ews-01", "scada-01"]
    assert imported.overrides[0] == AssetOverride(
        name="ews-01", ips=("10.10.0.50",), serial="SN-1", role="engineering_workstation",
        owner="it-ops", updated_by="ot-eng",
    )  # fmt: skip
    assert imported.problems == ()
    assert "register.csv: columns ignored (not known): G (Comment)" in imported.notes


def test_csv_cell_with_several_ips_and_a_bad_mac(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text('Name,IP,MAC\nplc,"10.0.0.1, 10.0.0.2",00:11\nhmi,10.0.0.3,0011.2233.4455\n')
    imported = read_owner_sheet(path)
    assert imported.overrides == (
        AssetOverride(name="hmi", ips=("10.0.0.3",), macs=("00:11:22:33:44:55",)),
    )
    assert imported.problems == (
        "o.csv row 2, column C (MAC): '00:11' is not a MAC address "
        "(write it like 00:1a:2b:3c:4d:5e)",
    )


def test_files_that_are_no_register_are_config_errors(tmp_path: Path) -> None:
    no_header = tmp_path / "notes.csv"
    no_header.write_text("just,some\nwords,here\n")
    with pytest.raises(ConfigError, match=r"notes\.csv: no header row found"):
        read_owner_sheet(no_header)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ConfigError, match=r"broken\.xlsx: not a readable XLSX workbook"):
        read_owner_sheet(broken)
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x00\x00\x00")
    with pytest.raises(ConfigError, match=r"image\.csv: not a spreadsheet"):
        read_owner_sheet(binary)
    with pytest.raises(ConfigError, match=r"missing\.xlsx: cannot read the spreadsheet"):
        read_owner_sheet(tmp_path / "missing.xlsx")


def test_merge_site_file_wins_field_by_field_and_unknown_owners_become_people() -> None:
    site = Site(
        teams=(Team("ot-eng", "ot"),),
        assets=(AssetOverride(name="plc-01", ips=("10.40.0.5",), owner="ot-eng"),),
    )
    imported = (
        AssetOverride(name="PLC 1", ips=("10.40.0.5",), serial="4711", owner="J. Weber"),
        AssetOverride(name="hmi-01", macs=("00:11:22:33:44:55",), updated_by="Integrator"),
    )
    merged = merge_overrides(site, imported)
    assert merged.assets == (
        AssetOverride(name="plc-01", ips=("10.40.0.5",), serial="4711", owner="ot-eng"),
        imported[1],
    )
    assert merged.people == (Person("J. Weber"), Person("Integrator"))
    assert merge_notes(site, imported) == (
        "'J. Weber' from the sheet is not a team or person of the site file; "
        "added as a person with no team",
        "'Integrator' from the sheet is not a team or person of the site file; "
        "added as a person with no team",
    )
