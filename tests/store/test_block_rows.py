"""Observation rows reach the store columnar (``Block``) and one at a time
(``singles``); a key that comes several times in one capture (two blocks,
a block and a single) is added up by the store's upsert, on both backends."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from otseam.decode.layout import BINDING, CONVERSATION, STATION
from otseam.model.capture import SLOTS, Block, CaptureFacts, Counted
from otseam.store.database import open_store
from otseam.store.schema import malformed, operations
from otseam.store.writer import write_capture
from tests.store.stores import StoreTarget

TEXTS = np.array(["10.0.0.1", "10.0.0.2", "10.0.0.3", ""], dtype=object)
WRITE = ("modbus", "write", 6, "Write Single Register", False)


def _block(src: list[int], dst: list[int], counts: list[int], raw: bytes = b"") -> Block:
    n = len(counts)
    return Block(
        (SLOTS[0], SLOTS[1], *WRITE) if not raw else (SLOTS[0], SLOTS[1], "modbus", "bad"),
        raw,
        TEXTS,
        (np.array(src), np.array(dst)),
        np.array(counts, dtype=np.uint64),
        np.arange(100, 100 + n, dtype=np.int64),
        np.arange(200, 200 + n, dtype=np.int64),
    )


def _facts() -> CaptureFacts:
    facts = CaptureFacts(
        "blocks.pcap", "blake3:blocks", 1, "pcap", [], {"packets": 1}, 100, 300,
        np.zeros(0, dtype=CONVERSATION), np.zeros(0, dtype=BINDING),
        np.zeros(0, dtype=STATION), {},
    )  # fmt: skip
    # 10.0.0.1 -> 10.0.0.2 comes in two blocks and as a single
    facts.blocks["operations"] += [_block([0, 0], [1, 2], [5, 7]), _block([0], [1], [3])]
    facts.singles["operations"][("10.0.0.1", "10.0.0.2", *WRITE)] = Counted(1, 50, 250)
    facts.blocks["malformed"] += [_block([2], [0], [4], raw=b"\x01\x02")]
    return facts


def test_keys_seen_twice_in_one_capture_add_up(store: StoreTarget) -> None:
    engine = open_store(store.db)
    try:
        with engine.begin() as conn:
            write_capture(conn, _facts())
        with engine.connect() as conn:
            c = operations.c
            rows = conn.execute(
                select(c.src, c.dst, c.count, c.first_seen, c.last_seen).order_by(c.dst)
            ).all()
            bad = conn.execute(select(malformed.c.src, malformed.c.raw, malformed.c.count)).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("10.0.0.1", "10.0.0.2", 9, 50, 250),  # 5 + 3 + 1; the single widens the times
        ("10.0.0.1", "10.0.0.3", 7, 101, 201),
    ]
    assert [tuple(r) for r in bad] == [("10.0.0.3", "0102", 4)]


def test_the_merged_view_matches_what_is_stored() -> None:
    merged = _facts().operations
    assert {k[:2]: [v.count, v.first_ns, v.last_ns] for k, v in merged.items()} == {
        ("10.0.0.1", "10.0.0.2"): [9, 50, 250],
        ("10.0.0.1", "10.0.0.3"): [7, 101, 201],
    }
