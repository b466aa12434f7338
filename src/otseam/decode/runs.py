"""Adding up rows by key: one sort, then the runs of equal keys.

The rows each template makes and the store's port-role rows are added up
alike: sort the integer keys, find where each run of equal keys starts, and
reduce every column over the runs with ``np.add.reduceat`` (or ``minimum``,
``maximum``). Sums, minima and maxima do not depend on the order of rows
within a run.
"""

from __future__ import annotations

import numpy as np

__all__ = ["runs"]


def runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order that sorts ``keys``, and where each run of equal keys starts
    in it."""
    order = np.argsort(keys)
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[len(ordered) > 0, ordered[1:] != ordered[:-1]])
    return order, starts
