"""Zones and where each asset sits in them, with the evidence.

With a site file, zones are the file's (by CIDR, then VLAN). Without one,
zones are proposed from what was seen: one zone per IPv4 /24 (IPv6 /64)
holding private addresses, classified by the roles of the assets in it:

- a subnet with PLCs, RTUs, IEDs, HMIs, engineering workstations, SCADA or
  OPC servers is OT, at the Purdue level of its lowest such role;
- a subnet with only a historian or a jump host (the servers both sides
  reach) is a DMZ candidate (level 3.5);
- anything else is IT (level 4).

Public addresses (and the documentation ranges, which the lab uses as the
internet) not in a site zone fall in an ``internet`` zone of kind external.
Multicast, broadcast and link-local addresses are in no zone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import ip_address, ip_network
from typing import Final

from otseam.analysis.facts import AssetRecord, Facts, is_public
from otseam.analysis.roles import FIELD_ROLE
from otseam.model.convergence import Placement, ZoneUse
from otseam.site.model import AssetOverride, Site

__all__ = [
    "INTERNET",
    "OT_ROLES",
    "ROLE_LEVEL",
    "Zoning",
    "override_for",
    "place_assets",
    "zone_assets",
]

INTERNET: Final = "internet"
ROLE_LEVEL: Final[dict[str, float]] = {
    "plc": 1,
    "rtu": 1,
    "ied": 1,
    "hmi": 2,
    "engineering_workstation": 2,
    "scada_server": 3,
    "opc_server": 3,
    "historian": 3,
}
OT_ROLES: Final = frozenset(ROLE_LEVEL) - {"historian"}
DMZ_ROLES: Final = frozenset({"historian", "jump_host"})
NEUTRAL_ROLES: Final = frozenset({"network_device", "unknown"})
INDUSTRIAL: Final = frozenset(FIELD_ROLE) | {"opcua", "profinet", "s7comm-plus", "hart-ip"}


@dataclass
class Zoning:
    """The zones, and a way to find the zone of an address."""

    zones: tuple[ZoneUse, ...]
    zone_of: Callable[[str], str | None]
    by_name: dict[str | None, ZoneUse] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {z.name: z for z in self.zones}

    def zone(self, name: str | None) -> ZoneUse | None:
        return self.by_name.get(name)

    def kind(self, name: str | None) -> str | None:
        zone = self.zone(name)
        return zone.kind if zone else None

    def level(self, name: str | None) -> float | None:
        zone = self.zone(name)
        return zone.purdue_level if zone else None


def zone_assets(site: Site, facts: Facts) -> Zoning:
    """The site's zones, else zones proposed from the traffic."""
    if site.zones:
        return _site_zoning(site, facts)
    return _suggested_zoning(facts)


def _site_zoning(site: Site, facts: Facts) -> Zoning:
    @lru_cache(maxsize=1 << 20)
    def zone_of(ip: str) -> str | None:
        try:
            zone = site.zone_of(ip, facts.vlan_of.get(ip, 0))
        except ValueError:
            return None
        if zone:
            return zone.name
        return INTERNET if is_public(ip) else None

    counts = _asset_counts(facts, zone_of)
    source = site.source or "the site file"
    zones = [
        ZoneUse(
            z.name,
            z.kind,
            z.purdue_level,
            tuple(str(c) for c in z.cidrs),
            z.vlans,
            z.owner,
            "site",
            f"stated in {source}",
            counts[z.name],
            z.description,
        )
        for z in site.zones
    ]
    reached = counts[INTERNET] or _touches(facts, lambda ip: zone_of(ip) == INTERNET)
    if reached and not site.zone(INTERNET):
        zones.append(_internet(counts[INTERNET]))
    return Zoning(tuple(zones), zone_of)


def _internet(assets: int) -> ZoneUse:
    return ZoneUse(
        INTERNET,
        "external",
        None,
        (),
        (),
        None,
        "suggested",
        "public addresses in no site zone",
        assets,
    )


@lru_cache(maxsize=1 << 20)
def _subnet(ip: str) -> str | None:
    """The /24 (/64) of a unicast address; None for multicast, broadcast, link-local."""
    try:
        address = ip_address(ip)
    except ValueError:
        return None
    if address.is_multicast or address.is_link_local or address.is_unspecified:
        return None
    if ip == "255.255.255.255" or address.is_loopback:
        return None
    if address.version == 4:
        return str(address).rsplit(".", 1)[0] + ".0/24"
    return str(ip_network(f"{ip}/64", strict=False))


def _touches(facts: Facts, test: Callable[[str], bool]) -> bool:
    """Whether a conversation reached an address passing ``test`` that holds no
    asset: only a server that never answered can (every sender is an asset)."""
    return any(test(f.server) for f in facts.flows if not f.answered)


def _suggested_zoning(facts: Facts) -> Zoning:
    """One zone per subnet, and per VLAN where a subnet's addresses are tagged
    with several; public subnets are the internet unless they hold industrial
    devices (a plant numbered with public addresses)."""
    members: dict[Segment, list[AssetRecord]] = defaultdict(list)
    for asset in facts.assets:
        for segment in {seg for ip in asset.ips if (seg := _segment(facts, ip))}:
            members[segment].append(asset)
    tagged = Counter(subnet for subnet, vlan in members if vlan)
    zones = []
    names: dict[Segment, str] = {}
    internet = 0
    for (subnet, vlan), held in sorted(members.items()):
        kind, level, why = _classify(held)
        if is_public(subnet.split("/")[0]) and kind != "ot":
            internet += len(held)
            continue
        split = tagged[subnet] > 1 or (vlan and tagged[subnet] and (subnet, 0) in members)
        names[(subnet, vlan)] = name = _zone_name(kind, subnet, vlan if split else 0)
        where = f"subnet {subnet}" + (f" on VLAN {vlan}" if vlan else "")
        zones.append(
            ZoneUse(
                name,
                kind,
                level,
                (subnet,),
                (vlan,) if vlan else (),
                None,
                "suggested",
                f"{where}: {why}",
                len(held),
            )
        )

    @lru_cache(maxsize=1 << 20)
    def zone_of(ip: str) -> str | None:
        segment = _segment(facts, ip)
        if segment is None:
            return None
        return names.get(segment) or (INTERNET if is_public(ip) else None)

    if internet or _touches(facts, lambda ip: zone_of(ip) == INTERNET):
        zones.append(_internet(internet))
    return Zoning(tuple(zones), zone_of)


Segment = tuple[str, int]  # subnet, VLAN (0: untagged)


def _segment(facts: Facts, ip: str) -> Segment | None:
    subnet = _subnet(ip)
    return (subnet, facts.vlan_of.get(ip, 0)) if subnet else None


def _zone_name(kind: str, subnet: str, vlan: int = 0) -> str:
    network = subnet.split("/")[0]
    base = f"{kind}-{network.rsplit('.', 1)[0]}" if ":" not in network else f"{kind}-{subnet}"
    return f"{base}-vlan{vlan}" if vlan else base


def _classify(held: list[AssetRecord]) -> tuple[str, float, str]:
    roles = Counter(a.role for a in held if not a.is_gateway)
    shown = ", ".join(f"{n} {r}" for r, n in sorted(roles.items()))
    ot = [ROLE_LEVEL[r] for r in roles if r in OT_ROLES]
    if ot:
        return "ot", min(ot), shown
    if roles and set(roles) - NEUTRAL_ROLES <= DMZ_ROLES and set(roles) & DMZ_ROLES:
        return "dmz", 3.5, f"{shown} (servers both sides reach)"
    industrial = sorted({p for a in held for p in a.protocols} & INDUSTRIAL)
    if industrial and set(roles) <= NEUTRAL_ROLES:
        # hosts nobody could classify, speaking only industrial protocols: not IT
        return "ot", 2, f"{shown}, speaking {', '.join(industrial)} (no IT role)"
    return "it", 4, shown or "no classified asset"


def _asset_counts(facts: Facts, zone_of: Callable[[str], str | None]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for asset in facts.assets:
        for zone in {zone_of(ip) for ip in asset.ips} - {None}:
            counts[str(zone)] += 1
    return counts


def override_for(site: Site, asset: AssetRecord) -> AssetOverride | None:
    """The site file's entry for ``asset``, matched by IP, MAC or serial."""
    for entry in site.assets:
        if set(entry.ips) & set(asset.ips) or set(entry.macs) & set(asset.macs):
            return entry
        if entry.serial and asset.serial and entry.serial == asset.serial:
            return entry
    return None


def place_assets(
    facts: Facts, zoning: Zoning, overrides: dict[int, AssetOverride | None]
) -> list[Placement]:
    """Every asset with its zone and Purdue level, and why; ``overrides`` are
    the site file's entries by asset id (``override_for``)."""
    return [_place(asset, zoning, overrides.get(asset.id)) for asset in facts.assets]


def _place(asset: AssetRecord, zoning: Zoning, entry: AssetOverride | None) -> Placement:
    role = (entry.role if entry and entry.role else None) or asset.role
    zones = sorted({z for z in map(zoning.zone_of, asset.ips) if z})
    zone = _primary(zones, role, zoning)
    name = (entry.name if entry and entry.name else None) or asset.name or _first(asset)
    level, why = _level(entry, role, zone, zoning)
    where = f"{', '.join(asset.ips)} in {zone}" if zone else "no address in a zone"
    return Placement(
        asset.id,
        asset.key,
        name,
        role,
        asset.ips,
        asset.macs,
        zone,
        tuple(zones),
        level,
        f"{where}; {why}",
        asset.is_gateway,
    )


def _primary(zones: list[str], role: str, zoning: Zoning) -> str | None:
    """The zone an asset belongs to: for a host in several, the one its role belongs in."""
    if len(zones) <= 1:
        return zones[0] if zones else None
    wanted = "ot" if role in OT_ROLES else "dmz" if role in DMZ_ROLES else "it"
    matching = [z for z in zones if zoning.kind(z) == wanted]
    return (matching or zones)[0]


def _level(
    entry: AssetOverride | None, role: str, zone: str | None, zoning: Zoning
) -> tuple[float | None, str]:
    if entry and entry.purdue_level is not None:
        return entry.purdue_level, "Purdue level from the site file"
    if zoning.kind(zone) == "ot" and role in ROLE_LEVEL:
        return ROLE_LEVEL[role], f"Purdue level {ROLE_LEVEL[role]:g} for a {role} in an OT zone"
    level = zoning.level(zone)
    return level, ("zone's Purdue level" if level is not None else "no Purdue level")


def _first(asset: AssetRecord) -> str:
    return (asset.ips or asset.macs or (asset.key,))[0]
