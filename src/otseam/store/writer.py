"""Writing one capture's facts into the store, merged with what is there.

Every facts table is written with ``INSERT ... ON CONFLICT DO UPDATE``:
counters add, first seen takes the earlier, last seen the later, flags are
OR-ed. The same upsert adds up a key that comes twice in one capture's
rows (an observation table's blocks and singles may share keys). Rows go
through the driver's ``executemany`` in batches of tuples (on PostgreSQL,
through COPY and one merging statement: ``store.pgcopy``), so a million
conversations cost seconds, not minutes, and memory stays flat.
The caller owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection

from otseam.collector import return_free_memory
from otseam.decode.addresses import address_text, macs_text
from otseam.decode.layout import L2Kind
from otseam.decode.runs import runs
from otseam.model.capture import CaptureFacts
from otseam.protocols.catalog import REGISTRY
from otseam.store.pgcopy import copy_merge
from otseam.store.schema import L2_KINDS, captures

__all__ = ["capture_known", "write_capture"]

BATCH: Final = 20_000
TRANSPORTS: Final = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}


def capture_known(conn: Connection, content_hash: str) -> bool:
    """True if a capture with this content was ingested before."""
    query = select(captures.c.id).where(captures.c.content_hash == content_hash)
    return conn.execute(query).first() is not None


def write_capture(
    conn: Connection, facts: CaptureFacts, on_rows: Callable[[str, int], None] | None = None
) -> int:
    """Record the capture and merge its facts; returns the capture id.
    The facts are used up: each table is emptied once it is stored (the
    conversations, which the caller drops, last). ``on_rows`` is told,
    after each batch, a table's name and how many of its rows are written
    so far (for a progress display)."""
    result = conn.execute(
        captures.insert().values(
            content_hash=facts.content_hash,
            name=facts.name,
            size=facts.size,
            file_format=facts.file_format,
            packets=facts.packets,
            bytes=facts.counters.get("bytes", 0),
            first_seen=facts.first_ns if facts.packets else None,
            last_seen=facts.last_ns if facts.packets else None,
            counters=json.dumps(facts.counters),
            problems=json.dumps([str(p) for p in facts.problems]),
            ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )
    merge = _Merge(conn, on_rows)
    # Tables that need no conversations first, each dropped from ``facts``
    # once stored, so that the conversations' own work (hosts and port
    # roles, the transient peak) does not stack on them.
    merge.counted(
        "operations",
        ("src", "dst", "protocol", "operation", "code", "code_name", "exception"),
        facts.rows("operations"),
    )
    _drop_observations(facts, "operations")
    merge.counted(
        "identities", ("address", "protocol", "attribute", "value"), facts.rows("identities")
    )
    _drop_observations(facts, "identities")
    merge.rows(
        "malformed",
        ("src", "dst", "protocol", "reason", "count", "first_seen", "last_seen", "raw"),
        facts.rows("malformed"),
        keys=4,
        add=(4,),
        low=(5,),
        high=(6,),
        keep=(7,),
    )
    _drop_observations(facts, "malformed")
    merge.rows(
        "bindings",
        ("ip", "mac", "vlan", "packets", "first_seen", "last_seen", "sources"),
        _binding_rows(facts),
        keys=3,
        add=(3,),
        low=(4,),
        high=(5,),
        bits=(6,),
        unique=True,  # the walker's tables: a key once
    )
    facts.bindings = facts.bindings[:0]
    station_cols = (
        "mac",
        "packets",
        "bytes",
        "first_seen",
        "last_seen",
        "vlan",
        *[f"{k}_frames" for k in L2_KINDS],
    )
    merge.rows(
        "stations",
        station_cols,
        _station_rows(facts),
        keys=1,
        add=(1, 2, *range(6, 6 + len(L2_KINDS))),
        low=(3,),
        high=(4,),
        keep=(5,),
        unique=True,
    )
    facts.stations = facts.stations[:0]
    return_free_memory()  # what was dropped lay in small blocks, on the heap
    merge.rows(
        "conversations",
        _conversation_columns(),
        _conversation_rows(facts),
        keys=5,
        add=range(5, 9),
        low=(9,),
        high=(10,),
        first=(11, 14),
        bits=(12, 13),
        keep=(15,),
        unique=True,
    )
    merge.rows(
        "hosts",
        ("ip", "packets_sent", "bytes_sent", "first_seen", "last_seen"),
        _host_rows(facts),
        keys=1,
        add=(1, 2),
        low=(3,),
        high=(4,),
        unique=True,  # one row an endpoint
    )
    merge.rows(
        "protocol_roles",
        ("address", "protocol", "role", "count", "first_seen", "last_seen", "evidence"),
        _role_rows(facts),
        keys=3,
        high=(5, 6),  # "semantics" > "port": the stronger evidence wins
        add=(3,),
        low=(4,),
    )  # the dissectors' roles are dropped once written, inside _role_rows
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


class _Merge:
    """Builds the dialect's upsert statement and feeds it batches of tuples
    (SQLite), or streams them with COPY and merges them in one statement
    (PostgreSQL: ``store.pgcopy``)."""

    def __init__(self, conn: Connection, on_rows: Callable[[str, int], None] | None) -> None:
        self.conn = conn
        self.on_rows = on_rows
        self.postgres = conn.dialect.name == "postgresql"
        self.low = "LEAST" if self.postgres else "min"
        self.high = "GREATEST" if self.postgres else "max"

    def rows(
        self,
        table: str,
        columns: Sequence[str],
        batches: Iterable[list[tuple[Any, ...]]],
        *,
        keys: int,
        add: Iterable[int] = (),
        low: Iterable[int] = (),
        high: Iterable[int] = (),
        bits: Iterable[int] = (),
        first: Iterable[int] = (),
        keep: Iterable[int] = (),
        unique: bool = False,
    ) -> None:
        """Merge ``batches`` of rows of ``columns`` into ``table`` by the
        first ``keys`` columns, each other column by its rule; ``unique``:
        no key comes twice in these rows (a walker table's)."""
        sets, aggregates = [], {}
        for i in add:
            sets.append(f"{columns[i]} = {table}.{columns[i]} + excluded.{columns[i]}")
            aggregates[i] = f"sum({columns[i]})::bigint"
        for i in low:
            sets.append(f"{columns[i]} = {self.low}({table}.{columns[i]}, excluded.{columns[i]})")
            aggregates[i] = f"min({columns[i]})"
        for i in high:
            sets.append(f"{columns[i]} = {self.high}({table}.{columns[i]}, excluded.{columns[i]})")
            aggregates[i] = f"max({columns[i]})"
        for i in bits:
            sets.append(f"{columns[i]} = {table}.{columns[i]} | excluded.{columns[i]}")
            aggregates[i] = f"bit_or({columns[i]})"
        for i in first:
            sets.append(f"{columns[i]} = COALESCE({table}.{columns[i]}, excluded.{columns[i]})")
            aggregates[i] = (
                f"(array_agg({columns[i]} ORDER BY seq) FILTER (WHERE {columns[i]} IS NOT NULL))[1]"
            )
        for i in keep:  # the first stored value stays
            aggregates[i] = f"(array_agg({columns[i]} ORDER BY seq))[1]"
        done = 0

        def stored(rows: int) -> None:
            nonlocal done
            done += rows
            if self.on_rows is not None:
                self.on_rows(table, done)

        if self.postgres:
            in_order = [aggregates[i] for i in range(keys, len(columns))]  # every column has a rule
            added = None if unique else in_order
            copy_merge(self.conn, table, columns, keys, added, sets, batches, stored)
            return
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT ({', '.join(columns[:keys])}) DO UPDATE SET {', '.join(sets)}"
        )
        for batch in batches:
            if batch:
                self.conn.exec_driver_sql(sql, batch)
                stored(len(batch))

    def counted(
        self, table: str, key_columns: Sequence[str], batches: Iterable[list[tuple[Any, ...]]]
    ) -> None:
        """A table of counted observations: a key seen again (in another
        capture, or twice in this one) adds its count and widens its times."""
        n = len(key_columns)
        self.rows(
            table,
            (*key_columns, "count", "first_seen", "last_seen"),
            batches,
            keys=n,
            add=(n,),
            low=(n + 1,),
            high=(n + 2,),
        )


def _in_batches(
    rows: np.ndarray, columns: Callable[[np.ndarray], list[list[Any]]]
) -> Iterator[list[tuple[Any, ...]]]:
    """Tuples for the store, ``BATCH`` of ``rows`` at a time (an array of
    rows, or of their indexes): ``columns`` gives the columns of one batch as
    lists. A million rows never exist as Python objects at once."""
    for start in range(0, len(rows), BATCH):
        yield list(zip(*columns(rows[start : start + BATCH]), strict=True))


def _drop_observations(facts: CaptureFacts, table: str) -> None:
    facts.blocks[table] = []
    facts.singles[table] = {}


def _conversation_columns() -> tuple[str, ...]:
    return (
        "transport",
        "a",
        "a_port",
        "b",
        "b_port",
        "a_to_b_packets",
        "b_to_a_packets",
        "a_to_b_bytes",
        "b_to_a_bytes",
        "first_seen",
        "last_seen",
        "initiator",
        "a_tcp_flags",
        "b_tcp_flags",
        "app_protocol",
        "vlan",
    )


@cache
def _service_ports() -> tuple[np.ndarray, np.ndarray]:
    """Ports on which a side is taken to serve: registered ones and < 1024.
    Built once: it is asked for every batch of conversations."""
    tcp = np.zeros(65536, dtype=bool)
    udp = np.zeros(65536, dtype=bool)
    for spec in REGISTRY.specs:
        tcp[list(spec.tcp_ports)] = True
        udp[list(spec.udp_ports)] = True
    tcp[:1024] = True
    udp[:1024] = True
    return tcp, udp


def _initiator_codes(conv: np.ndarray) -> np.ndarray:
    """1 if side a initiated, 2 if side b did, 0 unknown: the bare-SYN sender,
    else the side not on a service port."""
    tcp, udp = _service_ports()
    proto = conv["proto"]
    # 8-bit and boolean columns throughout: a million conversations at once
    a_service = np.where(proto == 6, tcp[conv["port_a"]], (proto == 17) & udp[conv["port_a"]])
    b_service = np.where(proto == 6, tcp[conv["port_b"]], (proto == 17) & udp[conv["port_b"]])
    one, two, zero = np.uint8(1), np.uint8(2), np.uint8(0)
    fallback = np.where(b_service & ~a_service, one, np.where(a_service & ~b_service, two, zero))
    syn = conv["syn_side"]
    return np.where(syn > 0, syn, fallback)


def _conversation_rows(facts: CaptureFacts) -> Iterator[list[tuple[Any, ...]]]:
    """In the order of the unique index (``_index_order``)."""
    conv = facts.conversations
    order = _index_order(conv)
    # every address and name made once; rows take the shared strings by index
    a_ids, b_ids, names = facts.endpoints()
    transports = np.array([TRANSPORTS.get(p, f"ip-{p}") for p in range(256)], dtype=object)
    apps = np.array([facts.app_names.get(a) for a in range(256)], dtype=object)
    initiators = np.array([None, "a", "b"], dtype=object)

    def columns(rows: np.ndarray) -> list[list[Any]]:
        part = conv[rows]
        return [
            transports[part["proto"]].tolist(),
            names[a_ids[rows]].tolist(),
            part["port_a"].tolist(),
            names[b_ids[rows]].tolist(),
            part["port_b"].tolist(),
            *(part[c].tolist() for c in ("pkts_ab", "pkts_ba", "bytes_ab", "bytes_ba")),
            part["first_ns"].tolist(),
            part["last_ns"].tolist(),
            initiators[_initiator_codes(part)].tolist(),
            part["flags_ab"].tolist(),
            part["flags_ba"].tolist(),
            apps[part["app"]].tolist(),
            part["vlan"].tolist(),
        ]

    return _in_batches(order, columns)


def _index_order(conv: np.ndarray) -> np.ndarray:
    """Rows in the order of the conversations' unique index: a B-tree takes
    sorted inserts several times faster than random ones."""
    if not len(conv):
        return np.arange(0)
    if bool((conv["family"] == 4).all()):
        a = conv["a"][:, :4].copy().view(">u4").ravel()
        b = conv["b"][:, :4].copy().view(">u4").ravel()
        return np.lexsort((conv["port_b"], b, conv["port_a"], a, conv["proto"]))
    return np.argsort(
        np.ascontiguousarray(conv[["proto", "a", "port_a", "b", "port_b"]]), kind="stable"
    )


def _binding_rows(facts: CaptureFacts) -> Iterator[list[tuple[Any, ...]]]:
    """In the order of the unique index (IP text, MAC, VLAN): the walker's
    order is random, and a B-tree takes random inserts several times slower."""
    b = facts.bindings
    ips = address_text(b["family"], b["addr"])
    order = np.lexsort((b["vlan"], b["mac"], ips))  # MAC text sorts as its integer

    def columns(rows: np.ndarray) -> list[list[Any]]:
        part = b[rows]
        return [
            ips[rows].tolist(),
            macs_text(part["mac"]).tolist(),
            *(part[c].tolist() for c in ("vlan", "pkts", "first_ns", "last_ns", "sources")),
        ]

    return _in_batches(order, columns)


def _station_rows(facts: CaptureFacts) -> Iterator[list[tuple[Any, ...]]]:
    def columns(s: np.ndarray) -> list[list[Any]]:
        return [
            macs_text(s["mac"]).tolist(),
            *(s[c].tolist() for c in ("pkts", "bytes", "first_ns", "last_ns", "vlan")),
            *(s["l2"][:, kind.value].tolist() for kind in L2Kind),
        ]

    return _in_batches(facts.stations, columns)


def _address_ids(facts: CaptureFacts, rows: np.ndarray, on_b: np.ndarray) -> np.ndarray:
    """The endpoint id of side b (where ``on_b``) or side a of conversation
    ``rows``: an index into the endpoint texts (each address's text made once)."""
    a_ids, b_ids, _ = facts.endpoints()
    return np.where(on_b, b_ids[rows], a_ids[rows])  # type: ignore[no-any-return]


def _host_rows(facts: CaptureFacts) -> Iterator[list[tuple[Any, ...]]]:
    """Every IP address that sent a packet, with what it sent: added up
    straight into arrays indexed by endpoint id (ids are dense), a side at
    a time, with no sort and no copy of a million keys."""
    conv = facts.conversations
    a_ids, b_ids, texts = facts.endpoints()
    n = len(texts)
    packets = np.zeros(n, dtype=np.uint64)
    size = np.zeros(n, dtype=np.uint64)
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    for ids, sent_packets, sent_bytes in (
        (a_ids, "pkts_ab", "bytes_ab"),
        (b_ids, "pkts_ba", "bytes_ba"),
    ):
        sent = np.flatnonzero(conv[sent_packets] > 0)  # the (conversation, side) pairs that sent
        at = ids[sent]
        np.add.at(packets, at, conv[sent_packets][sent])
        np.add.at(size, at, conv[sent_bytes][sent])
        np.minimum.at(first, at, conv["first_ns"][sent])
        np.maximum.at(last, at, conv["last_ns"][sent])
        del sent, at
    senders = np.flatnonzero(packets > 0)  # in endpoint-id order: the order of addresses
    return _in_batches(
        senders,
        lambda part: [column[part].tolist() for column in (texts, packets, size, first, last)],
    )


def _answered(conv: np.ndarray, initiator: np.ndarray) -> np.ndarray:
    """Whether the side that did not initiate served: over TCP it accepted
    the connection (sent SYN and ACK; a scanned closed port answers RST and
    serves nothing), over anything else it sent a packet back."""
    from_b = initiator == 1  # a initiated, b answers
    flags = np.where(from_b, conv["flags_ba"], conv["flags_ab"])
    replied = np.where(from_b, conv["pkts_ba"] > 0, conv["pkts_ab"] > 0)
    accepted = (flags & 0x12) == 0x12
    return np.where(conv["proto"] == 6, accepted, replied)


def _role_rows(facts: CaptureFacts) -> Iterator[list[tuple[Any, ...]]]:
    """Protocol roles: what dissectors said, and, for conversations they did
    not cover, server and client by the conversation's service port."""
    _, _, texts = facts.endpoints()
    endpoint_id = {text: i for i, text in enumerate(texts.tolist())}
    # (protocol, role) -> which endpoint addresses a dissector gave it: a
    # mask over endpoint ids (a million addresses in sets would be 37 MiB)
    said: dict[tuple[str, str], np.ndarray] = {}
    for batch in facts.rows("roles", tail=("semantics",)):
        for address, protocol, role, *_ in batch:
            at = endpoint_id.get(address)  # MACs and other addresses: no port role
            if at is not None:
                mask = said.get((protocol, role))
                if mask is None:
                    mask = said[(protocol, role)] = np.zeros(len(texts), dtype=bool)
                mask[at] = True
        yield batch
    del endpoint_id
    _drop_observations(facts, "roles")  # written; what the ports add needs only ``said``
    return_free_memory()
    conv = facts.conversations
    initiator = _initiator_codes(conv)
    rows = np.flatnonzero((conv["app"] > 0) & (initiator > 0) & _answered(conv, initiator))
    if not len(rows):
        return
    server_on_b = initiator[rows] == 1  # the side that did not initiate serves
    del initiator
    apps = conv["app"][rows]
    for role, on_b in (("server", server_on_b), ("client", ~server_on_b)):
        ids = _address_ids(facts, rows, on_b)  # the address on the side with the role
        del on_b
        yield from _port_roles(facts, rows, apps, ids, role, said)
        del ids


def _port_roles(
    facts: CaptureFacts,
    rows: np.ndarray,
    apps: np.ndarray,
    ids: np.ndarray,
    role: str,
    said: dict[tuple[str, str], np.ndarray],
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of ``role`` by port: conversation ``rows`` (of app ``apps``, the
    address with the role ``ids``) added up per (address, app), one app at
    a time (what is sorted at once is one protocol's conversations, not a
    million); an address the protocol's own semantics gave the role
    (``said``, masks over endpoint ids) is not counted again."""
    conv = facts.conversations
    app_ids = {name: app for app, name in facts.app_names.items()}
    said_of = {
        app_ids[protocol]: said_by
        for (protocol, said_role), said_by in said.items()
        if protocol in app_ids and (said_role == "server") == (role == "server")
    }
    parts: list[tuple[np.ndarray, ...]] = []
    for app in np.unique(apps).tolist():
        of_app = np.flatnonzero(apps == app)
        order, starts = runs(ids[of_app])
        ordered = rows[of_app[order]]
        first = of_app[order[starts]]  # one conversation of each address
        del of_app, order
        total = np.diff(np.r_[starts, len(ordered)])  # a conversation counts once
        low = np.minimum.reduceat(conv["first_ns"][ordered], starts)
        high = np.maximum.reduceat(conv["last_ns"][ordered], starts)
        del ordered, starts
        held = ids[first]
        if app in said_of:
            keep = ~said_of[app][held]
            held, total, low, high = held[keep], total[keep], low[keep], high[keep]
        parts.append((held, np.full(len(held), app, np.uint8), total, low, high))
    held, app_of, total, low, high = (np.concatenate(column) for column in zip(*parts, strict=True))
    del parts
    order = np.lexsort((app_of, held))  # by address, then app: near the unique index's order
    addresses, apps = facts.endpoints()[2][held[order]], app_of[order]
    total, low, high = total[order], low[order], high[order]
    del held, app_of, order
    names = np.array([facts.app_names.get(a, f"unknown-{a}") for a in range(256)], dtype=object)

    def columns(part: np.ndarray) -> list[list[Any]]:
        return [
            addresses[part].tolist(),
            names[apps[part]].tolist(),
            [role] * len(part),
            total[part].tolist(),
            low[part].tolist(),
            high[part].tolist(),
            ["port"] * len(part),
        ]

    yield from _in_batches(np.arange(len(addresses)), columns)
