"""Reading the store for outputs: plain rows (dicts), never re-derived facts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.engine import Connection

from otseam.store.bulk import bulk_rows
from otseam.store.schema import (
    asset_addresses,
    assets,
    bindings,
    captures,
    conversations,
    operations,
    protocol_roles,
)

__all__ = [
    "FlowFilter",
    "asset_rows",
    "capture_rows",
    "flow_rows",
    "operation_rows",
    "spoken_protocols",
    "totals",
]


def asset_rows(
    conn: Connection,
    role: str | None = None,
    address: str | None = None,
    protocol: str | None = None,
) -> list[dict[str, Any]]:
    """Assets with their addresses and protocols, ordered by id."""
    query = select(assets).order_by(assets.c.id)
    if role:
        query = query.where(assets.c.role == role)
    if address:
        query = query.where(
            assets.c.id.in_(
                select(asset_addresses.c.asset_id).where(asset_addresses.c.value == address.lower())
            )
        )
    if protocol:
        a, r = asset_addresses.c, protocol_roles.c
        speakers = select(a.asset_id).join(protocol_roles, r.address == a.value)
        query = query.where(assets.c.id.in_(speakers.where(r.protocol == protocol)))
    rows = [dict(r._mapping) for r in conn.execute(query)]
    addresses: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"ip": [], "mac": []})
    for asset_id, kind, value in conn.execute(
        select(
            asset_addresses.c.asset_id, asset_addresses.c.kind, asset_addresses.c.value
        ).order_by(asset_addresses.c.id)
    ):
        addresses[asset_id][kind].append(value)
    spoken = spoken_protocols(conn)
    for row in rows:
        row["ips"] = addresses[row["id"]]["ip"]
        row["macs"] = addresses[row["id"]]["mac"]
        row["protocols"] = [
            {"name": name, "role": side} for name, side in sorted(spoken.get(row["id"], ()))
        ]
    return rows


def spoken_protocols(conn: Connection) -> dict[int, set[tuple[str, str]]]:
    """Asset id -> the (protocol, server or client) its addresses have
    protocol roles in: the rows of the ``asset_protocols`` view without
    their evidence. Read as two plain scans joined here: SQLite plans the
    view's join and grouping for a whole store of a million protocol roles
    about ten times slower than this."""
    asset_of = dict(bulk_rows(conn, select(asset_addresses.c.value, asset_addresses.c.asset_id)))
    spoken: dict[int, set[tuple[str, str]]] = defaultdict(set)
    r = protocol_roles.c
    pairs: dict[tuple[str, str], tuple[str, str]] = {}  # one tuple per pair, shared
    for address, protocol, role in bulk_rows(conn, select(r.address, r.protocol, r.role)):
        asset_id = asset_of.get(address)
        if asset_id is not None:
            pair = (protocol, role)
            spoken[asset_id].add(pairs.setdefault(pair, pair))
    return spoken


@dataclass(frozen=True, slots=True)
class FlowFilter:
    """Which conversations to list; None means any."""

    address: str | None = None
    port: int | None = None
    transport: str | None = None
    app_protocol: str | None = None
    limit: int | None = None


def flow_rows(conn: Connection, flt: FlowFilter = FlowFilter()) -> list[dict[str, Any]]:
    """Conversations, busiest first."""
    c = conversations.c
    query: Select[Any] = select(conversations).order_by(
        (c.a_to_b_bytes + c.b_to_a_bytes).desc(), c.id
    )
    if flt.address:
        query = query.where(or_(c.a == flt.address, c.b == flt.address))
    if flt.port is not None:
        query = query.where(or_(c.a_port == flt.port, c.b_port == flt.port))
    if flt.transport:
        query = query.where(c.transport == flt.transport)
    if flt.app_protocol:
        query = query.where(c.app_protocol == flt.app_protocol)
    if flt.limit:
        query = query.limit(flt.limit)
    return [dict(r._mapping) for r in conn.execute(query)]


def operation_rows(conn: Connection) -> list[dict[str, Any]]:
    """Operations, most frequent first."""
    query = select(operations).order_by(operations.c.count.desc(), operations.c.id)
    return [dict(r._mapping) for r in conn.execute(query)]


def capture_rows(conn: Connection) -> list[dict[str, Any]]:
    """Captures in ingest order."""
    return [dict(r._mapping) for r in conn.execute(select(captures).order_by(captures.c.id))]


def totals(conn: Connection) -> dict[str, int]:
    """How much the store holds."""

    def count(table: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    return {
        "captures": count(captures),
        "packets": int(
            conn.execute(select(func.coalesce(func.sum(captures.c.packets), 0))).scalar_one()
        ),
        "conversations": count(conversations),
        "hosts": int(conn.execute(select(func.count(func.distinct(bindings.c.ip)))).scalar_one()),
        "assets": count(assets),
        "operations": count(operations),
    }
