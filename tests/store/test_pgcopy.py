"""On PostgreSQL the facts go in through COPY and one merging statement;
on SQLite through the upsert, row by row. Both must store the same rows
with the same ids, also where a capture's rows repeat a key (its
observations are added up before they are merged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.store.stores import StoreTarget, dump_store, ingest_into

# their observation rows repeat keys: operations, identities and protocol
# roles in the first, protocol roles in the second
REPEATING = ("OPC/opc-ua-ap-method-wireshark-freeze.pcap", "ModbusTCP/ModbusTCP.pcap")
FACTS = ("conversations", "bindings", "stations", "hosts", "operations", "identities",
         "protocol_roles", "malformed")  # fmt: skip


@pytest.mark.parametrize("name", REPEATING)
def test_postgresql_stores_what_sqlite_stores(
    store: StoreTarget, corpus: Path, tmp_path: Path, name: str
) -> None:
    if store.backend != "postgresql":
        pytest.skip("compares PostgreSQL with SQLite")
    reference = str(tmp_path / "reference.db")
    later = (
        corpus / "EthernetIP" / "enip_test.pcap"
    )  # a second capture: rows merge into stored ones
    for db in (reference, store.db):
        for capture in (corpus / name, later, corpus / name):  # the third: already ingested
            ingest_into(db, capture)
    expected, found = dump_store(reference), dump_store(store.db)
    assert sum(len(expected[t]) for t in FACTS) > 20
    for table in (*FACTS, "assets", "asset_protocols"):
        assert found[table] == expected[table], table
    # rebuilt on every ingest: PostgreSQL's sequence goes on where SQLite
    # starts again, so their ids differ; asset and address do not
    assert _without_id(found["asset_addresses"]) == _without_id(expected["asset_addresses"])


def _without_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]
