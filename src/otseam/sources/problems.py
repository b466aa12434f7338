"""What went wrong while reading a capture, said so a person can act on it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "count", "plural"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One damaged, skipped or unreadable thing, with where it is.

    ``fatal`` problems mean the file (or the rest of it) was not read;
    the others were counted and reading went on.
    """

    source: str
    message: str
    offset: int | None = None
    fatal: bool = False
    count: int = 1

    def __str__(self) -> str:
        where = f" at byte {self.offset}" if self.offset is not None else ""
        return f"{self.source}{where}: {self.message}"


def count(n: int, noun: str) -> str:
    """'1 record is' or '3 records are': a count with its noun and verb agreeing."""
    return f"{n} {noun} is" if n == 1 else f"{n} {noun}s are"


def plural(n: int, noun: str) -> str:
    """'1 packet' or '2 packets'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
