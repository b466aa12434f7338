"""Once its tables outgrow the caches, the walker reads records ahead of the
one it decodes and prefetches what they will look up. That is a hint to
the cache and nothing else: with the look-ahead on from the first record,
every capture decodes to exactly what it decodes to without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from otseam.decode.engine import FrameDecoder
from otseam.errors import CaptureError
from otseam.model.capture import TABLES
from otseam.sources.capture import CaptureSource, decode_capture
from tests.conftest import ROOT

NEVER = 1 << 62  # bytes of tables: no walk looks ahead
SAMPLE = ROOT / "src" / "otseam" / "data" / "sample" / "plant.pcap"


def _decoded(path: Path, look_ahead_from: int) -> dict[str, Any]:
    """Everything the decoder made of ``path``, in comparable form."""
    decoder = FrameDecoder()
    decoder.walker.look_ahead_from(look_ahead_from)
    source = CaptureSource(str(path), path, path.stat().st_size)
    try:
        facts = decode_capture(source, decoder)
    except CaptureError as exc:
        return {"refused": str(exc)}
    found: dict[str, Any] = {
        "counters": facts.counters,
        "span": (facts.first_ns, facts.last_ns),
        "problems": [str(p) for p in facts.problems],
    }
    for name in ("conversations", "bindings", "stations"):
        table: np.ndarray = getattr(facts, name)
        found[name] = (table.dtype.descr, table.tobytes())
    for name in TABLES:
        found[name] = {
            key: (c.count, c.first_ns, c.last_ns) for key, c in facts.counted(name).items()
        }
    return found


def test_the_sample_decodes_the_same_with_the_look_ahead() -> None:
    always = _decoded(SAMPLE, 0)
    assert always == _decoded(SAMPLE, NEVER)
    assert always["counters"]["packets"] > 1000
    assert len(always["conversations"][1]) > 0


def test_every_corpus_capture_decodes_the_same_with_the_look_ahead(corpus: Path) -> None:
    captures = sorted(
        p for p in corpus.rglob("*") if p.is_file() and p.suffix in {".pcap", ".pcapng", ".cap"}
    )
    assert len(captures) > 100
    differ = [str(p.relative_to(corpus)) for p in captures if _decoded(p, 0) != _decoded(p, NEVER)]
    assert differ == []


@pytest.mark.parametrize("size", [-1, "8"])
def test_the_threshold_is_a_size(size: Any) -> None:
    with pytest.raises((OverflowError, TypeError)):
        FrameDecoder().walker.look_ahead_from(size)
