"""The site file reader: a good file becomes a Site, every problem is named with its line."""

from __future__ import annotations

from datetime import time
from ipaddress import ip_network
from pathlib import Path

import pytest

from otseam.errors import ConfigError
from otseam.site.load import load_site, parse_site
from otseam.site.model import MaintenanceWindow, Monitoring, Service

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "otseam" / "data" / "sample" / "site.yaml"

GOOD = """\
version: 1
site: {name: Plant 1, description: Line 1, timezone: Europe/Berlin}
teams:
  - {name: ot-eng, kind: ot, contact: ot@plant.example, zones: [control]}
  - {name: it-ops, kind: it}
people:
  - {name: J. Weber, team: ot-eng, contact: jw@plant.example}
zones:
  - name: control
    kind: ot
    purdue_level: 1
    cidrs: [10.40.0.0/24]
    vlans: [40]
    owner: ot-eng
  - {name: office, kind: it, purdue_level: 4, cidrs: [10.10.0.0/24], owner: it-ops}
conduits:
  - name: office-to-control
    from: office
    to: control
    services: [{protocol: modbus, transport: tcp, port: 502}]
    owner: ot-eng
channels:
  - name: vendor-vpn
    kind: vpn
    vendor: Integrator GmbH
    outside: [198.51.100.7]
    inside: [10.40.0.0/24]
    transport: udp
    port: 1194
    approved: true
    manager: J. Weber
    windows:
      - {days: mon-fri, start: "08:00", end: 17:00}
      - {days: [sat], start: "22:00", end: "02:00"}
assets:
  - name: plc-1
    ips: [10.40.0.5]
    macs: [00-1A-2B-3C-4D-5E, 001a.2b3c.4d5f]
    serial: 0123
    criticality: high
    owner: ot-eng
    updated_by: J. Weber
    notify: [ot-eng, it-ops]
    purdue_level: 1
monitoring: {it: it-ops, ot: ot-eng, agreed: true}
"""


def problems_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_site(text, "site.yaml")
    return str(caught.value)


def with_good(replace: str, by: str) -> str:
    assert replace in GOOD
    return GOOD.replace(replace, by, 1)


def test_a_good_file_becomes_a_site() -> None:
    site = parse_site(GOOD, "site.yaml")
    assert site.name == "Plant 1" and site.timezone == "Europe/Berlin"
    assert site.source == "site.yaml"
    control = site.zone("control")
    assert control is not None and control.cidrs == (ip_network("10.40.0.0/24"),)
    assert control.purdue_level == 1.0 and control.vlans == (40,)
    assert site.conduits[0].services == (Service("modbus", "tcp", 502),)
    channel = site.channels[0]
    assert channel.outside == (ip_network("198.51.100.7/32"),)
    assert channel.windows == (
        MaintenanceWindow((0, 1, 2, 3, 4), time(8), time(17)),
        MaintenanceWindow((5,), time(22), time(2)),
    )
    asset = site.assets[0]
    assert asset.macs == ("00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d:5f")
    assert asset.serial == "0123"  # as written, not the number 83
    assert site.monitoring == Monitoring("it-ops", "ot-eng", True)
    assert site.party_kind("J. Weber") == "ot"


def test_only_version_is_required() -> None:
    assert parse_site("version: 1\n", "site.yaml").zones == ()


def test_the_committed_sample_site_file_loads() -> None:
    site = load_site(SAMPLE)
    assert site.zone_of("10.40.0.5") is not None
    assert {c.name for c in site.channels} == {"vendor-ssh", "scada-teamviewer"}


def test_every_problem_is_reported_at_once_sorted_by_line() -> None:
    text = with_good("purdue_level: 1\n    cidrs", "purdue_level: high\n    cidrs")
    text = text.replace("transport: udp", "transport: sctp")
    message = problems_of(text)
    assert message.startswith("site.yaml: 2 problems in the site file:\n")
    assert message.index("site.yaml:11:") < message.index("site.yaml:28:")


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "purdue_level: 1\n    cidrs",
            "purdue_level: high\n    cidrs",
            "site.yaml:11: zones[0].purdue_level: must be a number from 0 to 5 "
            "(3.5 for the DMZ), got 'high'",
        ),
        (
            "{name: office, kind: it,",
            "{name: office, kind: plant,",
            "site.yaml:15: zones[1].kind: must be one of it, dmz, ot, external, got 'plant'",
        ),
        (
            "{name: it-ops, kind: it}",
            "{name: it-ops, kind: corporate}",
            "site.yaml:5: teams[1].kind: must be one of it, ot, production, vendor, other, "
            "got 'corporate'",
        ),
        (
            "cidrs: [10.40.0.0/24]",
            "cidrs: [10.40.0.1/24]",
            "site.yaml:12: zones[0].cidrs[0]: '10.40.0.1/24' has host bits set "
            "(did you mean '10.40.0.0/24'?)",
        ),
        (
            "cidrs: [10.40.0.0/24]",
            "cidrs: [10.40.0/33]",
            "site.yaml:12: zones[0].cidrs[0]: '10.40.0/33' is not an IP address or CIDR block",
        ),
        (
            "vlans: [40]",
            "vlans: [4095]",
            "site.yaml:13: zones[0].vlans[0]: must be a whole number from 1 to 4094, got 4095",
        ),
        (
            "port: 502",
            "port: 0",
            "site.yaml:20: conduits[0].services[0].port: must be a whole number from 1 to 65535",
        ),
        (
            "transport: udp",
            "transport: sctp",
            "site.yaml:28: channels[0].transport: must be one of tcp, udp, got 'sctp'",
        ),
        (
            "approved: true",
            "approved: maybe",
            "site.yaml:30: channels[0].approved: must be true or false, got 'maybe'",
        ),
        (
            "ips: [10.40.0.5]",
            "ips: [10.40.0.300]",
            "site.yaml:37: assets[0].ips[0]: '10.40.0.300' is not an IP address",
        ),
        (
            "001a.2b3c.4d5f",
            "00:1a:2b",
            "site.yaml:38: assets[0].macs[1]: '00:1a:2b' is not a MAC address",
        ),
        (
            "criticality: high",
            "criticality: urgent",
            "site.yaml:40: assets[0].criticality: must be one of low, medium, high, critical",
        ),
        (
            "timezone: Europe/Berlin",
            "timezone: Europe/Berln",
            "site.yaml:2: site.timezone: must be an IANA time zone like 'Europe/Berlin', "
            "got 'Europe/Berln' (did you mean 'Europe/Berlin'?)",
        ),
        ("version: 1", "version: 2", "site.yaml:1: version: must be 1"),
        ("version: 1\n", "", "site.yaml:1: missing key 'version'"),
    ],
)
def test_a_wrong_value_is_named_with_line_path_and_value(
    replace: str, by: str, expected: str
) -> None:
    assert expected in problems_of(with_good(replace, by))


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "owner: ot-eng\n  - {name: office",
            "owner: ot-egn\n  - {name: office",
            "site.yaml:14: zones[0].owner: unknown party 'ot-egn': must name a team or person "
            "declared under teams: or people: (did you mean 'ot-eng'?)",
        ),
        (
            "to: control",
            "to: contrl",
            "site.yaml:19: conduits[0].to: unknown zone 'contrl': must name a zone declared "
            "under zones: (did you mean 'control'?)",
        ),
        (
            "team: ot-eng, contact",
            "team: J. Weber, contact",
            "site.yaml:7: people[0].team: unknown team 'J. Weber': must name a team declared",
        ),
        (
            "manager: J. Weber",
            "manager: K. Weber",
            "site.yaml:31: channels[0].manager: unknown party 'K. Weber'",
        ),
        (
            "notify: [ot-eng, it-ops]",
            "notify: [ot-eng, it-opps]",
            "site.yaml:43: assets[0].notify[1]: unknown party 'it-opps'",
        ),
        (
            "updated_by: J. Weber",
            "updated_by: vendor",
            "site.yaml:42: assets[0].updated_by: unknown party 'vendor'",
        ),
        (
            "{it: it-ops, ot: ot-eng",
            "{it: it-ops, ot: nobody",
            "site.yaml:45: monitoring.ot: unknown party 'nobody'",
        ),
        (
            "zones: [control]}",
            "zones: [cntrol]}",
            "site.yaml:4: teams[0].zones[0]: unknown zone 'cntrol'",
        ),
    ],
)
def test_a_reference_must_name_something_declared(replace: str, by: str, expected: str) -> None:
    assert expected in problems_of(with_good(replace, by))


def test_unknown_key_suggests_the_closest_one() -> None:
    message = problems_of(with_good("    owner: ot-eng\n  - {name", "    owenr: ot-eng\n  - {name"))
    assert "site.yaml:14: zones[0]: unknown key 'owenr' (did you mean 'owner'?)" in message


def test_unknown_key_without_a_close_one_lists_the_allowed_keys() -> None:
    message = problems_of("version: 1\nplant: x\n")
    assert "site.yaml:2: unknown key 'plant' (allowed: version, site, teams," in message


def test_duplicate_names_and_keys() -> None:
    text = with_good("{name: it-ops, kind: it}", "{name: ot-eng, kind: it, kind: ot}")
    message = problems_of(text)
    assert "site.yaml:5: teams[1]: duplicate key 'kind' (first on line 5)" in message
    assert "site.yaml:5: teams[1].name: duplicate name 'ot-eng' in teams (first on line 4)" in (
        message
    )


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ("zones:\n  - name: control", "zones: control\nx:\n  - name: control",
         "site.yaml:8: zones: must be a list, got 'control'"),
        ("    cidrs: [10.40.0.0/24]", "    cidrs: {a: 1}",
         "site.yaml:12: zones[0].cidrs: must be a list, got a mapping"),
        ("  - {name: it-ops, kind: it}", "  - it-ops",
         "site.yaml:5: teams[1]: must be a mapping of keys, got 'it-ops'"),
        ("contact: jw@plant.example", "contact: [a, b]",
         "site.yaml:7: people[0].contact: must be text, got a list"),
        ("name: plc-1\n", "name: plc-1\n    role: [plc]\n",
         "site.yaml:37: assets[0].role: must be text, got a list"),
    ],
)  # fmt: skip
def test_a_wrong_type_is_named(replace: str, by: str, expected: str) -> None:
    assert expected in problems_of(with_good(replace, by))


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("{days: mon-fry, start: '08:00'}", "windows[0].days: 'fry' is not a weekday"),
        ("{days: [mon], start: '25:00'}", "windows[0].start: must be a time of day"),
        ("{days: [mon], start: 'eight'}", "windows[0].start: must be a time like '08:00'"),
        ("{start: '08:00', end: '08:00'}", "windows[0]: start and end are the same time"),
        ("{days: [mon], from: '08:00'}", "windows[0]: unknown key 'from'"),
    ],
)
def test_a_bad_maintenance_window_is_named(window: str, expected: str) -> None:
    text = f"version: 1\nchannels:\n  - name: c\n    kind: vpn\n    windows: [{window}]\n"
    assert f"site.yaml:5: channels[0].{expected}" in problems_of(text)


def test_an_asset_needs_something_to_be_matched_by() -> None:
    message = problems_of("version: 1\nassets:\n  - {name: plc-9, role: plc}\n")
    assert "site.yaml:3: assets[0]: an asset needs at least one of ips, macs or serial" in message


def test_not_yaml_gets_one_line_with_the_line_number() -> None:
    message = problems_of("version: 1\nzones: [\n  {name: a\n")
    assert message.startswith("site.yaml:4: not valid YAML: ")
    assert "\n" not in message


def test_a_file_that_is_not_a_mapping_is_named() -> None:
    message = problems_of("\n- version: 1\n")
    assert message == (
        "site.yaml:2: the site file must be a mapping of keys (version, site, zones, ...), "
        "got a list"
    )


def test_empty_and_missing_files_name_the_path(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match=r"empty\.yaml: the site file is empty"):
        load_site(empty)
    with pytest.raises(ConfigError, match=r"missing\.yaml: no such site file"):
        load_site(tmp_path / "missing.yaml")


def test_the_documented_example_is_a_valid_site_file() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "site.md"
    example = docs.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    site = parse_site(example, "docs/site.md")
    assert site.timezone == "Europe/Berlin"
    assert site.assets[0].macs == ("00:1a:2b:3c:4d:5e",)
    assert site.channels[0].windows[1].days == (5,)
