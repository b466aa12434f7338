"""The site file: what the plant's owner would write down about the plant.

It states zones, conduits, teams, the remote-access channel register (the
approved channels and the ones the owner has forbidden), who monitors the
IT/OT boundary, and a few asset overrides (the assets the owner named); it
does not state the plant's faults (the IT-to-PLC bypass, the scanner, the
unapproved channel), which otseam has to find. The format is the one otseam
reads, documented in ``docs/site.md``; it is written with
:func:`otseam.site.dump.dump_site`.
"""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Any

from otseam.lab.model import Plant
from otseam.site.dump import dump_site, site_document
from otseam.site.model import (
    AssetOverride,
    Channel,
    Conduit,
    Monitoring,
    Service,
    Site,
    Team,
    Zone,
)

__all__ = ["SITE_VERSION", "plant_site", "site", "write_site"]

SITE_VERSION = 1

HEADER = """\
otseam site file (version 1), written by `python -m otseam.lab run`
from the lab plant {name!r}. Zones of kind "external" are outside the site;
any address in no zone is external too. The format: docs/site.md.
"""


def plant_site(plant: Plant) -> Site:
    """What the owner of ``plant`` states about it, as otseam's site model."""
    return Site(
        name=plant.name,
        description=plant.description,
        teams=tuple(Team(t.name, t.kind, t.contact, t.zones) for t in plant.teams),
        zones=tuple(
            Zone(z.name, z.kind, z.purdue_level, tuple(ip_network(c) for c in z.cidrs),
                 owner=z.owner, description=z.description)
            for z in plant.zones
        ),
        conduits=tuple(
            Conduit(c.name, c.src_zone, c.dst_zone,
                    tuple(Service(app, transport, port) for app, transport, port in c.services),
                    c.owner, c.description)
            for c in plant.conduits
        ),
        channels=tuple(
            Channel(c.name, c.kind, c.vendor,
                    outside=tuple(ip_network(ip) for ip in plant.host(c.endpoints[0]).ips),
                    inside=tuple(ip_network(ip) for ip in plant.host(c.endpoints[1]).ips),
                    transport=c.transport, port=c.port, approved=c.approved, manager=c.manager,
                    description=c.description)
            for c in plant.channels
        ),
        assets=tuple(
            AssetOverride(name=h.name, ips=h.ips, role=h.role, vendor=h.identity.vendor,
                          purdue_level=h.purdue_level, updated_by=h.updated_by)
            for h in plant.hosts
            if h.in_site_register
        ),
        monitoring=Monitoring(it="it-infrastructure", ot="ot-engineering", agreed=False),
    )  # fmt: skip


def site(plant: Plant) -> dict[str, Any]:
    """The site document for ``plant``, as plain data ready for YAML."""
    return site_document(plant_site(plant))


def write_site(plant: Plant, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_site(plant_site(plant), HEADER.format(name=plant.name)))
    return path
