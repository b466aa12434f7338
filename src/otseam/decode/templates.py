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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from otseam.decode.runs import runs
from otseam.model.capture import SLOTS, TABLES, Block, CaptureFacts, tally
from otseam.model.observations import Identity, Observation, Operation, ProtocolRole

__all__ = ["DST", "SRC", "Endpoints", "Entries", "Template", "count_once", "spread"]

SRC: Final = "\x00src"  # placeholders a template's addresses are written with
DST: Final = "\x00dst"
Template = tuple[Observation, ...]
# the sender and receiver of each of some group rows, as indexes into names
Endpoints = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


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
                # each placeholder: which address it is, and the next slot in its place
                filled: list[str] = []
                placed: list[Any] = []
                for v in key:
                    if v in (SRC, DST):
                        placed.append(SLOTS[len(filled)])
                        filled.append("src" if v == SRC else "dst")
                    else:
                        placed.append(v)
                fills, canonical = tuple(filled), tuple(placed)
                found = self._ids.get((table, canonical))
                if found is None:
                    found = self._ids[(table, canonical)] = len(self.entries)
                    self.entries.append(Entry(table, canonical, fills, raw))
                made.append((found, fills))
        self.of_template.append(made)


def spread(
    facts: CaptureFacts,
    entries: Entries,
    rows: dict[int, np.ndarray],
    endpoints: Endpoints,
    names: list[str],
) -> None:
    """Add the group rows of each template (``rows``: ``layout.GROUP_ROW``
    arrays by template id; their count, first and last), with sender and
    receiver by ``endpoints`` (indexes into ``names``).

    One entry at a time, over the rows of the templates that have it: a
    million groups times the few entries of each never exist at once. A
    template's rows are let go (taken out of ``rows``) once its last entry
    is added: the rows shrink as the blocks grow."""
    texts = np.array([*names, ""], dtype=object)  # -1: no address
    holders: dict[int, list[tuple[int, tuple[str, ...]]]] = {}  # entry -> (template, fills)
    for template, made in enumerate(entries.of_template):
        for entry, fills in made:
            holders.setdefault(entry, []).append((template, fills))
    last_entry = {t: max(e for e, _ in made) for t, made in enumerate(entries.of_template) if made}
    ends: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # template -> (senders, receivers)
    for entry in sorted(holders):
        parts = []
        for template, fills in holders[entry]:
            if template in rows:
                if template not in ends:
                    ends[template] = endpoints(rows[template])
                parts.append(Part(rows[template], ends[template], fills))
        if parts:
            _add_block(facts, entries.entries[entry], parts, texts)
        for template, _ in holders[entry]:
            if last_entry[template] == entry:
                rows.pop(template, None)
                ends.pop(template, None)


@dataclass(frozen=True, slots=True)
class Part:
    """The rows of one template that has an entry, their senders and
    receivers, and the fills of the entry in that template."""

    rows: np.ndarray
    ends: tuple[np.ndarray, np.ndarray]
    fills: tuple[str, ...]

    def slot(self, k: int) -> np.ndarray:
        """The address id in slot ``k`` of each row: the sender's, the
        receiver's, or -1."""
        if len(self.fills) <= k:
            return np.full(len(self.rows), -1, dtype=np.int32)
        return self.ends[0] if self.fills[k] == "src" else self.ends[1]


def _add_block(facts: CaptureFacts, item: Entry, parts: list[Part], texts: np.ndarray) -> None:
    """The block of one entry: the rows of its templates, added up by
    their addresses."""
    a, b = (np.concatenate([part.slot(k) for part in parts]) for k in range(len(SLOTS)))
    # added up by (slot 0, slot 1), as one 64-bit integer: ids fit in 32 bits
    order, starts = runs((a + 1).astype(np.uint64) << np.uint64(32) | (b + 1).astype(np.uint64))
    leads = order[starts]

    def added(column: str, add: np.ufunc) -> np.ndarray:
        # a column at a time: one copy of it, in the order of the runs
        return add.reduceat(np.concatenate([part.rows[column] for part in parts])[order], starts)

    facts.blocks[TABLES[item.table]].append(
        Block(
            item.key,
            item.raw,
            texts,
            (a[leads], b[leads]),
            added("count", np.add),
            added("first_ns", np.minimum),
            added("last_ns", np.maximum),
        )
    )


def count_once(facts: CaptureFacts, obs: Observation, ts: int) -> None:
    """Add one observation made once, at ``ts``, with its real addresses (a
    reassembled stream's message)."""
    for table, key, raw in rows_of(obs):
        tally(facts.singles[TABLES[table]], key, 1, ts, ts, raw)
