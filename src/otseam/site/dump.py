"""Write a :class:`Site` back as a site file (the format of ``docs/site.md``).

Empty and unset fields are left out, keys keep the documented order, and
:func:`otseam.site.load.parse_site` reads the result back to an equal value.
"""

from __future__ import annotations

from typing import Any

import yaml

from otseam.site.model import (
    AssetOverride,
    Channel,
    Conduit,
    MaintenanceWindow,
    Monitoring,
    Network,
    Person,
    Site,
    Team,
    Zone,
)
from otseam.site.values import format_days, format_time

__all__ = ["dump_site", "site_document"]


def dump_site(site: Site, header: str = "") -> str:
    """The YAML text of ``site``; ``header`` lines are written first as comments."""
    comment = "".join(
        f"# {line}\n" if line and not line.startswith("#") else f"{line or '#'}\n"
        for line in header.splitlines()
    )
    body = yaml.safe_dump(
        site_document(site), sort_keys=False, default_flow_style=False, width=100,
        allow_unicode=True,
    )  # fmt: skip
    return comment + body


def site_document(site: Site) -> dict[str, Any]:
    """``site`` as plain data, in the site file's layout."""
    about = _compact(
        {"name": site.name, "description": site.description, "timezone": site.timezone}
    )
    if about.get("timezone") == "UTC":
        del about["timezone"]
    return _compact(
        {
            "version": 1,
            "site": about,
            "teams": [_team(team) for team in site.teams],
            "people": [_person(person) for person in site.people],
            "zones": [_zone(zone) for zone in site.zones],
            "conduits": [_conduit(conduit) for conduit in site.conduits],
            "channels": [_channel(channel) for channel in site.channels],
            "assets": [_asset(asset) for asset in site.assets],
            "monitoring": _monitoring(site.monitoring),
        }
    )


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    """Without None, empty text and empty lists or mappings."""
    return {key: value for key, value in fields.items() if value not in (None, "", [], {}, ())}


def _number(value: float | None) -> float | int | None:
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def _team(team: Team) -> dict[str, Any]:
    fields = {"name": team.name, "kind": team.kind, "contact": team.contact}
    return _compact({**fields, "zones": list(team.zones)})


def _person(person: Person) -> dict[str, Any]:
    return _compact({"name": person.name, "team": person.team, "contact": person.contact})


def _zone(zone: Zone) -> dict[str, Any]:
    return _compact(
        {
            "name": zone.name,
            "kind": zone.kind,
            "purdue_level": _number(zone.purdue_level),
            "cidrs": [str(cidr) for cidr in zone.cidrs],
            "vlans": list(zone.vlans),
            "owner": zone.owner,
            "description": zone.description,
        }
    )


def _conduit(conduit: Conduit) -> dict[str, Any]:
    services = [
        _compact({"protocol": s.protocol, "transport": s.transport, "port": s.port})
        for s in conduit.services
    ]
    return _compact(
        {
            "name": conduit.name,
            "from": conduit.src_zone,
            "to": conduit.dst_zone,
            "services": services,
            "owner": conduit.owner,
            "description": conduit.description,
        }
    )


def _channel(channel: Channel) -> dict[str, Any]:
    return _compact(
        {
            "name": channel.name,
            "kind": channel.kind,
            "vendor": channel.vendor,
            "outside": [_address(net) for net in channel.outside],
            "inside": [_address(net) for net in channel.inside],
            "transport": channel.transport,
            "port": channel.port,
            "approved": channel.approved,
            "manager": channel.manager,
            "windows": [_window(window) for window in channel.windows],
            "description": channel.description,
        }
    )


def _address(network: Network) -> str:
    """A single-address network is written as the address itself."""
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


def _window(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "days": format_days(window.days),
        "start": format_time(window.start),
        "end": format_time(window.end),
    }


def _asset(asset: AssetOverride) -> dict[str, Any]:
    return _compact(
        {
            "name": asset.name,
            "ips": list(asset.ips),
            "macs": list(asset.macs),
            "serial": asset.serial,
            "role": asset.role,
            "criticality": asset.criticality,
            "owner": asset.owner,
            "updated_by": asset.updated_by,
            "notify": list(asset.notify),
            "purdue_level": _number(asset.purdue_level),
            "vendor": asset.vendor,
        }
    )


def _monitoring(monitoring: Monitoring) -> dict[str, Any]:
    if monitoring == Monitoring():
        return {}
    fields = _compact({"it": monitoring.it, "ot": monitoring.ot})
    return {**fields, "agreed": monitoring.agreed}
