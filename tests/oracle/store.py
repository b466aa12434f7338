"""What otseam stored for a capture, in the oracle's shapes (``model``).

``ingest_capture`` runs the library ingest into a fresh store and reads the
facts tables back with SQL; ``stored_capture`` does it once per capture per
session, in memory. ``export_conversations`` reads the flows of
``otseam export`` JSON, for the CLI path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from otseam.ingest import ingest
from otseam.store.database import open_store
from otseam.store.schema import bindings, conversations, malformed, operations, stations
from tests.oracle.model import (
    ConversationKey,
    Endpoint,
    Traffic,
    canonical_ip,
    canonical_mac,
    conversation_key,
)

__all__ = [
    "StoredCapture",
    "export_conversations",
    "ingest_capture",
    "ip_pairs",
    "stored_capture",
]


@dataclass(frozen=True, slots=True)
class StoredCapture:
    """otseam's facts tables after ingesting one capture into an empty store."""

    conversations: dict[ConversationKey, Traffic]
    bindings: frozenset[tuple[str, str]]
    stations: frozenset[str]
    requests: Counter[tuple[str, str, str, int]]  # (protocol, client, server, code)
    malformed: Counter[tuple[str, str]]  # (protocol, reason)
    problems: tuple[str, ...]
    packets: int


@cache
def stored_capture(capture: Path) -> StoredCapture:
    """``ingest_capture`` into an in-memory SQLite store, once per session."""
    return ingest_capture(capture, "sqlite://")


def ingest_capture(capture: Path, target: str) -> StoredCapture:
    """Ingest ``capture`` into the new, empty store ``target`` and read it back."""
    engine = open_store(target)
    try:
        report = ingest([str(capture)], engine)
        with engine.connect() as conn:
            return StoredCapture(
                conversations=_conversations(conn),
                bindings=frozenset(_bindings(conn)),
                stations=frozenset(
                    canonical_mac(m) for m in conn.execute(select(stations.c.mac)).scalars()
                ),
                requests=_requests(conn),
                malformed=_malformed(conn),
                problems=tuple(str(p) for p in report.all_problems),
                packets=sum(o.packets for o in report.outcomes),
            )
    finally:
        engine.dispose()


def _conversations(conn: Connection) -> dict[ConversationKey, Traffic]:
    c = conversations.c
    rows = conn.execute(
        select(
            c.transport,
            c.a,
            c.a_port,
            c.b,
            c.b_port,
            c.a_to_b_packets,
            c.b_to_a_packets,
            c.a_to_b_bytes,
            c.b_to_a_bytes,
        )
    )
    return _keyed(
        {
            "proto": r[0],
            "a": r[1],
            "a_port": r[2],
            "b": r[3],
            "b_port": r[4],
            "a_to_b_packets": r[5],
            "b_to_a_packets": r[6],
            "a_to_b_bytes": r[7],
            "b_to_a_bytes": r[8],
        }
        for r in rows
    )


def export_conversations(flows: Iterable[Mapping[str, Any]]) -> dict[ConversationKey, Traffic]:
    """Conversations from the ``flows`` of ``otseam export`` JSON."""
    return _keyed(flows)


def _keyed(flows: Iterable[Mapping[str, Any]]) -> dict[ConversationKey, Traffic]:
    table: dict[ConversationKey, Traffic] = {}
    for flow in flows:
        key, forward = conversation_key(
            flow["proto"],
            Endpoint(canonical_ip(flow["a"]), flow["a_port"]),
            Endpoint(canonical_ip(flow["b"]), flow["b_port"]),
        )
        if key in table:
            raise AssertionError(f"otseam stored conversation {key} twice")
        traffic = Traffic(
            flow["a_to_b_packets"],
            flow["b_to_a_packets"],
            flow["a_to_b_bytes"],
            flow["b_to_a_bytes"],
        )
        table[key] = Traffic()
        table[key].merge(traffic, forward)
    return table


def ip_pairs(table: Mapping[ConversationKey, Traffic]) -> dict[ConversationKey, Traffic]:
    """Conversations of every transport summed per pair of IP addresses."""
    pairs: dict[ConversationKey, Traffic] = {}
    for key, traffic in table.items():
        pair, forward = conversation_key("ip", Endpoint(key.a.ip, 0), Endpoint(key.b.ip, 0))
        if pair.a == pair.b:  # a host talking to itself: no direction to tell
            pairs.setdefault(pair, Traffic()).add(True, traffic.packets, traffic.size)
        else:
            pairs.setdefault(pair, Traffic()).merge(traffic, forward)
    return pairs


def _bindings(conn: Connection) -> set[tuple[str, str]]:
    rows = conn.execute(select(bindings.c.ip, bindings.c.mac))
    return {(canonical_ip(ip), canonical_mac(mac)) for ip, mac in rows}


def _requests(conn: Connection) -> Counter[tuple[str, str, str, int]]:
    """Operations that are not exception responses, per code."""
    o = operations.c
    rows = conn.execute(
        select(o.protocol, o.src, o.dst, o.code, o.count).where(o.exception.is_(False))
    )
    counts: Counter[tuple[str, str, str, int]] = Counter()
    for protocol, src, dst, code, count in rows:
        if ":" in src and src.count(":") == 5 and "." not in src and len(src) == 17:
            continue  # a layer-2 operation (PROFINET DCP): MAC sender, no IP pair
        counts[(protocol, canonical_ip(src), canonical_ip(dst), code)] += count
    return counts


def _malformed(conn: Connection) -> Counter[tuple[str, str]]:
    m = malformed.c
    counts: Counter[tuple[str, str]] = Counter()
    for protocol, reason, count in conn.execute(select(m.protocol, m.reason, m.count)):
        counts[(protocol, reason)] += count
    return counts
