"""Writing a Site gives a site file that reads back to the same Site."""

from __future__ import annotations

from datetime import time
from ipaddress import ip_network

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from otseam.site.dump import dump_site
from otseam.site.load import parse_site
from otseam.site.model import (
    PARTY_KINDS,
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
)

SOURCE = "site.yaml"
PARTIES = ("ot-eng", "it-ops", "J. Weber")
ZONES = ("control", "office")

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1)
texts = st.one_of(st.just(""), names, st.sampled_from(["yes", "null", "08:00", "0123", "1e3"]))
parties = st.sampled_from(PARTIES)
levels = st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0, 3.0, 3.5, 4.0, 5.0]))
networks = st.sampled_from(
    [ip_network("10.0.0.0/8"), ip_network("192.0.2.7/32"), ip_network("2001:db8::/32")]
)
windows = st.builds(
    MaintenanceWindow,
    days=st.sets(st.integers(0, 6), min_size=1).map(lambda d: tuple(sorted(d))),
    start=st.sampled_from([time(0), time(8), time(22, 30)]),
    end=st.sampled_from([time(17), time(23, 59, 59), time(2, 0, 15)]),
)
channels = st.builds(
    Channel,
    name=names,
    kind=st.sampled_from(["vpn", "teamviewer", "ssh"]),
    vendor=st.none() | names,
    outside=st.lists(networks, max_size=2).map(tuple),
    inside=st.lists(networks, max_size=2).map(tuple),
    transport=st.sampled_from([None, "tcp", "udp"]),
    port=st.none() | st.integers(1, 65535),
    approved=st.booleans(),
    manager=st.none() | parties,
    windows=st.lists(windows, max_size=2).map(tuple),
    description=texts,
)
assets = st.builds(
    AssetOverride,
    name=st.none() | names,
    ips=st.lists(st.sampled_from(["10.0.0.5", "2001:db8::1"]), min_size=1).map(tuple),
    serial=st.none() | texts.filter(bool),
    criticality=st.sampled_from([None, "low", "critical"]),
    owner=st.none() | parties,
    notify=st.lists(parties, max_size=2).map(tuple),
    purdue_level=levels,
)


def _names_unique(found: list[AssetOverride]) -> bool:
    named = [asset.name for asset in found if asset.name is not None]
    return len(named) == len(set(named))


@st.composite
def sites(draw: st.DrawFn) -> Site:
    return Site(
        name=draw(texts),
        description=draw(texts),
        timezone=draw(st.sampled_from(["UTC", "Europe/Berlin"])),
        teams=(Team("ot-eng", draw(st.sampled_from(PARTY_KINDS)), None, ZONES), Team("it-ops")),
        people=(Person("J. Weber", draw(st.none() | st.just("ot-eng")), draw(st.none() | names)),),
        zones=(
            Zone("control", "ot", draw(levels), (ip_network("10.40.0.0/24"),), (40,), "ot-eng"),
            Zone("office", "it", owner=draw(st.none() | parties), description=draw(texts)),
        ),
        conduits=(Conduit("c1", "office", "control", (Service("modbus", "tcp", 502), Service())),),
        channels=tuple(draw(st.lists(channels, max_size=2, unique_by=lambda c: c.name))),
        assets=tuple(draw(st.lists(assets, max_size=3).filter(_names_unique))),
        monitoring=draw(st.builds(Monitoring, st.none() | parties, st.none() | parties)),
        source=SOURCE,
    )


@settings(max_examples=150, deadline=None)
@given(sites())
def test_dump_then_parse_gives_the_same_site(site: Site) -> None:
    assert parse_site(dump_site(site), SOURCE) == site


def test_empty_fields_are_left_out_and_header_is_a_comment() -> None:
    site = Site(zones=(Zone("control", "ot"),), source=SOURCE)
    text = dump_site(site, header="written by a test\nsecond line")
    assert text.startswith("# written by a test\n# second line\nversion: 1\n")
    assert yaml.safe_load(text) == {"version": 1, "zones": [{"name": "control", "kind": "ot"}]}
    assert parse_site(text, SOURCE) == site


def test_keys_keep_the_documented_order() -> None:
    channel = Channel("vpn-1", "vpn", "Acme", port=443, approved=True, manager="it")
    document = yaml.safe_load(dump_site(Site(channels=(channel,))))
    assert list(document["channels"][0]) == [
        "name",
        "kind",
        "vendor",
        "port",
        "approved",
        "manager",
    ]
