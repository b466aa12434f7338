"""What a company knows or decides about its plant: the site file as typed values.

The site file (``docs/site.md``) is read by :mod:`otseam.site.load` into a
:class:`Site`. Everything here is plain data; the analysis reads it and never
the YAML. Names of teams and people ("parties") are how the file refers to
who owns, manages, updates or is notified of something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Final, Literal

__all__ = [
    "PARTY_KINDS",
    "ZONE_KINDS",
    "AssetOverride",
    "Channel",
    "Conduit",
    "MaintenanceWindow",
    "Monitoring",
    "Network",
    "Person",
    "Service",
    "Site",
    "Team",
    "Zone",
    "ZoneKind",
]

Network = IPv4Network | IPv6Network
ZoneKind = Literal["it", "dmz", "ot", "external"]
ZONE_KINDS: Final = ("it", "dmz", "ot", "external")
PARTY_KINDS: Final = ("it", "ot", "production", "vendor", "other")


@dataclass(frozen=True, slots=True)
class Team:
    """A group that can own, manage, update or be told about things."""

    name: str
    kind: str = "other"  # one of PARTY_KINDS
    contact: str | None = None
    zones: tuple[str, ...] = ()  # zones the team looks after (informative)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    team: str | None = None  # a Team name
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class Zone:
    """An IEC 62443 zone: a set of addresses with one kind and Purdue level."""

    name: str
    kind: ZoneKind
    purdue_level: float | None = None  # 0-5; 3.5 for the DMZ; None for external
    cidrs: tuple[Network, ...] = ()
    vlans: tuple[int, ...] = ()
    owner: str | None = None
    description: str = ""

    def contains(self, ip: str, vlan: int = 0) -> bool:
        address = ip_address(ip)
        if any(address in net for net in self.cidrs if net.version == address.version):
            return True
        return bool(vlan) and vlan in self.vlans


@dataclass(frozen=True, slots=True)
class Service:
    """A service a conduit allows; ``None`` fields match anything."""

    protocol: str | None = None  # application protocol label (modbus, http...)
    transport: str | None = None  # tcp | udp
    port: int | None = None  # the responder's port


@dataclass(frozen=True, slots=True)
class Conduit:
    """A zone pair the site allows to talk, initiated from ``src_zone``."""

    name: str
    src_zone: str
    dst_zone: str
    services: tuple[Service, ...] = ()  # empty: any service
    owner: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """When a channel may be used: weekdays (0 = Monday) and a time span."""

    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    start: time = time(0, 0)
    end: time = time(23, 59, 59)


@dataclass(frozen=True, slots=True)
class Channel:
    """One entry of the external channel register (VPN, remote tool, gateway...)."""

    name: str
    kind: str  # vpn | remote_desktop | ssh | teamviewer | cellular_gateway | ...
    vendor: str | None = None
    outside: tuple[Network, ...] = ()  # the remote end's addresses
    inside: tuple[Network, ...] = ()  # the plant end's addresses
    transport: str | None = None
    port: int | None = None
    approved: bool = False
    manager: str | None = None
    windows: tuple[MaintenanceWindow, ...] = ()  # empty: any time
    description: str = ""


@dataclass(frozen=True, slots=True)
class AssetOverride:
    """What the site states about one asset, matched by IP, MAC or serial."""

    name: str | None = None
    ips: tuple[str, ...] = ()
    macs: tuple[str, ...] = ()  # lower case, colon separated
    serial: str | None = None
    role: str | None = None
    criticality: str | None = None  # low | medium | high | critical
    owner: str | None = None
    updated_by: str | None = None
    notify: tuple[str, ...] = ()
    purdue_level: float | None = None
    vendor: str | None = None


@dataclass(frozen=True, slots=True)
class Monitoring:
    """Who watches the IT/OT boundary, and whether both sides agreed to it."""

    it: str | None = None  # the IT party alerted on boundary events
    ot: str | None = None  # the OT party alerted on boundary events
    agreed: bool = False


@dataclass(frozen=True, slots=True)
class Site:
    """The whole site file. An empty ``Site()`` means no site file was given."""

    name: str = ""
    description: str = ""
    timezone: str = "UTC"  # maintenance windows are in this zone (IANA name)
    teams: tuple[Team, ...] = ()
    people: tuple[Person, ...] = ()
    zones: tuple[Zone, ...] = ()
    conduits: tuple[Conduit, ...] = ()
    channels: tuple[Channel, ...] = ()
    assets: tuple[AssetOverride, ...] = ()
    monitoring: Monitoring = field(default_factory=Monitoring)
    source: str | None = None  # the file it was read from, for messages

    def zone(self, name: str) -> Zone | None:
        return next((z for z in self.zones if z.name == name), None)

    def zone_of(self, ip: str, vlan: int = 0) -> Zone | None:
        """The first zone holding ``ip`` (by CIDR, else by VLAN)."""
        for zone in self.zones:
            if zone.contains(ip):
                return zone
        if vlan:
            return next((z for z in self.zones if vlan in z.vlans), None)
        return None

    def party_names(self) -> frozenset[str]:
        return frozenset(t.name for t in self.teams) | frozenset(p.name for p in self.people)

    def contact(self, party: str) -> str | None:
        for team in self.teams:
            if team.name == party:
                return team.contact
        for person in self.people:
            if person.name == party:
                return person.contact
        return None

    def party_kind(self, party: str) -> str | None:
        """it | ot | production | vendor | other, for a team or a person's team."""
        for team in self.teams:
            if team.name == party:
                return team.kind
        for person in self.people:
            if person.name == party and person.team:
                return self.party_kind(person.team)
        return None
