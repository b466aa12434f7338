"""Memory for bulk work: no cyclic garbage collector, large blocks mapped apart.

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

``map_large_blocks`` makes every allocation of a MiB or more a mapping of
its own, handed back to the system when freed. glibc otherwise raises that
threshold to the largest block freed so far (up to 32 MiB) and keeps the
pages of freed numpy arrays in its heap, so that each stage's peak stacks
on the previous stage's leftovers: 403 MiB against 384 MiB at the peak of a
million-conversation ingest, in the same time. ``return_free_memory``
hands the pages the C allocator keeps free back to the system between two
stages: after a million conversations are stored, the small objects that
carried them are freed, but glibc keeps most of their pages (320 MiB), and
the asset rebuild's own peak would stack on them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

__all__ = ["collector_paused", "map_large_blocks", "return_free_memory"]

LARGE_BLOCK: Final = 1 << 20  # bytes: the size from which an allocation is mapped on its own


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
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)


def map_large_blocks() -> None:
    """Allocations of ``LARGE_BLOCK`` bytes or more get their own mapping,
    from now on, for the whole process (glibc ``mallopt(M_MMAP_THRESHOLD)``;
    a no-op with another C library). For a command, not a library call."""
    mallopt = _glibc("mallopt")
    if mallopt is not None:
        mallopt(-3, LARGE_BLOCK)  # -3: M_MMAP_THRESHOLD in glibc's malloc.h


def _glibc(name: str) -> Callable[..., int] | None:
    """A function of the C library the process runs on, if it has one by
    that name (glibc's allocator controls; not in musl or on macOS)."""
    import ctypes  # only here: the command line does not need it otherwise

    function: Callable[..., int] | None = getattr(ctypes.CDLL(None), name, None)
    return function
