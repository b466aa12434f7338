"""The truth file: what the lab built and did, as JSON (schema ``otseam-lab-truth/1``).

Everything here is derived from the :class:`~otseam.lab.model.Plant` value that
the fabric built and the scenario played, never from the capture. The schema
is documented field by field in ``docs/lab.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from otseam.lab.model import Flow, Host, Operation, Plant

__all__ = ["SCHEMA", "conversations", "truth", "write_truth"]

SCHEMA = "otseam-lab-truth/1"

Json = dict[str, Any]


def truth(plant: Plant, capture: Json | None = None) -> Json:
    """The truth document for ``plant``; ``capture`` describes the pcap it produced."""
    convs = conversations(plant)
    return {
        "schema": SCHEMA,
        "plant": plant.name,
        "description": plant.description,
        "capture": capture or {},
        "zones": [_zone(plant, zone.name) for zone in plant.zones],
        "assets": [_asset(host) for host in plant.hosts],
        "conversations": convs,
        "crossings": [
            _crossing(plant, conv) for conv in convs if conv["src_zone"] != conv["dst_zone"]
        ],
        "dual_homed": [_dual(host) for host in plant.hosts if _is_dual_homed(host)],
        "channels": [
            {
                "name": channel.name,
                "kind": channel.kind,
                "endpoints": list(channel.endpoints),
                "transport": channel.transport,
                "port": channel.port,
                "approved": channel.approved,
                "manager": channel.manager,
                "description": channel.description,
            }
            for channel in plant.channels
        ],
        "operations": [
            {
                "src": src,
                "dst": op.dst,
                "protocol": op.protocol,
                "operation": op.operation,
                "detail": op.detail,
            }
            for src, op in _operations(plant)
        ],
        "expected_findings": [
            {"kind": finding.kind, "subject": finding.subject, **finding.detail}
            for finding in plant.findings
        ],
    }


def write_truth(document: Json, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    return path


def conversations(plant: Plant) -> list[Json]:
    """Every distinct conversation a program of the scenario opens, with its zones."""
    seen: dict[tuple[str, str, int, str, str], Json] = {}
    for host, flow in _flows(plant):
        src_ip = flow.src_ip or _source_ip(plant, host, flow.dst_ip)
        key = (src_ip, flow.dst_ip, flow.dst_port, flow.transport, flow.app_protocol)
        if key in seen:
            continue
        src_zone, dst_zone = plant.zone_of_ip(src_ip), plant.zone_of_ip(flow.dst_ip)
        seen[key] = {
            "src": host.name,
            "src_ip": src_ip,
            "src_zone": src_zone.name if src_zone else None,
            "dst": flow.dst,
            "dst_ip": flow.dst_ip,
            "dst_zone": dst_zone.name if dst_zone else None,
            "dst_port": flow.dst_port,
            "transport": flow.transport,
            "app_protocol": flow.app_protocol,
        }
    return list(seen.values())


def _flows(plant: Plant) -> list[tuple[Host, Flow]]:
    pairs: list[tuple[Host, Flow]] = []
    for host in plant.hosts:
        for program in host.daemons:
            pairs.extend((_opener(plant, host, flow), flow) for flow in program.flows)
    for action in plant.actions:
        host = plant.host(action.host)
        pairs.extend((_opener(plant, host, flow), flow) for flow in action.program.flows)
    return pairs


def _opener(plant: Plant, host: Host, flow: Flow) -> Host:
    return plant.host(flow.src) if flow.src else host


def _operations(plant: Plant) -> list[tuple[str, Operation]]:
    ops = [(action.host, op) for action in sorted(plant.actions, key=lambda a: a.at)
           for op in action.program.operations]  # fmt: skip
    return ops


def _source_ip(plant: Plant, host: Host, dst_ip: str) -> str:
    """The address ``host`` sends from: the interface on the destination's subnet, else default."""
    dst_zone = plant.zone_of_ip(dst_ip)
    for nic in host.nics:
        if dst_zone is not None and nic.zone == dst_zone.name:
            return nic.ip
    nic = host.nic_in(host.default_zone) if host.default_zone else host.nics[0]
    return nic.ip


def _zone(plant: Plant, name: str) -> Json:
    zone = plant.zone(name)
    return {
        "name": zone.name,
        "kind": zone.kind,
        "purdue_level": zone.purdue_level,
        "cidrs": list(zone.cidrs),
        "owner": zone.owner,
        "description": zone.description,
    }


def _asset(host: Host) -> Json:
    identity = host.identity
    primary = host.default_zone or host.nics[0].zone
    return {
        "name": host.name,
        "zone": primary,
        "zones": sorted({nic.zone for nic in host.nics}),
        "ips": list(host.ips),
        "macs": [nic.mac for nic in host.nics],
        "interfaces": [{"zone": nic.zone, "ip": nic.ip, "mac": nic.mac} for nic in host.nics],
        "role": host.role,
        "purdue_level": host.purdue_level,
        "vendor": identity.vendor,
        "product": identity.product,
        "model": identity.model,
        "firmware": identity.firmware,
        "serial": identity.serial,
        "hostname": identity.hostname,
        "identity_on_wire": {name: getattr(identity, name) for name in identity.on_wire},
        "protocols": [
            {"name": use.name, "role": use.role, "port": use.port, "transport": use.transport}
            for use in host.protocols
        ],
        "description": host.description,
    }


def _crossing(plant: Plant, conv: Json) -> Json:
    conduit = None
    for candidate in plant.conduits:
        if (candidate.src_zone, candidate.dst_zone) != (conv["src_zone"], conv["dst_zone"]):
            continue
        for _app, transport, port in candidate.services:
            if (transport, port) == (conv["transport"], conv["dst_port"]):
                conduit = candidate.name
    return {
        "src": conv["src"],
        "src_ip": conv["src_ip"],
        "src_zone": conv["src_zone"],
        "dst": conv["dst"],
        "dst_ip": conv["dst_ip"],
        "dst_zone": conv["dst_zone"],
        "dst_port": conv["dst_port"],
        "transport": conv["transport"],
        "app_protocol": conv["app_protocol"],
        "conduit": conduit,
        "allowed": conduit is not None,
    }


def _is_dual_homed(host: Host) -> bool:
    return not host.forwarding and len({nic.zone for nic in host.nics}) > 1


def _dual(host: Host) -> Json:
    return {
        "asset": host.name,
        "zones": sorted({nic.zone for nic in host.nics}),
        "interfaces": [{"zone": nic.zone, "ip": nic.ip, "mac": nic.mac} for nic in host.nics],
        "ip_forwarding": False,
    }
