"""Decoding a capture while keeping the walker's message groups.

The decoder frees the walker's tables as soon as ``finish`` has copied what
it needs; tests of the grouping itself read the groups just before that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from otseam.decode.engine import FrameDecoder
from otseam.decode.layout import GROUP
from otseam.model.capture import CaptureFacts
from otseam.sources.capture import CaptureSource, decode_capture


def decode_keeping_groups(path: Path) -> tuple[CaptureFacts, np.ndarray]:
    """The facts of the capture at ``path`` and its message groups."""
    decoder = FrameDecoder(strict=True)
    kept: list[np.ndarray] = []
    release = decoder.release

    def keep_then_release() -> None:
        kept.append(np.frombuffer(decoder.walker.groups(), dtype=GROUP))
        release()

    decoder.release = keep_then_release  # type: ignore[method-assign]
    facts = decode_capture(CaptureSource(str(path), path, path.stat().st_size), decoder)
    return facts, kept[0]
