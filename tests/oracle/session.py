"""One object per test session that knows where tshark and the corpus are.

Its methods hand out the cached results of ``tests.oracle.tshark`` and
``tests.oracle.store``, so each capture is read by tshark and ingested by
otseam once per session, whichever test module asks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.oracle.store import StoredCapture, stored_capture
from tests.oracle.tshark import ConversationTables, FrameDump, read_conversations, read_frames

__all__ = ["Oracle"]


@dataclass(frozen=True, slots=True)
class Oracle:
    """tshark and the capture corpus, found by the fixtures of tests/conftest.py."""

    tshark: str
    corpus: Path

    def path(self, relative: str) -> Path:
        """The corpus file, or a skip naming it when this corpus lacks it."""
        path = self.corpus / relative
        if not path.is_file():
            pytest.skip(f"corpus capture {relative!r} not found under {self.corpus}")
        return path

    def frames(self, relative: str) -> FrameDump:
        return read_frames(self.tshark, self.path(relative))

    def tables(self, relative: str) -> ConversationTables:
        return read_conversations(self.tshark, self.path(relative))

    def stored(self, relative: str) -> StoredCapture:
        return stored_capture(self.path(relative))
