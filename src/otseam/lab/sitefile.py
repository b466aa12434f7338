"""The site file: what the plant's owner would write down about the plant.

It states zones, conduits, teams, the remote-access channel register (the
approved channels and the ones the owner has forbidden) and a few asset
overrides (the assets the owner named); it does not state the plant's faults (the IT-to-PLC bypass,
the scanner, the unapproved channel), which otseam has to find. The format is
documented in ``docs/lab.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped, import-not-found, unused-ignore]

from otseam.lab.model import Plant

__all__ = ["SITE_VERSION", "site", "write_site"]

SITE_VERSION = 1

HEADER = """\
# otseam site file (version 1), written by `python -m otseam.lab run`
# from the lab plant {name!r}. Zones of kind "external" are outside the site;
# any address in no zone is external too.
"""


def site(plant: Plant) -> dict[str, Any]:
    """The site document for ``plant``, as plain data ready for YAML."""
    return {
        "version": SITE_VERSION,
        "site": {"name": plant.name, "description": plant.description},
        "teams": [
            {"name": team.name, "contact": team.contact, "zones": list(team.zones)}
            for team in plant.teams
        ],
        "zones": [
            {
                "name": zone.name,
                "kind": zone.kind,
                "purdue_level": zone.purdue_level,
                "cidrs": list(zone.cidrs),
                "owner": zone.owner,
                "description": zone.description,
            }
            for zone in plant.zones
        ],
        "conduits": [
            {
                "name": conduit.name,
                "from": conduit.src_zone,
                "to": conduit.dst_zone,
                "services": [
                    {"protocol": app, "transport": transport, "port": port}
                    for app, transport, port in conduit.services
                ],
                "owner": conduit.owner,
                "description": conduit.description,
            }
            for conduit in plant.conduits
        ],
        "channels": [
            {
                "name": channel.name,
                "kind": channel.kind,
                "outside": channel.endpoints[0],
                "inside": channel.endpoints[1],
                "outside_ips": list(plant.host(channel.endpoints[0]).ips),
                "inside_ips": list(plant.host(channel.endpoints[1]).ips),
                "transport": channel.transport,
                "port": channel.port,
                "approved": channel.approved,
                "manager": channel.manager,
                "description": channel.description,
            }
            for channel in plant.channels
        ],
        "assets": [
            {
                "name": host.name,
                "ips": list(host.ips),
                "role": host.role,
                **({"vendor": host.identity.vendor} if host.identity.vendor else {}),
                **({"purdue_level": host.purdue_level} if host.purdue_level is not None else {}),
            }
            for host in plant.hosts
            if host.in_site_register
        ],
    }


def write_site(plant: Plant, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(site(plant), sort_keys=False, default_flow_style=False, width=100)
    path.write_text(HEADER.format(name=plant.name) + body)
    return path
