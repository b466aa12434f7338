"""The stored facts the convergence analysis reads, loaded once.

Conversations are oriented client -> server here (the initiator opens; the
store's ``initiator`` column says which side that was), so every later step
can ask "who opened what, to which service".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import ip_address
from typing import Final

from sqlalchemy import select
from sqlalchemy.engine import Connection

from otseam.store.bulk import bulk_rows
from otseam.store.queries import spoken_protocols
from otseam.store.schema import (
    asset_addresses,
    assets,
    bindings,
    conversations,
    identities,
    operations,
)

__all__ = [
    "NAME_PROTOCOLS",
    "AssetRecord",
    "Facts",
    "Flow",
    "OperationRecord",
    "Sighting",
    "is_group",
    "is_public",
    "load_facts",
]

# Protocols whose "name" identity is a host name a person gave the machine.
NAME_PROTOCOLS: Final = frozenset({"dhcp", "nbns", "mdns", "llmnr", "smb", "snmp", "lldp", "cdp"})
SYN: Final = 0x02
RST: Final = 0x04


@dataclass(frozen=True, slots=True)
class Flow:
    """One conversation, from the side that opened it to the side that served."""

    id: int
    transport: str
    client: str
    server: str
    port: int  # the server's port
    app: str | None
    packets: int
    bytes: int
    first_seen: int
    last_seen: int
    answered: bool  # the server accepted (TCP SYN) or sent anything back (UDP)

    @property
    def service(self) -> str:
        base = f"{self.transport}/{self.port}" if self.port else self.transport
        return f"{self.app}/{base}" if self.app else base


@dataclass(slots=True)
class AssetRecord:
    id: int
    key: str
    name: str | None
    role: str
    ips: tuple[str, ...]
    macs: tuple[str, ...]
    vendor: str | None
    serial: str | None
    is_gateway: bool
    hostnames: set[str] = field(default_factory=set)
    protocols: set[str] = field(default_factory=set)  # spoken as client or server


@dataclass(frozen=True, slots=True)
class Sighting:
    """One identity value of an address, as a dissector saw it."""

    value: str
    protocol: str
    first_seen: int
    last_seen: int


@dataclass(frozen=True, slots=True)
class OperationRecord:
    src: str
    dst: str
    protocol: str
    operation: str
    code: int
    code_name: str
    count: int
    first_seen: int
    last_seen: int


@dataclass
class Facts:
    assets: list[AssetRecord]
    flows: list[Flow]
    operations: list[OperationRecord]
    identity: dict[str, dict[str, set[str]]]  # address -> attribute -> values
    asset_of: dict[str, AssetRecord]  # IP or MAC -> asset
    vlan_of: dict[str, int] = field(default_factory=dict)  # IP -> its busiest VLAN tag
    firmware: dict[str, list[Sighting]] = field(default_factory=dict)  # address -> versions


def load_facts(conn: Connection) -> Facts:
    identity, firmware = _identities(conn)
    records = _assets(conn, identity)
    asset_of = {addr: a for a in records for addr in (*a.ips, *a.macs)}
    vlans = _vlans(conn)
    flows = _flows(conn, vlans)
    return Facts(records, flows, _operations(conn), identity, asset_of, vlans, firmware)


def _vlans(conn: Connection) -> dict[str, int]:
    """The VLAN each IP address was seen on most (untagged addresses left out)."""
    best: dict[str, tuple[int, int]] = {}
    b = bindings.c
    for ip, vlan, packets in conn.execute(select(b.ip, b.vlan, b.packets).where(b.vlan != 0)):
        if ip not in best or packets > best[ip][1]:
            best[ip] = (vlan, packets)
    return {ip: vlan for ip, (vlan, _) in best.items()}


def _identities(
    conn: Connection,
) -> tuple[dict[str, dict[str, set[str]]], dict[str, list[Sighting]]]:
    """Identity values by address, and every firmware value with its sightings."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    firmware: dict[str, list[Sighting]] = defaultdict(list)
    t = identities.c
    query = select(t.address, t.protocol, t.attribute, t.value, t.first_seen, t.last_seen)
    for address, protocol, attribute, value, first, last in bulk_rows(conn, query):
        found[address][attribute].add(value)
        if attribute == "name" and protocol in NAME_PROTOCOLS:
            found[address]["hostname"].add(value)
        elif attribute == "firmware":
            firmware[address].append(Sighting(value, protocol, first, last))
    return found, firmware


def _assets(conn: Connection, identity: dict[str, dict[str, set[str]]]) -> list[AssetRecord]:
    addresses: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"ip": [], "mac": []})
    a = asset_addresses.c
    for asset_id, kind, value in bulk_rows(
        conn, select(a.asset_id, a.kind, a.value).order_by(a.id)
    ):
        addresses[asset_id][kind].append(value)
    spoken: dict[int, set[str]] = defaultdict(set)
    for asset_id, pairs in spoken_protocols(conn).items():
        spoken[asset_id] = {protocol for protocol, _side in pairs}
    records = []
    c = assets.c
    query = select(c.id, c.key, c.name, c.role, c.vendor, c.serial, c.is_gateway).order_by(c.id)
    for asset_id, key, name, role, vendor, serial, gateway in conn.execute(query):
        ips, macs = addresses[asset_id]["ip"], addresses[asset_id]["mac"]
        names = {
            n.lower() for addr in (*ips, *macs) for n in identity.get(addr, {}).get("hostname", ())
        }
        records.append(
            AssetRecord(
                asset_id,
                key,
                name,
                role,
                tuple(ips),
                tuple(macs),
                vendor,
                serial,
                bool(gateway),
                names,
                spoken[asset_id],
            )
        )
    return records


def _flows(conn: Connection, vlans: dict[str, int]) -> list[Flow]:
    """Conversations; an address not tagged in the bindings takes its conversations' VLAN."""
    c = conversations.c
    query = select(
        c.id,
        c.transport,
        c.a,
        c.a_port,
        c.b,
        c.b_port,
        c.a_to_b_packets,
        c.b_to_a_packets,
        c.a_to_b_bytes,
        c.b_to_a_bytes,
        c.first_seen,
        c.last_seen,
        c.initiator,
        c.a_tcp_flags,
        c.b_tcp_flags,
        c.app_protocol,
        c.vlan,
    ).order_by(c.id)
    flows = []
    for row in bulk_rows(conn, query):  # the driver's tuples
        (
            cid,
            transport,
            a,
            a_port,
            b,
            b_port,
            ab_p,
            ba_p,
            ab_b,
            ba_b,
            first,
            last,
            initiator,
            a_flags,
            b_flags,
            app,
            vlan,
        ) = row
        packets, size = ab_p + ba_p, ab_b + ba_b
        if vlan:
            vlans.setdefault(a, vlan)
            vlans.setdefault(b, vlan)
        if initiator == "b":  # b opened: make it the client
            a, b, b_port, ba_p, b_flags = b, a, a_port, ab_p, a_flags
        if transport == "tcp":
            answered = bool(b_flags & SYN) or (ba_p > 0 and not b_flags & RST)
        else:
            answered = ba_p > 0
        flows.append(Flow(cid, transport, a, b, b_port, app, packets, size, first, last, answered))
    return flows


def _operations(conn: Connection) -> list[OperationRecord]:
    o = operations.c
    query = (
        select(
            o.src,
            o.dst,
            o.protocol,
            o.operation,
            o.code,
            o.code_name,
            o.count,
            o.first_seen,
            o.last_seen,
        )
        .where(o.exception.is_(False))
        .order_by(o.id)
    )
    return [OperationRecord(*row) for row in bulk_rows(conn, query)]


@lru_cache(maxsize=1 << 20)
def is_public(address: str) -> bool:
    """A global unicast address: outside every private, local and documentation range
    except the documentation ranges the lab uses as "the internet"."""
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local:
        return False
    return ip.is_global or _documentation(address)


@lru_cache(maxsize=1 << 20)
def is_group(address: str) -> bool:
    """Multicast or broadcast: a destination that is nobody in particular."""
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return ip.is_multicast or address == "255.255.255.255"


def _documentation(address: str) -> bool:
    return address.startswith(
        ("192.0.2.", "198.51.100.", "203.0.113.")
    ) or address.lower().startswith("2001:db8:")
