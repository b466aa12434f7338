"""Everything decoded from one capture, ready for the store.

The packet tables stay numpy arrays (one row per conversation, binding or
station, in the layouts of ``otseam.decode.layout``) so that a capture with a
million conversations moves to the database without a million Python
objects. Observations from dissectors are already aggregated with counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from otseam.sources.problems import Problem

__all__ = ["CaptureFacts", "Counted"]


class Counted(list[Any]):
    """How often, and over what time, one observation was made:
    ``[count, first_ns, last_ns, raw]``.

    A list, so that the million of them a large capture makes are built at
    C speed (``Counted(zip(counts, firsts, lasts, raws))``); the fields are
    read by name."""

    __slots__ = ()

    @classmethod
    def of(cls, count: int, first_ns: int, last_ns: int, raw: bytes = b"") -> Counted:
        return cls((count, first_ns, last_ns, raw))

    @property  # the observation count, not list.count (never used on these)
    def count(self) -> int:  # type: ignore[override]
        return int(self[0])

    @property
    def first_ns(self) -> int:
        return int(self[1])

    @property
    def last_ns(self) -> int:
        return int(self[2])

    @property
    def raw(self) -> bytes:
        return bytes(self[3])

    def add(self, count: int, first_ns: int, last_ns: int) -> None:
        self[0] += count
        if first_ns < self[1]:
            self[1] = first_ns
        if last_ns > self[2]:
            self[2] = last_ns


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
    conversations: np.ndarray
    bindings: np.ndarray
    stations: np.ndarray
    app_names: dict[int, str]
    operations: dict[tuple[str, str, str, str, int, str, bool], Counted] = field(
        default_factory=dict
    )
    identities: dict[tuple[str, str, str, str], Counted] = field(default_factory=dict)
    roles: dict[tuple[str, str, str], Counted] = field(default_factory=dict)
    malformed: dict[tuple[str, str, str, str], Counted] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def packets(self) -> int:
        return self.counters.get("packets", 0)
