"""Assets from the stored facts: which addresses are one device.

Rules, in order:

1. Every unicast MAC that sent a frame is an asset (``mac:<mac>``), with the
   IP addresses it sent from.
2. A MAC that sends from more than ``GATEWAY_MIN_IPS`` IP addresses is a
   router or gateway: it forwards other hosts' traffic. It stays one asset
   with only the IPs it answered ARP for; the others are not merged into it.
3. An IP address that sent packets but belongs to no asset of rule 1 (a host
   behind a router, a raw-IP capture) is an asset of its own (``ip:<ip>``).
4. An asset speaks a protocol as server or client: from the protocol's own
   semantics where a dissector said so (who answered, who sent identity),
   else from the conversation's service port (the side not initiating).
5. Identity observations (vendor, product, firmware, serial, ...) attach to
   the asset holding their address; the latest seen value wins, and all
   values stay in the identities table.

Asset ids are stable: assets are matched by key on every rebuild.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection

from otseam.analysis.vendors import mac_vendor
from otseam.store.schema import (
    asset_addresses,
    asset_protocols,
    assets,
    bindings,
    identities,
    protocol_roles,
    stations,
)

__all__ = ["GATEWAY_MIN_IPS", "rebuild_assets"]

GATEWAY_MIN_IPS: Final = 4
ARP: Final = 2
FIELDS: Final = ("name", "vendor", "product", "model", "firmware", "serial")
ROLE_BY_DEVICE_TYPE: Final = {
    "Programmable Logic Controller": "plc",
    "Human-Machine Interface": "hmi",
    "Managed Ethernet Switch": "network_device",
}


@dataclass
class _Asset:
    key: str
    first_seen: int
    last_seen: int
    macs: list[str] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    is_gateway: bool = False
    role: str = "unknown"
    role_evidence: str = "no evidence yet"
    values: dict[str, tuple[int, str]] = field(default_factory=dict)

    def widen(self, first: int, last: int) -> None:
        self.first_seen = min(self.first_seen, first)
        self.last_seen = max(self.last_seen, last)


def rebuild_assets(conn: Connection) -> int:
    """Recompute the asset tables from the facts; returns the asset count."""
    found = _from_macs(conn)
    by_ip = {ip: asset for asset in found.values() for ip in asset.ips}
    for ip, first, last in _ip_senders(conn):
        if ip in by_ip:
            by_ip[ip].widen(first, last)
        elif not _is_group_address(ip):
            asset = _Asset(f"ip:{ip}", first, last, ips=[ip])
            found[asset.key] = asset
            by_ip[ip] = asset
    _attach_identities(conn, found, by_ip)
    ids = _write(conn, found)
    _write_protocols(conn, found, by_ip, ids)
    return len(found)


def _from_macs(conn: Connection) -> dict[str, _Asset]:
    found: dict[str, _Asset] = {}
    for mac, first, last in conn.execute(
        select(stations.c.mac, stations.c.first_seen, stations.c.last_seen)
    ):
        if int(mac[:2], 16) & 1:  # group (multicast/broadcast) addresses are no device
            continue
        found[f"mac:{mac}"] = _Asset(f"mac:{mac}", first, last, macs=[mac])
    sent: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for ip, mac, sources, packets in conn.execute(
        select(bindings.c.ip, bindings.c.mac, bindings.c.sources, bindings.c.packets)
    ):
        old_sources, old_packets = sent[mac].get(ip, (0, 0))
        sent[mac][ip] = (old_sources | sources, old_packets + packets)
    owner: dict[str, tuple[int, str]] = {}
    for mac, ips in sent.items():
        asset = found.get(f"mac:{mac}")
        if asset is None:
            continue
        if len(ips) > GATEWAY_MIN_IPS:
            asset.is_gateway = True
            asset.role = "network_device"
            asset.role_evidence = f"router or gateway: its MAC carries {len(ips)} IP addresses"
            ips = {ip: v for ip, v in ips.items() if v[0] & ARP}
        for ip, (_sources, packets) in ips.items():
            if ip not in owner or owner[ip][0] < packets:
                owner[ip] = (packets, mac)
    for ip, (_packets, mac) in sorted(owner.items()):
        found[f"mac:{mac}"].ips.append(ip)
    return found


def _ip_senders(conn: Connection) -> list[tuple[str, int, int]]:
    rows = conn.execute(
        text(
            "SELECT addr, min(first_seen), max(last_seen) FROM ("
            " SELECT a AS addr, first_seen, last_seen FROM conversations WHERE a_to_b_packets > 0"
            " UNION ALL"
            " SELECT b AS addr, first_seen, last_seen FROM conversations WHERE b_to_a_packets > 0"
            ") AS senders GROUP BY addr"
        )
    )
    return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]


def _is_group_address(ip: str) -> bool:
    if ":" in ip:
        return ip.lower().startswith("ff")
    first = int(ip.split(".", 1)[0])
    return first >= 224 or ip == "0.0.0.0"


def _attach_identities(
    conn: Connection, found: dict[str, _Asset], by_ip: dict[str, _Asset]
) -> None:
    by_mac = {mac: asset for asset in found.values() for mac in asset.macs}
    query = select(
        identities.c.address, identities.c.attribute, identities.c.value, identities.c.last_seen
    )
    for address, attribute, value, last in conn.execute(query):
        asset = by_ip.get(address) or by_mac.get(address)
        if asset is None:
            continue
        if attribute == "device_type" and value in ROLE_BY_DEVICE_TYPE and not asset.is_gateway:
            asset.role = ROLE_BY_DEVICE_TYPE[value]
            asset.role_evidence = f"its identity says device type {value!r}"
        if attribute in FIELDS:
            current = asset.values.get(attribute)
            if current is None or current[0] < last:
                asset.values[attribute] = (last, value)


def _write(conn: Connection, found: dict[str, _Asset]) -> dict[str, int]:
    existing = {key: id_ for key, id_ in conn.execute(select(assets.c.key, assets.c.id))}
    stale = [asset_id for key, asset_id in existing.items() if key not in found]
    conn.execute(delete(asset_addresses))
    conn.execute(delete(asset_protocols))
    if stale:
        conn.execute(delete(assets).where(assets.c.id.in_(stale)))
    rows = [_row(asset) for asset in found.values()]
    updates = [{"_id": existing[r["key"]], **r} for r in rows if r["key"] in existing]
    inserts = [r for r in rows if r["key"] not in existing]
    if inserts:
        conn.execute(assets.insert(), inserts)
    if updates:
        from sqlalchemy import bindparam

        stmt = assets.update().where(assets.c.id == bindparam("_id"))
        conn.execute(stmt, updates)
    ids = {key: id_ for key, id_ in conn.execute(select(assets.c.key, assets.c.id))}
    addresses = [
        {"asset_id": ids[a.key], "kind": kind, "value": value}
        for a in found.values()
        for kind, values in (("mac", a.macs), ("ip", a.ips))
        for value in values
    ]
    if addresses:
        conn.execute(asset_addresses.insert(), addresses)
    return ids


def _write_protocols(
    conn: Connection, found: dict[str, _Asset], by_ip: dict[str, _Asset], ids: dict[str, int]
) -> None:
    by_mac = {mac: asset for asset in found.values() for mac in asset.macs}
    roles: dict[tuple[int, str, str], str] = {}
    for address, protocol, role in conn.execute(
        select(protocol_roles.c.address, protocol_roles.c.protocol, protocol_roles.c.role)
    ):
        asset = by_ip.get(address) or by_mac.get(address)
        if asset is not None:
            roles[(ids[asset.key], protocol, role)] = "semantics"
    by_port = conn.execute(
        text(
            "SELECT DISTINCT a, b, initiator, app_protocol FROM conversations"
            " WHERE app_protocol IS NOT NULL AND initiator IS NOT NULL"
        )
    )
    for a, b, initiator, protocol in by_port:
        client, server = (a, b) if initiator == "a" else (b, a)
        for address, role in ((server, "server"), (client, "client")):
            asset = by_ip.get(address)
            if asset is not None:
                roles.setdefault((ids[asset.key], protocol, role), "port")
    conn.execute(delete(asset_protocols))
    if roles:
        conn.execute(
            asset_protocols.insert(),
            [
                {"asset_id": i, "protocol": p, "role": r, "evidence": e}
                for (i, p, r), e in roles.items()
            ],
        )


def _row(asset: _Asset) -> dict[str, object]:
    values = {name: asset.values[name][1] if name in asset.values else None for name in FIELDS}
    return {
        "key": asset.key,
        **values,
        "role": asset.role,
        "role_evidence": asset.role_evidence,
        "mac_vendor": mac_vendor(asset.macs[0]) if asset.macs else None,
        "is_gateway": asset.is_gateway,
        "first_seen": asset.first_seen,
        "last_seen": asset.last_seen,
    }
