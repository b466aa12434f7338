"""``spread``: the rows of message groups that share templates, with their
addresses put in and equal rows added up, are the rows that counting each
group's observations one by one would give."""

from __future__ import annotations

from typing import Any

import numpy as np

from otseam.decode.layout import GROUP_ROW
from otseam.decode.templates import DST, SRC, Entries, Template, rows_of, spread
from otseam.model.capture import TABLES, CaptureFacts, Counted, tally
from otseam.model.observations import Identity, Malformed, Operation, ProtocolRole

TEMPLATES: list[Template] = [
    (
        Operation(SRC, DST, "modbus", "read", 3, "Read Holding Registers"),
        ProtocolRole(SRC, "modbus", "client"),
        ProtocolRole(DST, "modbus", "server"),
    ),
    # the same role entry as above, filled from the receiver
    (ProtocolRole(DST, "modbus", "client"),),
    # an observation twice in one message counts twice
    (ProtocolRole(SRC, "enip", "client"), ProtocolRole(SRC, "enip", "client")),
    (Identity(SRC, "enip", (("vendor", "Rockwell"), ("product", "1756-EN2T"))),),
    (Malformed(DST, SRC, "s7comm", "short header", b"\x03\x00"),),
    (Identity("10.9.9.9", "bacnet", (("name", "literal"),)),),  # no placeholder at all
    (),  # a template of no observations
]


def _facts() -> CaptureFacts:
    empty = np.zeros(0)
    return CaptureFacts("t", "h", 0, "pcap", [], {}, 0, 0, empty, empty, empty, {})


def _rows_by_template(tpl: np.ndarray, counts: tuple[np.ndarray, ...]) -> dict[int, np.ndarray]:
    """Group g as a row of owner g and template tpl[g], by template, as the
    walker hands rows over."""
    rows = np.zeros(len(tpl), dtype=GROUP_ROW)
    rows["owner"] = np.arange(len(tpl))
    rows["dir_template"] = tpl
    rows["count"], rows["first_ns"], rows["last_ns"] = counts
    return {int(t): rows[tpl == t] for t in np.unique(tpl)}


def _naive(
    tpl: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    counts: tuple[np.ndarray, ...],
    names: list[str],
) -> dict[str, dict[tuple[Any, ...], Counted]]:
    """Every group's observations counted one by one, addresses put in."""
    tables: dict[str, dict[tuple[Any, ...], Counted]] = {t: {} for t in TABLES}
    for g, t in enumerate(tpl.tolist()):
        fill = {SRC: names[src[g]], DST: names[dst[g]]}
        for obs in TEMPLATES[t]:
            for table, key, raw in rows_of(obs):
                real = tuple(fill.get(v, v) if isinstance(v, str) else v for v in key)
                count, first, last = (int(c[g]) for c in counts)
                tally(tables[TABLES[table]], real, count, first, last, raw)
    return tables


def test_spread_gives_the_rows_of_counting_each_group() -> None:
    rng = np.random.default_rng(7)
    entries = Entries()
    for template in TEMPLATES:
        entries.add_template(template)
    names = [f"10.0.0.{i}" for i in range(12)]
    n = 2_000
    tpl = rng.integers(0, len(TEMPLATES), n)
    src = rng.integers(0, len(names), n).astype(np.int32)
    dst = rng.integers(0, len(names), n).astype(np.int32)
    first = rng.integers(0, 10**9, n)
    counts = (rng.integers(1, 100, n).astype(np.uint64), first, first + rng.integers(0, 10**6, n))
    facts = _facts()
    rows = _rows_by_template(tpl, counts)

    spread(facts, entries, rows, lambda part: (src[part["owner"]], dst[part["owner"]]), names)

    expected = _naive(tpl, src, dst, counts, names)
    for table in TABLES:
        assert facts.counted(table) == expected[table], table
    assert len(facts.counted("operations")) > 1
    # rows of one block come once each: equal rows were added up
    for blocks in facts.blocks.values():
        for block in blocks:
            keys = [row[:-3] for row in block.rows(0, len(block))]
            assert len(keys) == len(set(keys))
    # each template's rows were let go once added: only the empty template's stay
    assert list(rows) == [len(TEMPLATES) - 1]


def test_spread_of_groups_without_observations_adds_nothing() -> None:
    entries = Entries()
    entries.add_template(())
    facts = _facts()
    rows = {0: np.zeros(3, dtype=GROUP_ROW)}
    none = np.zeros(3, dtype=np.int32)
    spread(facts, entries, rows, lambda part: (none, none), [])
    assert all(not blocks for blocks in facts.blocks.values())
