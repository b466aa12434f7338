"""Import asset owners and details from the spreadsheets plants keep (CSV or XLSX).

Plant registers are written for people: a title above the table, merged
cells, blank rows, headers spelled many ways, extra columns nobody asked
for. :func:`read_owner_sheet` finds the header row by its known names
(``docs/site.md`` lists them), keeps every good row and reports each bad cell
by row and column. :func:`merge_overrides` folds the rows into a site, the
site file winning field by field.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Final

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from otseam.errors import ConfigError
from otseam.site.model import AssetOverride, Person, Site
from otseam.site.values import parse_ip, parse_mac, split_cell

__all__ = ["HEADER_NAMES", "SheetImport", "merge_notes", "merge_overrides", "read_owner_sheet"]

# Field of AssetOverride -> the header names that mean it (compared lower case,
# letters and digits only, so "Serial No." and "serial-no" are the same).
HEADER_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "name": ("asset", "name", "device", "tag", "asset name", "device name", "asset tag",
             "hostname", "host name"),
    "ips": ("ip address", "ip", "ipv4", "ips", "ip addresses", "ipv4 address", "ipv6"),
    "macs": ("mac", "mac address", "macs", "mac addresses"),
    "serial": ("serial", "serial no", "serial number", "serial nr", "sn", "s/n"),
    "owner": ("owner", "responsible", "asset owner", "owned by"),
    "updated_by": ("updated by", "patched by", "maintainer", "maintained by", "patching"),
    "criticality": ("criticality", "critical", "criticality class"),
    "role": ("role", "type", "device type", "asset type", "function"),
    "notify": ("notify", "contact", "contacts", "notify on alert"),
    "vendor": ("vendor", "manufacturer", "make"),
    "purdue_level": ("purdue level", "purdue", "level"),
}  # fmt: skip
CRITICALITIES: Final = ("low", "medium", "high", "critical")
MAX_HEADER_ROW: Final = 30  # a header further down is not a register's header

Row = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SheetImport:
    """The rows read from a sheet, the problems of rows skipped, and notes."""

    overrides: tuple[AssetOverride, ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...]


def _normal(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


_FIELD_OF: Final = {_normal(name): key for key, names in HEADER_NAMES.items() for name in names}


def read_owner_sheet(path: Path) -> SheetImport:
    """Asset overrides from a CSV or XLSX register; ConfigError if it cannot be read."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ConfigError(f"{path}: old Excel .xls files are not read; save it as .xlsx or CSV")
    try:
        head = path.read_bytes()[:4]
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the spreadsheet: {exc.strerror or exc}") from exc
    tables = _xlsx_tables(path) if head.startswith(b"PK") else _csv_tables(path)
    for title, rows in tables:
        found = _header(rows)
        if found is not None:
            return _import(path.name, title, rows, *found)
    raise ConfigError(
        f"{path}: no header row found in the first {MAX_HEADER_ROW} rows; "
        "name the columns, e.g. 'Asset', 'IP Address', 'Owner' (see docs/site.md)"
    )


def _xlsx_tables(path: Path) -> list[tuple[str, list[Row]]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable XLSX workbook: {exc}") from exc
    try:
        return [
            (
                f"sheet {sheet.title!r}",
                [tuple(_cell(v) for v in row) for row in sheet.iter_rows(values_only=True)],
            )
            for sheet in book.worksheets
        ]
    finally:
        book.close()


def _cell(value: object) -> str:
    """A cell as text; whole numbers without '.0' (Excel stores serials as floats)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_tables(path: Path) -> list[tuple[str, list[Row]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel's CSV on Western Windows
    if "\x00" in text:
        raise ConfigError(f"{path}: not a spreadsheet (neither XLSX nor CSV text)")
    # The separator is the one under which a header row appears with the most known
    # columns (a sniffer is misled by the title rows above the table).
    best: list[Row] = []
    best_columns = 0
    for separator in (",", ";", "\t", "|"):
        try:
            rows = [
                tuple(c.strip() for c in row)
                for row in csv.reader(io.StringIO(text), delimiter=separator)
            ]
        except csv.Error:
            continue
        found = _header(rows)
        if found is not None and len(found[1]) > best_columns:
            best, best_columns = rows, len(found[1])
    return [("", best)]


def _header(rows: list[Row]) -> tuple[int, dict[int, str], dict[int, str]] | None:
    """(row index, column -> field, column -> ignored header) of the first header row."""
    for index, row in enumerate(rows[:MAX_HEADER_ROW]):
        columns: dict[int, str] = {}
        ignored: dict[int, str] = {}
        for column, cell in enumerate(row):
            key = _FIELD_OF.get(_normal(cell))
            if key is not None and key not in columns.values():
                columns[column] = key
            elif cell:
                ignored[column] = cell
        if len(columns) >= 2 and {"name", "ips", "macs", "serial"} & set(columns.values()):
            return index, columns, ignored
    return None


def _import(
    name: str, title: str, rows: list[Row], index: int, columns: dict[int, str],
    ignored: dict[int, str],
) -> SheetImport:  # fmt: skip
    where = f" of {title}" if title else ""
    notes = [f"{name}: header on row {index + 1}{where}"]
    if ignored:
        listed = ", ".join(f"{get_column_letter(c + 1)} ({h})" for c, h in ignored.items())
        notes.append(f"{name}: columns ignored (not known): {listed}")
    overrides: list[AssetOverride] = []
    problems: list[str] = []
    for number, row in enumerate(rows[index + 1 :], start=index + 2):
        if any(row):
            found = _row(f"{name} row {number}", row, rows[index], columns)
            if isinstance(found, AssetOverride):
                overrides.append(found)
            else:
                problems.extend(found)
    return SheetImport(tuple(overrides), tuple(problems), tuple(notes))


def _row(where: str, row: Row, headers: Row, columns: dict[int, str]) -> AssetOverride | list[str]:
    """The asset of one row, or the problems that make it skipped."""
    values: dict[str, object] = {}
    problems: list[str] = []
    for column, key in columns.items():
        text = row[column] if column < len(row) else ""
        if not text:
            continue
        try:
            values[key] = _PARSERS[key](text)
        except ValueError as exc:
            letter = get_column_letter(column + 1)
            problems.append(f"{where}, column {letter} ({headers[column]}): {exc}")
    if problems:
        return problems
    if not values.keys() & {"ips", "macs", "serial"}:
        return [f"{where}: no IP address, MAC address or serial number to match the asset by"]
    return AssetOverride(**values)  # type: ignore[arg-type]  # keys are AssetOverride fields


def _criticality(text: str) -> str:
    if text.lower() not in CRITICALITIES:
        raise ValueError(f"{text!r} is not a criticality (low, medium, high or critical)")
    return text.lower()


def _purdue_level(text: str) -> float:
    match = re.fullmatch(r"(?:level|l)?\s*(\d+(?:[.,]\d+)?)", text.strip().lower())
    level = float(match.group(1).replace(",", ".")) if match else -1.0
    if not 0 <= level <= 5:
        raise ValueError(f"{text!r} is not a Purdue level (0 to 5, 3.5 for the DMZ)")
    return level


def _texts(parse: Callable[[str], str]) -> Callable[[str], tuple[str, ...]]:
    return lambda text: tuple(parse(part) for part in split_cell(text))


_PARSERS: Final[dict[str, Callable[[str], object]]] = {
    "name": str,
    "ips": _texts(parse_ip),
    "macs": _texts(parse_mac),
    "serial": str,
    "owner": str,
    "updated_by": str,
    "criticality": _criticality,
    "role": str,
    "notify": _texts(str),
    "vendor": str,
    "purdue_level": _purdue_level,
}


def merge_overrides(site: Site, imported: Sequence[AssetOverride]) -> Site:
    """``site`` with the sheet's assets folded in; the site file wins field by field.

    A sheet row joins the site entry sharing an IP, MAC, serial or name with
    it; other rows become new entries. Owner, updated-by and notify names the
    site does not declare become people with no team (see :func:`merge_notes`).
    """
    assets = list(site.assets)
    for row in imported:
        match = next((i for i, asset in enumerate(assets) if _same_asset(asset, row)), None)
        if match is None:
            assets.append(row)
        else:
            assets[match] = _prefer(assets[match], row)
    people = site.people + tuple(Person(name) for name in _unknown_parties(site, imported))
    return replace(site, assets=tuple(assets), people=people)


def merge_notes(site: Site, imported: Sequence[AssetOverride]) -> tuple[str, ...]:
    """What :func:`merge_overrides` adds that a person should know about."""
    return tuple(
        f"{name!r} from the sheet is not a team or person of the site file; "
        "added as a person with no team"
        for name in _unknown_parties(site, imported)
    )


def _unknown_parties(site: Site, imported: Sequence[AssetOverride]) -> list[str]:
    known = site.party_names()
    names = (n for row in imported for n in (row.owner, row.updated_by, *row.notify) if n)
    return list(dict.fromkeys(name for name in names if name not in known))


def _same_asset(entry: AssetOverride, row: AssetOverride) -> bool:
    return bool(
        set(entry.ips) & set(row.ips)
        or set(entry.macs) & set(row.macs)
        or (entry.serial is not None and entry.serial == row.serial)
        or (entry.name is not None and entry.name == row.name)
    )


def _prefer(entry: AssetOverride, row: AssetOverride) -> AssetOverride:
    """``entry``'s set fields, ``row``'s where ``entry`` says nothing."""
    chosen = {
        f.name: getattr(entry, f.name)
        if getattr(entry, f.name) not in (None, ())
        else getattr(row, f.name)
        for f in fields(AssetOverride)
    }
    return AssetOverride(**chosen)
