"""Everything decoded from one capture, ready for the store.

The packet tables stay numpy arrays (one row per conversation, binding or
station, in the layouts of ``otseam.decode.layout``) so that a capture with a
million conversations moves to the database without a million Python
objects. Observations from dissectors are already aggregated with counts,
and those of message groups stay columnar too (``Block``): a million
operation rows cost a few arrays, not a million dicts and tuples. The
``operations``, ``identities``, ``roles`` and ``malformed`` properties give
a table as one merged dict, for small captures and tests; the store reads
``rows``, a batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Final

import numpy as np

from otseam.decode.addresses import address_ids
from otseam.sources.problems import Problem

__all__ = ["SLOTS", "TABLES", "Block", "CaptureFacts", "Counted", "tally"]

TABLES: Final = ("operations", "identities", "roles", "malformed")
SLOTS: Final = ("\x00slot0", "\x00slot1")  # where a block's key takes each row's addresses
BATCH: Final = 20_000


@dataclass(slots=True)
class Counted:
    """How often, and over what time, one observation was made."""

    count: int
    first_ns: int
    last_ns: int
    raw: bytes = b""

    def add(self, count: int, first_ns: int, last_ns: int) -> None:
        self.count += count
        self.first_ns = min(self.first_ns, first_ns)
        self.last_ns = max(self.last_ns, last_ns)


def tally(
    table: dict[tuple[Any, ...], Counted],
    key: tuple[Any, ...],
    count: int,
    first_ns: int,
    last_ns: int,
    raw: bytes = b"",
) -> None:
    """Count an observation under ``key``: added to what is there, or new."""
    found = table.get(key)
    if found is None:
        table[key] = Counted(count, first_ns, last_ns, raw)
    else:
        found.add(count, first_ns, last_ns)


@dataclass(frozen=True, slots=True)
class Block:
    """Rows of one facts table that share every key value but their
    addresses: the key holds ``SLOTS`` where an address goes, and each row
    has the address of each slot (an index into ``texts``; -1 for none),
    its count and its first and last time. ``raw`` is the bytes kept with
    a malformed message."""

    key: tuple[Any, ...]
    raw: bytes
    texts: np.ndarray  # object array of address texts
    slots: tuple[np.ndarray, np.ndarray]
    count: np.ndarray
    first_ns: np.ndarray
    last_ns: np.ndarray

    def __len__(self) -> int:
        return len(self.count)

    def rows(self, start: int, stop: int, tail: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """``(*key, count, first_ns, last_ns, *tail)`` for rows start to stop."""
        part = slice(start, stop)
        filled = [self.texts[s[part]].tolist() for s in self.slots]
        n = len(self.count[part])
        columns = [
            filled[SLOTS.index(v)] if isinstance(v, str) and v in SLOTS else repeat(v, n)
            for v in self.key
        ]
        return zip(
            *columns,
            self.count[part].tolist(),
            self.first_ns[part].tolist(),
            self.last_ns[part].tolist(),
            *(repeat(v, n) for v in tail),
            strict=True,
        )


@dataclass(slots=True)
class CaptureFacts:
    """The decoded content of one capture file or stream."""

    name: str
    content_hash: str
    size: int
    file_format: str
    linktypes: list[int]
    counters: dict[str, int]
    first_ns: int
    last_ns: int
    # ``layout.CONVERSATION``, or ``CONVERSATION_V4`` (4-byte addresses)
    # when the capture has no IPv6 conversation
    conversations: np.ndarray
    bindings: np.ndarray
    stations: np.ndarray
    app_names: dict[int, str]
    # per facts table (``TABLES``): the rows of message groups, columnar...
    blocks: dict[str, list[Block]] = field(default_factory=lambda: {t: [] for t in TABLES})
    # ...and the observations made one at a time (reassembled streams)
    singles: dict[str, dict[tuple[Any, ...], Counted]] = field(
        default_factory=lambda: {t: {} for t in TABLES}
    )
    problems: list[Problem] = field(default_factory=list)
    _endpoints: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def packets(self) -> int:
        return self.counters.get("packets", 0)

    def endpoints(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each conversation's side a and side b as indexes into one object
        array of address texts (the third): every address formatted once,
        for the decoder's observation rows and the store's conversations."""
        if self._endpoints is None:
            conv, n = self.conversations, len(self.conversations)
            # 32-bit, kept to the end of the store: half of 64-bit
            ids, texts = address_ids(conv["family"], conv["a"], conv["b"])
            self._endpoints = (ids[:n], ids[n:], np.array(texts, dtype=object))
        return self._endpoints

    def rows(self, table: str, tail: tuple[Any, ...] = ()) -> Iterator[list[tuple[Any, ...]]]:
        """Batches of ``(*key, count, first_ns, last_ns, *tail)`` rows of a
        facts table (for ``malformed``, the raw bytes in hex end the tail).
        A key may come more than once (a literal address in one block, a
        slot in another, or a single): the reader adds them up."""
        hexed = table == "malformed"
        for block in self.blocks[table]:
            extra = (*tail, block.raw.hex()) if hexed else tail
            for start in range(0, len(block), BATCH):
                yield list(block.rows(start, start + BATCH, extra))
        singles = sorted(self.singles[table].items(), key=_first_field)
        for start in range(0, len(singles), BATCH):
            yield [
                (*key, c.count, c.first_ns, c.last_ns, *tail, *((c.raw.hex(),) if hexed else ()))
                for key, c in singles[start : start + BATCH]
            ]

    def counted(self, table: str) -> dict[tuple[Any, ...], Counted]:
        """A facts table as one dict, every key once."""
        merged: dict[tuple[Any, ...], Counted] = {}
        for block in self.blocks[table]:
            for row in block.rows(0, len(block)):
                count, first, last = row[-3:]
                tally(merged, row[:-3], count, first, last, block.raw)
        for key, c in self.singles[table].items():
            tally(merged, key, c.count, c.first_ns, c.last_ns, c.raw)
        return merged

    @property
    def operations(self) -> dict[tuple[Any, ...], Counted]:
        return self.counted("operations")

    @property
    def identities(self) -> dict[tuple[Any, ...], Counted]:
        return self.counted("identities")

    @property
    def roles(self) -> dict[tuple[Any, ...], Counted]:
        return self.counted("roles")

    @property
    def malformed(self) -> dict[tuple[Any, ...], Counted]:
        return self.counted("malformed")


def _first_field(item: tuple[tuple[Any, ...], Counted]) -> Any:
    """Singles go to the store by their key's first column (an address):
    near the order of the unique index, whose B-tree then takes near-appends."""
    return item[0][0]
