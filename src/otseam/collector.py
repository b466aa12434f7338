"""Bulk work without CPython's cyclic garbage collector.

Decoding a capture, storing it and analysing the store make millions of
small tuples, lists and dicts that stay alive until the stretch of work
ends. The cyclic collector scans the live containers again and again as
they pile up (seconds for a million conversations), though none of them is
part of a reference cycle: reference counting frees them as usual.
``collector_paused`` switches the cyclic collector off for such a stretch
and restores it afterwards, also when the work fails. The command line runs
every command inside it (a command is one bounded job; its imports alone
made the collector run for 50 ms); the library entry points ``ingest`` and
``analyse`` use it too, for callers other than the command line.

``return_free_memory`` hands the pages the C allocator keeps free back to
the system between two stages: after a million conversations are stored,
the small objects that carried them are freed, but glibc keeps most of
their pages (320 MiB), and the asset rebuild's own peak would stack on them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "return_free_memory"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the ``with`` block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def return_free_memory() -> None:
    """Give free heap pages back to the system (glibc ``malloc_trim``; a
    no-op with another C library). About 2 ms."""
    import ctypes  # only here: the command line does not need it otherwise

    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)
