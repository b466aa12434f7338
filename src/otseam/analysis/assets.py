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
6. Each asset's role (plc, hmi, historian, ...) and the evidence for it come
   from ``otseam.analysis.roles`` (docs/roles.md).

Asset ids are stable: assets are matched by key on every rebuild. The
rebuild reads only per-address tables (stations, bindings, hosts, protocol
roles, identities, operations) and, of the conversations, only those on a
historian port (one filtered scan), so it stays quick with a million
conversations in the store. The asset protocols (rule 4) are not written:
they are a view over the asset addresses and the protocol roles
(``otseam.store.schema.asset_protocols``), always in step with both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby, islice
from operator import itemgetter
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Connection

from otseam.analysis.roles import classify, load_facts
from otseam.analysis.vendors import mac_vendor
from otseam.store.bulk import bulk_rows, page_cache
from otseam.store.pgcopy import copy_rows
from otseam.store.schema import bindings, hosts, identities, stations

__all__ = ["GATEWAY_MIN_IPS", "rebuild_assets"]

GATEWAY_MIN_IPS: Final = 4
ARP: Final = 2
BATCH: Final = 20_000
FIELDS: Final = ("name", "vendor", "product", "model", "firmware", "serial")


@dataclass(slots=True)
class _Asset:
    key: str
    first_seen: int
    last_seen: int
    macs: list[str] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    is_gateway: bool = False
    carried_ips: int = 0
    role: str = "unknown"
    role_evidence: str = "no evidence yet"
    values: dict[str, tuple[int, str]] | None = None  # most assets have none

    def widen(self, first: int, last: int) -> None:
        self.first_seen = min(self.first_seen, first)
        self.last_seen = max(self.last_seen, last)


def rebuild_assets(conn: Connection, on_step: Callable[[str], None] | None = None) -> int:
    """Recompute the asset tables from the facts; returns the asset count.
    ``on_step`` is told what the rebuild does as each step starts (for a
    progress display: with 125,000 assets each step takes seconds)."""
    with page_cache(conn):
        return _rebuild(conn, on_step or _quiet)


def _quiet(step: str) -> None:
    pass


def _rebuild(conn: Connection, step: Callable[[str], None]) -> int:
    step("grouping addresses into assets")
    found = _from_macs(conn)
    by_ip = {ip: asset for asset in found.values() for ip in asset.ips}
    query = select(hosts.c.ip, hosts.c.first_seen, hosts.c.last_seen)
    for ip, first, last in bulk_rows(conn, query):
        if ip in by_ip:
            by_ip[ip].widen(first, last)
        elif not _is_group_address(ip):
            asset = _Asset(f"ip:{ip}", first, last, ips=[ip])
            found[asset.key] = asset
            by_ip[ip] = asset
    # address -> asset key: the one map the rest reads (keys are shared strings)
    asset_of = {address: a.key for address, a in by_ip.items()}
    del by_ip
    asset_of.update((mac, a.key) for a in found.values() for mac in a.macs)
    _attach_identities(conn, found, asset_of)
    step(f"reading what {len(found):,} assets did")
    gateways = {a.key: a.carried_ips for a in found.values() if a.is_gateway}
    facts = load_facts(conn, asset_of, gateways)
    del asset_of
    step("deciding roles")
    while facts:  # each asset's facts go once its role is decided
        key, asset_facts = facts.popitem()
        verdict = classify(asset_facts)
        found[key].role, found[key].role_evidence = verdict.role, verdict.evidence
    del facts
    step(f"writing {len(found):,} assets")
    ids = _write_assets(conn, found)
    _write_addresses(conn, found, ids)
    return len(found)


def _from_macs(conn: Connection) -> dict[str, _Asset]:
    found: dict[str, _Asset] = {}
    for mac, first, last in bulk_rows(
        conn, select(stations.c.mac, stations.c.first_seen, stations.c.last_seen)
    ):
        if int(mac[:2], 16) & 1:  # group (multicast/broadcast) addresses are no device
            continue
        key = f"mac:{mac}"  # one string for the dict and the asset
        found[key] = _Asset(key, first, last, macs=[mac])
    owner: dict[str, tuple[int, str]] = {}  # ip -> (packets, mac) of the MAC it came from most
    c = bindings.c
    query = select(c.mac, c.ip, c.sources, c.packets).order_by(c.mac, c.ip)
    for mac, rows in groupby(bulk_rows(conn, query), key=itemgetter(0)):
        asset = found.get(f"mac:{mac}")
        if asset is None:
            continue
        sent: dict[str, tuple[int, int]] = {}  # ip -> (sources, packets) over VLANs: one MAC's
        for _mac, ip, sources, packets in rows:
            old_sources, old_packets = sent.get(ip, (0, 0))
            sent[ip] = (old_sources | sources, old_packets + packets)
        if len(sent) > GATEWAY_MIN_IPS:
            asset.is_gateway = True
            asset.carried_ips = len(sent)
            sent = {ip: v for ip, v in sent.items() if v[0] & ARP}
        for ip, (_sources, packets) in sent.items():
            if ip not in owner or owner[ip][0] < packets:  # a tie: the lower MAC keeps it
                owner[ip] = (packets, mac)
    for ip, (_packets, mac) in sorted(owner.items()):
        found[f"mac:{mac}"].ips.append(ip)
    return found


def _is_group_address(ip: str) -> bool:
    if ":" in ip:
        return ip.lower().startswith("ff")
    first = int(ip.split(".", 1)[0])
    return first >= 224 or ip == "0.0.0.0"


def _attach_identities(
    conn: Connection, found: dict[str, _Asset], asset_of: dict[str, str]
) -> None:
    c = identities.c
    query = select(c.address, c.attribute, c.value, c.last_seen).where(c.attribute.in_(FIELDS))
    for address, attribute, value, last in bulk_rows(conn, query):
        key = asset_of.get(address)
        if key is not None:
            asset = found[key]
            if asset.values is None:
                asset.values = {}
            current = asset.values.get(attribute)
            if current is None or current[0] < last:
                asset.values[attribute] = (last, value)


ASSET_COLUMNS: Final = (
    "key", *FIELDS, "role", "role_evidence", "mac_vendor", "is_gateway", "first_seen",
    "last_seen",
)  # fmt: skip


def _write_assets(conn: Connection, found: dict[str, _Asset]) -> dict[str, int]:
    """Update assets by key (ids stay stable), insert new ones, drop the ones
    gone; returns key -> id. New rows only are inserted, so that PostgreSQL
    draws sequence numbers for new assets alone and ids match SQLite's."""
    existing = _keys_to_ids(conn)
    sets = ", ".join(f"{c} = {{param}}" for c in ASSET_COLUMNS[1:])
    _executemany(
        conn,
        f"UPDATE assets SET {sets} WHERE key = {{param}}",
        len(ASSET_COLUMNS),
        ((*_row(a)[1:], a.key) for a in found.values() if a.key in existing),
    )
    _insert(
        conn, "assets", ASSET_COLUMNS, (_row(a) for a in found.values() if a.key not in existing)
    )
    conn.exec_driver_sql("DELETE FROM asset_addresses")
    stale = [(asset_id,) for key, asset_id in existing.items() if key not in found]
    _executemany(conn, "DELETE FROM assets WHERE id = {params}", 1, stale)
    return _keys_to_ids(conn)


def _keys_to_ids(conn: Connection) -> dict[str, int]:
    return {str(key): int(i) for key, i in conn.exec_driver_sql("SELECT key, id FROM assets")}


def _write_addresses(conn: Connection, found: dict[str, _Asset], ids: dict[str, int]) -> None:
    # asset by asset in id order: each row's foreign key and the asset_id
    # index are then read and written in order (in (kind, value) order they
    # were random: 0.5 s more for 125,000 assets). An asset's addresses keep
    # their order: IPs (sorted as they were found), then MACs.
    order = sorted((ids[a.key], a) for a in found.values())
    _insert(
        conn,
        "asset_addresses",
        ("kind", "value", "asset_id"),
        (
            (kind, value, asset_id)
            for asset_id, a in order
            for kind, values in (("ip", a.ips), ("mac", a.macs))
            for value in values
        ),
    )


def _insert(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """New rows: on PostgreSQL through COPY (psycopg's executemany costs
    about 20 microseconds a row in Python), else the driver's executemany."""
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table, columns, rows)
        return
    _executemany(
        conn,
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({{params}})",
        len(columns),
        rows,
    )


def _executemany(conn: Connection, sql: str, width: int, rows: Iterable[Sequence[Any]]) -> None:
    """The driver's executemany over batches of tuples: the fast path for bulk rows."""
    param = "%s" if conn.dialect.name == "postgresql" else "?"
    statement = sql.format(params=", ".join([param] * width), param=param)
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        conn.exec_driver_sql(statement, batch)


def _row(asset: _Asset) -> tuple[Any, ...]:
    known = asset.values or {}
    values = [known[name][1] if name in known else None for name in FIELDS]
    return (
        asset.key,
        *values,
        asset.role,
        asset.role_evidence,
        mac_vendor(asset.macs[0]) if asset.macs else None,
        asset.is_gateway,
        asset.first_seen,
        asset.last_seen,
    )
