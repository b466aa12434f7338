"""Templates: dissection results with placeholder addresses, and how the
message groups that share one become the capture's observation rows.

A dissector run for a message group sees ``SRC`` and ``DST`` instead of the
real addresses, so its result (a template) is shared by every group that
sends the same message. Each observation of a template becomes one or more
``Entry`` rows of a facts table (an Identity with three attributes makes
three). At the end of a capture ``spread`` puts every group's addresses
into its template's entries and adds up the counts of rows that end with the
same key, with numpy over integer address ids. The rows stay columnar, one
``Block`` per entry: address ids into one shared array of texts, and count,
first and last seen; Python objects are made only as the store takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from otseam.model.capture import SLOTS, TABLES, Block, CaptureFacts, tally
from otseam.model.observations import Identity, Observation, Operation, ProtocolRole

__all__ = ["DST", "SRC", "Entries", "Template", "count_once", "spread"]

SRC: Final = "\x00src"  # placeholders a template's addresses are written with
DST: Final = "\x00dst"
Template = tuple[Observation, ...]


@dataclass(frozen=True, slots=True)
class Entry:
    """One facts row a template makes: the table and its key, in which the
    first and second address placeholders are slots 0 and 1 (``SLOTS``),
    ``fills`` saying which address goes in each (``"src"`` or ``"dst"``),
    and the raw bytes kept. Rows that differ only in which placeholder a
    slot held are the same entry: a client's role seen in a request (SRC)
    and in an answer (DST) adds up in numpy, not in a dict."""

    table: int  # index in TABLES
    key: tuple[Any, ...]
    fills: tuple[str, ...]
    raw: bytes


def rows_of(obs: Observation) -> list[tuple[int, tuple[Any, ...], bytes]]:
    """The facts table (index in TABLES), key(s) and raw bytes an observation
    is counted under."""
    if isinstance(obs, Operation):
        key = (obs.src, obs.dst, obs.protocol, obs.operation, obs.code, obs.code_name,
               obs.exception)  # fmt: skip
        return [(0, key, b"")]
    if isinstance(obs, Identity):
        return [(1, (obs.address, obs.protocol, k, v), b"") for k, v in obs.attributes]
    if isinstance(obs, ProtocolRole):
        return [(2, (obs.address, obs.protocol, obs.role), b"")]
    return [(3, (obs.src, obs.dst, obs.protocol, obs.reason), obs.raw)]


class Entries:
    """The distinct entries of all templates, numbered; and per template,
    the numbers of its entries."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.of_template: list[list[tuple[int, tuple[str, ...]]]] = []
        self._ids: dict[tuple[int, tuple[Any, ...]], int] = {}

    def add_template(self, template: Template) -> None:
        made = []
        for obs in template:
            for table, key, raw in rows_of(obs):
                fills = tuple("src" if v == SRC else "dst" for v in key if v in (SRC, DST))
                slots = iter(SLOTS)
                canonical = tuple(next(slots) if v in (SRC, DST) else v for v in key)
                found = self._ids.get((table, canonical))
                if found is None:
                    found = self._ids[(table, canonical)] = len(self.entries)
                    self.entries.append(Entry(table, canonical, fills, raw))
                made.append((found, fills))
        self.of_template.append(made)


def spread(
    facts: CaptureFacts,
    entries: Entries,
    tpl: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    counts: tuple[np.ndarray, np.ndarray, np.ndarray],
    names: list[str],
) -> None:
    """Add the rows of groups with templates ``tpl``, sender and receiver ids
    ``src``/``dst`` (indexes into ``names``) and (count, first, last)."""
    expanded = _expand(entries, tpl, src, dst)
    if expanded is None:
        return
    entry, a, b, row = expanded
    del expanded  # each step's arrays go as the next ones come: memory stays low
    order = _order(entry, a, b, len(entries.entries), len(names))
    entry, a, b, row = entry[order], a[order], b[order], row[order]
    new = np.ones(len(entry), dtype=bool)
    new[1:] = (entry[1:] != entry[:-1]) | (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(new)  # one facts row from each run of equal (entry, a, b)
    count, first, last = (c[row] for c in counts)
    total = np.add.reduceat(count, starts)
    low = np.minimum.reduceat(first, starts)
    high = np.maximum.reduceat(last, starts)
    entry, a, b = entry[starts], a[starts], b[starts]
    texts = np.array([*names, ""], dtype=object)  # -1: no address
    bounds = np.flatnonzero(np.r_[True, entry[1:] != entry[:-1], True])
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        item = entries.entries[int(entry[lo])]
        facts.blocks[TABLES[item.table]].append(
            Block(
                item.key,
                item.raw,
                texts,
                (a[lo:hi], b[lo:hi]),
                total[lo:hi],
                low[lo:hi],
                high[lo:hi],
            )
        )


def _expand(
    entries: Entries, tpl: np.ndarray, src: np.ndarray, dst: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """One row per (group, entry of its template): the entry, the address id
    in each of its slots (-1: none) and the group's row; None if no rows."""
    made = [m for ids in entries.of_template for m in ids]
    per_template = np.array([len(ids) for ids in entries.of_template], dtype=np.int64)
    start = np.cumsum(per_template) - per_template
    per_row = per_template[tpl]
    row = np.repeat(np.arange(len(tpl)), per_row)
    if not len(row):
        return None
    within = np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    which = start[tpl[row]] + within  # index into made
    entry = np.array([e for e, _ in made], dtype=np.int64)[which]
    slots = []
    for k in range(len(SLOTS)):
        from_src = np.array([len(f) > k and f[k] == "src" for _, f in made])[which]
        from_dst = np.array([len(f) > k and f[k] == "dst" for _, f in made])[which]
        slots.append(np.where(from_src, src[row], np.where(from_dst, dst[row], -1)))
    return entry, slots[0], slots[1], row


def count_once(facts: CaptureFacts, obs: Observation, ts: int) -> None:
    """Add one observation made once, at ``ts``, with its real addresses (a
    reassembled stream's message)."""
    for table, key, raw in rows_of(obs):
        tally(facts.singles[TABLES[table]], key, 1, ts, ts, raw)


def _order(entry: np.ndarray, a: np.ndarray, b: np.ndarray, n_entries: int, n_names: int) -> Any:
    """Row order by (entry, slot 0, slot 1): one 64-bit key when the ids
    fit, which sorts several times faster than three."""
    bits = (n_names + 1).bit_length()
    if n_entries.bit_length() + 2 * bits <= 64:
        packed = (
            entry.astype(np.uint64) << np.uint64(2 * bits)
            | (a + 1).astype(np.uint64) << np.uint64(bits)
            | (b + 1).astype(np.uint64)
        )
        return np.argsort(packed, kind="stable")
    return np.lexsort((b, a, entry))
