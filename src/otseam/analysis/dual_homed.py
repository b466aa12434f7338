"""``dual_homed``: one host with addresses in two zones, which bridges them.

A host is recognised as one across its interfaces by the same MAC, or by the
same identity seen on both sides: a host name it announced (DHCP, NetBIOS,
mDNS, LLMNR, SMB, SNMP, LLDP/CDP) or a serial number. Routers and firewalls
(assets marked as gateways, or of role network_device) bridge zones by design
and are left out; a gateway of any other role is a host forwarding between
zones and is reported.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Final

from otseam.analysis.context import Context
from otseam.model.convergence import Finding, Placement, Severity

__all__ = ["dual_homed_findings"]

GENERIC_NAMES: Final = frozenset({"localhost", "unknown", "default", "android", "iphone", "pc"})
ROUTERS: Final = frozenset({"network_device"})


def dual_homed_findings(ctx: Context) -> list[Finding]:
    findings = []
    for label, hosts, link in _hosts(ctx):
        zones = sorted({z for p in hosts for z in p.zones})
        if len(zones) < 2 or any(p.role in ROUTERS for p in hosts):
            continue
        ips = [ip for p in hosts for ip in p.ips]
        kinds = {ctx.zoning.kind(z) for z in zones}
        severity: Severity = "critical" if {"it", "ot"} <= kinds else "high"
        title = f"{label} is dual-homed: {', '.join(ips)} in zones {', '.join(zones)}"
        findings.append(
            ctx.make(
                "dual_homed",
                severity,
                title,
                tuple(sorted(p.key for p in hosts)),
                zone=next((z for z in zones if ctx.zoning.kind(z) == "ot"), zones[0]),
                assets=[p.name for p in hosts],
                evidence={
                    "zones": zones,
                    "ips": ips,
                    "macs": [m for p in hosts for m in p.macs],
                    "linked_by": link,
                    "forwards": any(p.is_gateway for p in hosts),
                },
                owners=ctx.owners(zones, ips, monitors=True),
            )
        )
    return findings


def _hosts(ctx: Context) -> list[tuple[str, list[Placement], str]]:
    """Groups of placements that are one host, with what links them."""
    by_id = {p.asset_id: p for p in ctx.placements}
    groups: dict[str, set[int]] = defaultdict(set)
    for asset in ctx.facts.assets:
        if asset.role in ROUTERS:
            continue
        for name in asset.hostnames:
            if len(name) >= 3 and name not in GENERIC_NAMES:
                groups[f"host name {name!r}"].add(asset.id)
        if asset.serial:
            groups[f"serial {asset.serial!r}"].add(asset.id)
    found: list[tuple[str, list[Placement], str]] = []
    seen: set[frozenset[int]] = set()
    for link, ids in sorted(groups.items()):
        key = frozenset(ids)
        if len(ids) > 1 and key not in seen:
            seen.add(key)
            hosts = [by_id[i] for i in sorted(ids)]
            found.append((hosts[0].name, hosts, link))
    for place in ctx.placements:  # one MAC (or forwarding host) in several zones
        if len(place.zones) > 1 and not any(place in hosts for _, hosts, _ in found):
            link = "forwards between zones" if place.is_gateway else "one MAC address"
            found.append((place.name, [place], link))
    return found
