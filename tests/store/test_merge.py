"""Captures merge into one store: the same capture twice (or gzipped) changes
nothing; different captures add their counters and widen first/last seen.

Each test runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.store.pcapfiles import shift_pcap
from tests.store.stores import Dump, StoreTarget, dump_store, ingest_into

EIP = "openics/EIP-IPAddressChangeAttempt.pcap"  # identities, operations, 11 assets
MODBUS = "ModbusTCP/ModbusTCP.pcap"  # 54 operation kinds, malformed messages
HOUR_NS = 3_600_000_000_000


def test_reingesting_a_capture_changes_nothing(store: StoreTarget, corpus: Path) -> None:
    capture = corpus / EIP
    first = ingest_into(store.db, capture)
    assert [o.status for o in first.outcomes] == ["ingested"]
    before = dump_store(store.db)
    assert len(before["conversations"]) > 0
    assert len(before["identities"]) > 0

    again = run_cli("ingest", str(capture), "--db", store.db)

    assert again.returncode == 0, again.stderr
    assert "0 ingested, 1 already in the store" in again.stdout
    assert dump_store(store.db) == before


def test_gzipped_capture_is_the_same_capture(
    store: StoreTarget, corpus: Path, tmp_path: Path
) -> None:
    plain = corpus / MODBUS
    packed = tmp_path / "ModbusTCP.pcap.gz"
    with plain.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)

    ingest_into(store.db, packed)
    from_gzip = dump_store(store.db)
    again = ingest_into(store.db, plain)

    assert [o.status for o in again.outcomes] == ["already ingested"]
    assert dump_store(store.db) == from_gzip
    (capture,) = from_gzip["captures"]
    assert capture["file_format"] == "pcap.gz"
    assert capture["size"] == plain.stat().st_size  # the uncompressed size

    # the facts are those of the plain file (read into a SQLite reference store):
    # only the capture's name and format differ
    reference = tmp_path / "plain.db"
    ingest_into(str(reference), plain)
    from_plain = dump_store(str(reference))
    for table, rule in RULES.items():
        assert _keyed(rule, from_gzip[table]) == _keyed(rule, from_plain[table]), table
    assert _assets(from_gzip) == _assets(from_plain)
    assert _without(from_gzip["captures"], "name", "file_format", "ingested_at") == _without(
        from_plain["captures"], "name", "file_format", "ingested_at"
    )


@dataclass(frozen=True)
class Rule:
    """How a facts table merges (mirrors docs/store.md): rows with equal ``key``
    are one row; ``add`` columns add, ``bits`` are OR-ed, ``coalesce`` keep the
    first non-null value, ``keep`` the first stored value; first_seen takes the
    earlier and last_seen the later."""

    key: tuple[str, ...]
    add: tuple[str, ...]
    bits: tuple[str, ...] = ()
    coalesce: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()


COUNTED = ("count",)
RULES = {
    "conversations": Rule(
        key=("transport", "a", "a_port", "b", "b_port"),
        add=("a_to_b_packets", "b_to_a_packets", "a_to_b_bytes", "b_to_a_bytes"),
        bits=("a_tcp_flags", "b_tcp_flags"),
        coalesce=("initiator",),
        keep=("app_protocol", "vlan"),
    ),
    "bindings": Rule(key=("ip", "mac", "vlan"), add=("packets",), bits=("sources",)),
    "stations": Rule(
        key=("mac",),
        add=(
            "packets",
            "bytes",
            *(f"{k}_frames" for k in ("profinet", "goose", "sv", "ethercat", "powerlink", "lldp")),
        ),
        keep=("vlan",),
    ),
    "operations": Rule(
        key=("src", "dst", "protocol", "operation", "code", "code_name", "exception"), add=COUNTED
    ),
    "identities": Rule(key=("address", "protocol", "attribute", "value"), add=COUNTED),
    "protocol_roles": Rule(key=("address", "protocol", "role"), add=COUNTED),
    "malformed": Rule(key=("src", "dst", "protocol", "reason"), add=COUNTED, keep=("raw",)),
}


@pytest.mark.parametrize(
    ("name", "later_first"),
    [(EIP, False), (MODBUS, True)],
    ids=["eip-in-time-order", "modbus-later-capture-first"],
)
def test_captures_merge_counters_add_and_seen_widens(
    store: StoreTarget, corpus: Path, tmp_path: Path, name: str, later_first: bool
) -> None:
    """Capture X and a copy of it an hour later with every third record dropped
    share every conversation; the store after both holds the exact merge of
    what each gives alone."""
    early = corpus / name
    late = tmp_path / "later.pcap"
    shift_pcap(early, late, HOUR_NS, keep=lambda i: i % 3 != 0)
    alone = {}
    for label, capture in (("early", early), ("late", late)):
        path = str(tmp_path / f"{label}.db")
        ingest_into(path, capture)
        alone[label] = dump_store(path)
    conversation = RULES["conversations"]
    early_keys = _keyed(conversation, alone["early"]["conversations"]).keys()
    late_keys = _keyed(conversation, alone["late"]["conversations"]).keys()
    assert late_keys and late_keys <= early_keys  # they share conversations
    order = [late, early] if later_first else [early, late]
    first, second = ("late", "early") if later_first else ("early", "late")

    for capture in order:
        assert [o.status for o in ingest_into(store.db, capture).outcomes] == ["ingested"]
    merged = dump_store(store.db)

    for table, rule in RULES.items():
        expected = _merge(rule, alone[first][table], alone[second][table])
        assert _keyed(rule, merged[table]) == expected, table
    # the headline numbers, spelt out
    conversations = merged["conversations"]
    assert len(conversations) == len(alone["early"]["conversations"])
    assert _total_packets(conversations) == _total_packets(
        alone["early"]["conversations"]
    ) + _total_packets(alone["late"]["conversations"])
    early_first = min(r["first_seen"] for r in alone["early"]["conversations"])
    late_last = max(r["last_seen"] for r in alone["late"]["conversations"])
    assert min(r["first_seen"] for r in conversations) == early_first
    assert max(r["last_seen"] for r in conversations) == late_last
    assert {c["content_hash"] for c in merged["captures"]} == {
        alone[label]["captures"][0]["content_hash"] for label in ("early", "late")
    }
    assert sum(c["packets"] for c in merged["captures"]) == sum(
        alone[label]["captures"][0]["packets"] for label in ("early", "late")
    )
    assert _assets(merged) == _merge_assets(_assets(alone[first]), _assets(alone[second]))


def _without(rows: list[dict[str, Any]], *columns: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in {"id", *columns}} for row in rows]


def _total_packets(conversations: list[dict[str, Any]]) -> int:
    return sum(r["a_to_b_packets"] + r["b_to_a_packets"] for r in conversations)


def _keyed(rule: Rule, rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    keyed = {}
    for row in _without(rows):
        key = tuple(row[k] for k in rule.key)
        assert key not in keyed, f"two rows for {key}"
        keyed[key] = row
    return keyed


def _merge(
    rule: Rule, first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    merged = _keyed(rule, first)
    for key, new in _keyed(rule, second).items():
        old = merged.get(key)
        if old is None:
            merged[key] = new
            continue
        combined = dict(old)
        for column in rule.add:
            combined[column] = old[column] + new[column]
        for column in rule.bits:
            combined[column] = old[column] | new[column]
        for column in rule.coalesce:
            combined[column] = old[column] if old[column] is not None else new[column]
        combined["first_seen"] = min(old["first_seen"], new["first_seen"])
        combined["last_seen"] = max(old["last_seen"], new["last_seen"])
        handled = {*rule.key, *rule.add, *rule.bits, *rule.coalesce, *rule.keep}
        for column in set(old) - handled - {"first_seen", "last_seen"}:
            assert old[column] == new[column], (key, column)
        merged[key] = combined
    return merged


IDENTITY_FIELDS = ("name", "vendor", "product", "model", "firmware", "serial")
Assets = dict[str, dict[str, Any]]


def _assets(dump: Dump) -> Assets:
    """Assets by key with their addresses and protocols (ids dropped)."""
    by_id: Assets = {}
    for row in dump["assets"]:
        by_id[row["id"]] = {
            **{k: v for k, v in row.items() if k in {*IDENTITY_FIELDS, "first_seen", "last_seen"}},
            "key": row["key"],
            "addresses": set(),
            "protocols": set(),
        }
    for row in dump["asset_addresses"]:
        by_id[row["asset_id"]]["addresses"].add((row["kind"], row["value"]))
    for row in dump["asset_protocols"]:
        by_id[row["asset_id"]]["protocols"].add((row["protocol"], row["role"]))
    return {asset.pop("key"): asset for asset in by_id.values()}


def _merge_assets(first: Assets, second: Assets) -> Assets:
    """The same devices seen in two captures: seen widens, addresses and
    protocols unite, and identity values are the same in both."""
    merged: Assets = {}
    for key in first.keys() | second.keys():
        parts = [part[key] for part in (first, second) if key in part]
        merged[key] = {
            **{field: _latest_known(parts, field) for field in IDENTITY_FIELDS},
            "first_seen": min(p["first_seen"] for p in parts),
            "last_seen": max(p["last_seen"] for p in parts),
            "addresses": set().union(*(p["addresses"] for p in parts)),
            "protocols": set().union(*(p["protocols"] for p in parts)),
        }
    return merged


def _latest_known(parts: list[dict[str, Any]], field: str) -> Any:
    return next((p[field] for p in reversed(parts) if p[field] is not None), None)
