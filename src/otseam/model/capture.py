"""Everything decoded from one capture, ready for the store.

The packet tables stay numpy arrays (one row per conversation, binding or
station, in the layouts of ``otseam.decode.layout``) so that a capture with a
million conversations moves to the database without a million Python
objects. Observations from dissectors are already aggregated with counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from otseam.sources.problems import Problem

__all__ = ["CaptureFacts", "Counted"]


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
