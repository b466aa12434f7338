"""Writing one capture's facts into the store, merged with what is there.

Every facts table is written with ``INSERT ... ON CONFLICT DO UPDATE``:
counters add, first seen takes the earlier, last seen the later, flags are
OR-ed. Rows go through the driver's ``executemany`` in batches of tuples, so
a million conversations cost seconds, not minutes, and memory stays flat.
The caller owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection

from otseam.decode.addresses import address_text, macs_text
from otseam.decode.layout import L2Kind
from otseam.model.capture import CaptureFacts, Counted
from otseam.protocols.catalog import REGISTRY
from otseam.store.schema import L2_KINDS, captures

__all__ = ["capture_known", "write_capture"]

BATCH: Final = 20_000
TRANSPORTS: Final = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}


def capture_known(conn: Connection, content_hash: str) -> bool:
    """True if a capture with this content was ingested before."""
    query = select(captures.c.id).where(captures.c.content_hash == content_hash)
    return conn.execute(query).first() is not None


def write_capture(conn: Connection, facts: CaptureFacts) -> int:
    """Record the capture and merge its facts; returns the capture id."""
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
    merge = _Merge(conn)
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
    )
    merge.rows(
        "bindings",
        ("ip", "mac", "vlan", "packets", "first_seen", "last_seen", "sources"),
        _binding_rows(facts),
        keys=3,
        add=(3,),
        low=(4,),
        high=(5,),
        bits=(6,),
    )
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
    )
    merge.counted(
        "operations",
        ("src", "dst", "protocol", "operation", "code", "code_name", "exception"),
        facts.operations,
    )
    merge.counted("identities", ("address", "protocol", "attribute", "value"), facts.identities)
    merge.counted("protocol_roles", ("address", "protocol", "role"), facts.roles)
    merge.rows(
        "malformed",
        ("src", "dst", "protocol", "reason", "raw", "count", "first_seen", "last_seen"),
        ((*k, v.raw.hex(), v.count, v.first_ns, v.last_ns) for k, v in facts.malformed.items()),
        keys=4,
        add=(5,),
        low=(6,),
        high=(7,),
        keep=(4,),
    )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


class _Merge:
    """Builds the dialect's upsert statement and feeds it batches of tuples."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.param = "%s" if self.postgres else "?"
        self.low = "LEAST" if self.postgres else "min"
        self.high = "GREATEST" if self.postgres else "max"

    def rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[tuple[Any, ...]],
        *,
        keys: int,
        add: Iterable[int] = (),
        low: Iterable[int] = (),
        high: Iterable[int] = (),
        bits: Iterable[int] = (),
        first: Iterable[int] = (),
        keep: Iterable[int] = (),
    ) -> None:
        sets = []
        for i in add:
            sets.append(f"{columns[i]} = {table}.{columns[i]} + excluded.{columns[i]}")
        for i in low:
            sets.append(f"{columns[i]} = {self.low}({table}.{columns[i]}, excluded.{columns[i]})")
        for i in high:
            sets.append(f"{columns[i]} = {self.high}({table}.{columns[i]}, excluded.{columns[i]})")
        for i in bits:
            sets.append(f"{columns[i]} = {table}.{columns[i]} | excluded.{columns[i]}")
        for i in first:
            sets.append(f"{columns[i]} = COALESCE({table}.{columns[i]}, excluded.{columns[i]})")
        del keep  # columns whose first stored value stays
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join([self.param] * len(columns))}) "
            f"ON CONFLICT ({', '.join(columns[:keys])}) DO UPDATE SET {', '.join(sets)}"
        )
        for batch in _batches(rows):
            self.conn.exec_driver_sql(sql, batch)

    def counted(
        self, table: str, key_columns: Sequence[str], table_rows: dict[Any, Counted]
    ) -> None:
        columns = (*key_columns, "count", "first_seen", "last_seen")
        n = len(key_columns)
        self.rows(
            table,
            columns,
            ((*k, v.count, v.first_ns, v.last_ns) for k, v in table_rows.items()),
            keys=n,
            add=(n,),
            low=(n + 1,),
            high=(n + 2,),
        )


def _batches(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch


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


def _service_ports() -> tuple[np.ndarray, np.ndarray]:
    tcp = np.zeros(65536, dtype=bool)
    udp = np.zeros(65536, dtype=bool)
    for spec in REGISTRY.specs:
        tcp[list(spec.tcp_ports)] = True
        udp[list(spec.udp_ports)] = True
    tcp[:1024] = True
    udp[:1024] = True
    return tcp, udp


def _initiators(conv: np.ndarray) -> list[str | None]:
    """'a' or 'b': the bare-SYN sender; else the side not on a service port."""
    tcp, udp = _service_ports()
    proto = conv["proto"]
    pa, pb = conv["port_a"].astype(np.int64), conv["port_b"].astype(np.int64)
    a_service = np.where(proto == 6, tcp[pa], np.where(proto == 17, udp[pa], False))
    b_service = np.where(proto == 6, tcp[pb], np.where(proto == 17, udp[pb], False))
    fallback = np.where(b_service & ~a_service, "a", np.where(a_service & ~b_service, "b", ""))
    syn = conv["syn_side"]
    chosen = np.where(syn == 1, "a", np.where(syn == 2, "b", fallback))
    return [c or None for c in chosen.tolist()]


def _conversation_rows(facts: CaptureFacts) -> Iterator[tuple[Any, ...]]:
    conv = facts.conversations
    for start in range(0, len(conv), BATCH):
        part = conv[start : start + BATCH]
        transports = [TRANSPORTS.get(p, f"ip-{p}") for p in part["proto"].tolist()]
        apps = [facts.app_names.get(a) for a in part["app"].tolist()]
        yield from zip(
            transports,
            address_text(part["family"], part["a"]).tolist(),
            part["port_a"].tolist(),
            address_text(part["family"], part["b"]).tolist(),
            part["port_b"].tolist(),
            part["pkts_ab"].tolist(),
            part["pkts_ba"].tolist(),
            part["bytes_ab"].tolist(),
            part["bytes_ba"].tolist(),
            part["first_ns"].tolist(),
            part["last_ns"].tolist(),
            _initiators(part),
            part["flags_ab"].tolist(),
            part["flags_ba"].tolist(),
            apps,
            part["vlan"].tolist(),
            strict=True,
        )


def _binding_rows(facts: CaptureFacts) -> Iterator[tuple[Any, ...]]:
    b = facts.bindings
    return zip(
        address_text(b["family"], b["addr"]).tolist(),
        macs_text(b["mac"]).tolist(),
        b["vlan"].tolist(),
        b["pkts"].tolist(),
        b["first_ns"].tolist(),
        b["last_ns"].tolist(),
        b["sources"].tolist(),
        strict=True,
    )


def _station_rows(facts: CaptureFacts) -> Iterator[tuple[Any, ...]]:
    s = facts.stations
    l2 = [s["l2"][:, kind.value].tolist() for kind in L2Kind]
    return zip(
        macs_text(s["mac"]).tolist(),
        s["pkts"].tolist(),
        s["bytes"].tolist(),
        s["first_ns"].tolist(),
        s["last_ns"].tolist(),
        s["vlan"].tolist(),
        *l2,
        strict=True,
    )
