"""Who sent and who received the messages of a group row: a conversation's
side a or b by the row's direction, or for a layer-2 row the station's MAC,
as numbers into one list of address texts shared by every row."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from otseam.decode.addresses import mac_text
from otseam.decode.layout import LAYER2, row_directions
from otseam.model.capture import CaptureFacts

__all__ = ["RowEndpoints"]


class RowEndpoints:
    """Sender and receiver numbers of group rows (``layout.GROUP_ROW``) of
    one capture; ``names`` are the texts the numbers index."""

    def __init__(self, facts: CaptureFacts, rows: Iterable[np.ndarray]) -> None:
        self._a, self._b, texts = facts.endpoints()
        self._station_mac = facts.stations["mac"]
        names: list[str] = texts.tolist()
        layer2 = [self._station_mac[r["owner"][row_directions(r) == LAYER2]] for r in rows]
        self._macs = np.unique(np.concatenate(layer2)) if layer2 else np.zeros(0, np.uint64)
        self._first_mac = len(names)
        if len(self._macs):  # then the receiver of a layer-2 frame: "" after them
            names = [*names, *(mac_text(m) for m in self._macs.tolist()), ""]
        self.names = names

    def __call__(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sender and receiver of each of ``rows``, 32-bit."""
        direction, owner = row_directions(rows), rows["owner"]
        src = np.empty(len(rows), dtype=np.int32)
        dst = np.empty(len(rows), dtype=np.int32)
        ip = direction != LAYER2
        at = owner[ip]
        forward = direction[ip] == 0
        src[ip] = np.where(forward, self._a[at], self._b[at])
        dst[ip] = np.where(forward, self._b[at], self._a[at])
        if not ip.all():
            macs = self._station_mac[owner[~ip]]
            src[~ip] = self._first_mac + np.searchsorted(self._macs, macs)
            dst[~ip] = self._first_mac + len(self._macs)
        return src, dst
