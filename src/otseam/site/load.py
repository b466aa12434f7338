"""Read and validate the site file (``docs/site.md``) into a :class:`Site`.

Every problem in the file is collected, with its line, and reported at once
in one :class:`~otseam.errors.ConfigError`, so a person fixes the file in one
go. Names used as references (owners, zones of a conduit, ...) are checked
once the whole file is read.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final, TypeVar, cast

import yaml

from otseam.errors import ConfigError
from otseam.site.model import (
    PARTY_KINDS,
    ZONE_KINDS,
    AssetOverride,
    Channel,
    Conduit,
    MaintenanceWindow,
    Monitoring,
    Person,
    Service,
    Site,
    Team,
    Zone,
    ZoneKind,
)
from otseam.site.nodes import Entry, NodeReader, shown, suggest
from otseam.site.values import parse_days, parse_ip, parse_mac, parse_network, parse_time

__all__ = ["SITE_VERSION", "load_site", "parse_site"]

SITE_VERSION: Final = 1
TOP_KEYS: Final = (
    "version", "site", "teams", "people", "zones", "conduits", "channels", "assets", "monitoring",
)  # fmt: skip
SITE_KEYS: Final = ("name", "description", "timezone")
TEAM_KEYS: Final = ("name", "kind", "contact", "zones")
PERSON_KEYS: Final = ("name", "team", "contact")
ZONE_KEYS: Final = ("name", "kind", "purdue_level", "cidrs", "vlans", "owner", "description")
CONDUIT_KEYS: Final = ("name", "from", "to", "services", "owner", "description")
SERVICE_KEYS: Final = ("protocol", "transport", "port")
CHANNEL_KEYS: Final = (
    "name", "kind", "vendor", "outside", "inside", "transport", "port", "approved", "manager",
    "windows", "description",
)  # fmt: skip
WINDOW_KEYS: Final = ("days", "start", "end")
ASSET_KEYS: Final = (
    "name", "ips", "macs", "serial", "role", "criticality", "owner", "updated_by", "notify",
    "purdue_level", "vendor",
)  # fmt: skip
MONITORING_KEYS: Final = ("it", "ot", "agreed")
TRANSPORTS: Final = ("tcp", "udp")
CRITICALITIES: Final = ("low", "medium", "high", "critical")
PURDUE: Final = "must be a number from 0 to 5 (3.5 for the DMZ)"

T = TypeVar("T")


def load_site(path: Path) -> Site:
    """The site file at ``path``; :class:`ConfigError` listing every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such site file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the site file: {exc}") from exc
    return parse_site(text, str(path))


def parse_site(text: str, source: str) -> Site:
    """The site file held in ``text``; ``source`` names it in messages."""
    root = _compose(text, source)
    reader = NodeReader(source)
    site = _read_site(reader, root)
    _check_references(reader)
    if reader.problems:
        messages = reader.messages()
        count = f"{len(messages)} problem{'s' if len(messages) > 1 else ''}"
        lines = "\n".join(f"  {message}" for message in messages)
        raise ConfigError(f"{source}: {count} in the site file:\n{lines}")
    return site


def _compose(text: str, source: str) -> yaml.Node:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        what = ": ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(f"{source}{where}: not valid YAML: {what}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if root is None:
        raise ConfigError(f"{source}: the site file is empty; it needs at least 'version: 1'")
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1
        raise ConfigError(
            f"{source}:{line}: the site file must be a mapping of keys "
            f"(version, site, zones, ...), got {shown(root)}"
        )
    return root


def _read_site(reader: NodeReader, root: yaml.Node) -> Site:
    top = reader.entry(root, "", TOP_KEYS, required=("version",))
    assert top is not None  # _compose checked it is a mapping
    _check_version(top)
    about = _section(top, "site", SITE_KEYS)
    return Site(
        name=(about.text("name") if about else None) or "",
        description=(about.text("description") if about else None) or "",
        timezone=_timezone(about) if about else "UTC",
        teams=_entries(top, "teams", TEAM_KEYS, ("name",), _team),
        people=_entries(top, "people", PERSON_KEYS, ("name",), _person),
        zones=_entries(top, "zones", ZONE_KEYS, ("name", "kind"), _zone),
        conduits=_entries(top, "conduits", CONDUIT_KEYS, ("name", "from", "to"), _conduit),
        channels=_entries(top, "channels", CHANNEL_KEYS, ("name", "kind"), _channel),
        assets=_entries(top, "assets", ASSET_KEYS, (), _asset),
        monitoring=_monitoring(top),
        source=reader.source,
    )


def _check_version(top: Entry) -> None:
    version = top.fields.get("version")
    if version is None:
        return  # reported as a missing key
    if not (version.tag.endswith(":int") and top.reader.value(version) == SITE_VERSION):
        message = f"must be 1 (the only version otseam reads), got {shown(version)}"
        top.reader.problem(version, "version", message)


def _section(top: Entry, key: str, keys: tuple[str, ...]) -> Entry | None:
    node = top.fields.get(key)
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
        return None
    return top.reader.entry(node, key, keys)


def _entries(
    top: Entry,
    key: str,
    keys: tuple[str, ...],
    required: tuple[str, ...],
    build: Callable[[Entry], T | None],
) -> tuple[T, ...]:
    """Each mapping of list ``key`` read by ``build`` (None: a bad entry, skipped)."""
    built: list[tuple[T, Entry]] = []
    for node, path in top.reader.items(top.fields.get(key), key):
        entry = top.reader.entry(node, path, keys, required)
        if entry is not None and isinstance(entry.fields.get("name"), yaml.ScalarNode):
            # declared even when the entry is bad, so its references do not fail too
            top.reader.declared.setdefault(key, set()).add(entry.fields["name"].value)
        value = build(entry) if entry is not None else None
        if value is not None and entry is not None:
            built.append((value, entry))
    _check_unique(top.reader, key, built)
    return tuple(value for value, _ in built)


def _check_unique(reader: NodeReader, key: str, built: list[tuple[T, Entry]]) -> None:
    """Names used twice in one list (assets without a name are never twice)."""
    first: dict[str, int] = {}
    for value, entry in built:
        name = getattr(value, "name", None)
        if name is None:
            continue
        node = entry.fields.get("name", entry.node)
        if name in first:
            message = f"duplicate name {name!r} in {key} (first on line {first[name]})"
            reader.problem(node, entry.at("name"), message)
        else:
            first[name] = node.start_mark.line + 1


def _timezone(about: Entry) -> str:
    name = about.text("timezone")
    if name is None:
        return "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = suggest(name, sorted(zoneinfo.available_timezones()))
        message = f"must be an IANA time zone like 'Europe/Berlin', got {name!r}{hint}"
        about.reader.problem(about.fields["timezone"], about.at("timezone"), message)
        return "UTC"
    return name


def _team(entry: Entry) -> Team | None:
    name = entry.text("name", required=True)
    kind = entry.choice("kind", PARTY_KINDS)
    zones = entry.refer_all("zones", "zone")
    contact = entry.text("contact")
    return None if name is None else Team(name, kind or "other", contact, zones)


def _person(entry: Entry) -> Person | None:
    name = entry.text("name", required=True)
    team = entry.refer("team", "team")
    contact = entry.text("contact")
    return None if name is None else Person(name, team, contact)


def _zone(entry: Entry) -> Zone | None:
    name = entry.text("name", required=True)
    kind = entry.choice("kind", ZONE_KINDS, required=True)
    purdue_level = entry.number("purdue_level", 0, 5, PURDUE)
    cidrs = tuple(entry.parsed("cidrs", parse_network))
    vlans = tuple(
        vlan
        for node, path in _scalar_or_items(entry, "vlans")
        if (vlan := entry.integer_at(node, path, 1, 4094)) is not None
    )
    owner = entry.refer("owner", "party")
    description = entry.text("description") or ""
    if name is None or kind is None:
        return None
    return Zone(name, cast(ZoneKind, kind), purdue_level, cidrs, vlans, owner, description)


def _scalar_or_items(entry: Entry, key: str) -> list[tuple[yaml.Node, str]]:
    node = entry.fields.get(key)
    if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null"):
        return [(node, entry.at(key))]
    return entry.reader.items(node, entry.at(key))


def _conduit(entry: Entry) -> Conduit | None:
    name = entry.text("name", required=True)
    src = entry.refer("from", "zone")
    dst = entry.refer("to", "zone")
    services = []
    for node, path in entry.reader.items(entry.fields.get("services"), entry.at("services")):
        service = entry.reader.entry(node, path, SERVICE_KEYS)
        if service is not None:
            services.append(
                Service(
                    service.text("protocol"),
                    service.choice("transport", TRANSPORTS),
                    service.integer("port", 1, 65535),
                )
            )
    owner = entry.refer("owner", "party")
    description = entry.text("description") or ""
    if name is None or src is None or dst is None:
        return None
    return Conduit(name, src, dst, tuple(services), owner, description)


def _channel(entry: Entry) -> Channel | None:
    name = entry.text("name", required=True)
    kind = entry.text("kind", required=True)
    channel = Channel(
        name=name or "",
        kind=kind or "",
        vendor=entry.text("vendor"),
        outside=tuple(entry.parsed("outside", parse_network)),
        inside=tuple(entry.parsed("inside", parse_network)),
        transport=entry.choice("transport", TRANSPORTS),
        port=entry.integer("port", 1, 65535),
        approved=entry.boolean("approved"),
        manager=entry.refer("manager", "party"),
        windows=_windows(entry),
        description=entry.text("description") or "",
    )
    return None if name is None or kind is None else channel


def _windows(entry: Entry) -> tuple[MaintenanceWindow, ...]:
    windows = []
    for node, path in entry.reader.items(entry.fields.get("windows"), entry.at("windows")):
        window = entry.reader.entry(node, path, WINDOW_KEYS)
        if window is not None:
            windows.append(_window(window))
    return tuple(w for w in windows if w is not None)


def _window(window: Entry) -> MaintenanceWindow | None:
    default = MaintenanceWindow()
    days, start, end, ok = default.days, default.start, default.end, True
    texts = window.texts("days")
    try:
        days = parse_days([text for text, _, _ in texts]) if texts else days
    except ValueError as exc:
        window.reader.problem(texts[0][1], window.at("days"), str(exc))
        ok = False
    for key in ("start", "end"):
        text = window.text(key)
        try:
            value = parse_time(text, end=key == "end") if text is not None else None
        except ValueError as exc:
            window.reader.problem(window.fields[key], window.at(key), str(exc))
            ok = False
            continue
        if value is not None:
            start, end = (value, end) if key == "start" else (start, value)
    if ok and start == end:
        window.reader.problem(window.node, window.path, "start and end are the same time")
        ok = False
    return MaintenanceWindow(days, start, end) if ok else None


def _asset(entry: Entry) -> AssetOverride | None:
    asset = AssetOverride(
        name=entry.text("name"),
        ips=tuple(entry.parsed("ips", parse_ip)),
        macs=tuple(entry.parsed("macs", parse_mac)),
        serial=entry.text("serial"),
        role=entry.text("role"),
        criticality=entry.choice("criticality", CRITICALITIES),
        owner=entry.refer("owner", "party"),
        updated_by=entry.refer("updated_by", "party"),
        notify=entry.refer_all("notify", "party"),
        purdue_level=entry.number("purdue_level", 0, 5, PURDUE),
        vendor=entry.text("vendor"),
    )
    if not ({"ips", "macs", "serial"} & entry.fields.keys()):
        message = "an asset needs at least one of ips, macs or serial to be matched by"
        entry.reader.problem(entry.node, entry.path, message)
        return None
    return asset


def _monitoring(top: Entry) -> Monitoring:
    section = _section(top, "monitoring", MONITORING_KEYS)
    if section is None:
        return Monitoring()
    return Monitoring(
        it=section.refer("it", "party"),
        ot=section.refer("ot", "party"),
        agreed=section.boolean("agreed"),
    )


def _check_references(reader: NodeReader) -> None:
    lists = reader.declared
    declared: dict[str, Iterable[str]] = {
        "party": lists.get("teams", set()) | lists.get("people", set()),
        "team": lists.get("teams", set()),
        "zone": lists.get("zones", set()),
    }
    where = {
        "party": "a team or person declared under teams: or people:",
        "team": "a team declared under teams:",
        "zone": "a zone declared under zones:",
    }
    for ref in reader.references:
        names = sorted(declared[ref.kind])
        if ref.name not in names:
            message = f"unknown {ref.kind} {ref.name!r}: must name {where[ref.kind]}"
            reader.problem(ref.node, ref.path, message + suggest(ref.name, names))
