"""Ingest: captures in, merged facts and rebuilt assets in the store.

One capture is one transaction: its facts and the asset rebuild commit
together or not at all, so an interrupted ingest (Ctrl-C, kill) leaves the
store exactly as it was before that capture. A capture already in the store
(same content hash) changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from otseam.analysis.assets import rebuild_assets
from otseam.collector import collector_paused, return_free_memory
from otseam.decode.engine import FrameDecoder
from otseam.errors import CaptureError, StoreError
from otseam.sources.capture import CaptureSource, decode_capture, expand
from otseam.sources.problems import Problem
from otseam.store.database import describe_error
from otseam.store.writer import capture_known, write_capture

__all__ = ["CaptureOutcome", "IngestProgress", "IngestReport", "ingest"]

Status = Literal["ingested", "already ingested", "not read"]


class IngestProgress(Protocol):
    """What a progress display is told; the CLI draws it, tests may record it."""

    def start(self, name: str, size: int | None) -> None: ...
    def advance(self, position: int, packets: int) -> None: ...
    def stage(self, text: str) -> None: ...  # after the read: what is being done now
    def finish(self, name: str) -> None: ...


@dataclass(slots=True)
class CaptureOutcome:
    """What became of one capture."""

    name: str
    status: Status
    packets: int = 0
    size: int = 0
    conversations: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class IngestReport:
    """The whole run: one outcome per capture, plus problems finding them."""

    outcomes: list[CaptureOutcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(p for o in self.outcomes for p in o.problems)]

    @property
    def clean(self) -> bool:
        return not self.all_problems


def ingest(
    paths: Sequence[str],
    engine: Engine,
    progress: IngestProgress | None = None,
    strict: bool = False,
) -> IngestReport:
    """Read every capture under ``paths`` into the store behind ``engine``."""
    report = IngestReport()
    for item in expand(paths):
        if isinstance(item, Problem):
            report.problems.append(item)
            continue
        with collector_paused():  # millions of short-lived acyclic objects
            outcome = _ingest_one(item, engine, FrameDecoder(strict=strict), progress)
        report.outcomes.append(outcome)
    return report


def _ingest_one(
    source: CaptureSource, engine: Engine, decoder: FrameDecoder, progress: IngestProgress | None
) -> CaptureOutcome:
    started = time.perf_counter()
    if progress is not None:
        progress.start(source.name, source.size)

    def on_progress(position: int) -> None:
        if progress is not None:
            progress.advance(position, decoder.walker.counters()[0][0])

    try:
        try:
            stage = progress.stage if progress is not None else None
            facts = decode_capture(source, decoder, on_progress, stage)  # frees the walker's tables
        except CaptureError as exc:
            return CaptureOutcome(
                source.name,
                "not read",
                problems=[Problem(source.name, _reason(exc, source.name), fatal=True)],
            )
        outcome = CaptureOutcome(
            source.name,
            "ingested",
            facts.packets,
            facts.size,
            len(facts.conversations),
            problems=facts.problems,
        )
        try:
            with engine.begin() as conn:
                if capture_known(conn, facts.content_hash):
                    outcome.status = "already ingested"
                else:
                    if progress is not None:
                        progress.stage(f"storing {len(facts.conversations):,} conversations")
                    write_capture(conn, facts, _store_steps(progress))
                    del facts  # stored: the rebuild reads the store, not these
                    return_free_memory()  # ...and its peak does not stack on theirs
                    rebuild_assets(conn, _rebuild_steps(progress))
        except SQLAlchemyError as exc:
            reason = describe_error(exc)
            raise StoreError(
                f"{source.name}: could not be stored, nothing of it was kept: {reason}"
            ) from exc
        outcome.seconds = time.perf_counter() - started
        return outcome
    finally:
        if progress is not None:
            progress.finish(source.name)


def _store_steps(progress: IngestProgress | None) -> Callable[[str, int], None] | None:
    """Rows written per table, as stages of the progress display."""
    if progress is None:
        return None

    def step(table: str, rows: int) -> None:
        noun = "row" if rows == 1 else "rows"
        progress.stage(f"storing {table.replace('_', ' ')}: {rows:,} {noun}")

    return step


def _rebuild_steps(progress: IngestProgress | None) -> Callable[[str], None] | None:
    """The asset rebuild's steps, as stages of the progress display."""
    if progress is None:
        return None
    return lambda step: progress.stage(f"rebuilding assets: {step}")


def _reason(exc: CaptureError, name: str) -> str:
    return str(exc).removeprefix(f"{name}: ")
