"""What the ingest tells a progress display: the read as it advances, then
the stages that follow it (storing, rebuilding assets), so that a large
capture's minutes in the store never look like a hang."""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select

from otseam.ingest import ingest
from otseam.progress import RichProgress
from otseam.store.database import open_store
from otseam.store.schema import metadata

SAMPLE = Path(str(resources.files("otseam") / "data" / "sample")) / "plant.pcap"


class Recorder:
    """An ``IngestProgress`` that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def start(self, name: str, size: int | None) -> None:
        self.calls.append(("start", size))

    def advance(self, position: int, packets: int) -> None:
        self.calls.append(("advance", packets))

    def stage(self, text: str) -> None:
        self.calls.append(("stage", text))

    def finish(self, name: str) -> None:
        self.calls.append(("finish", name))


def test_stages_follow_the_read(tmp_path: Path) -> None:
    recorder = Recorder()
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(SAMPLE)], engine, recorder)
    # a capture this small is read in one window: no advance before the end
    calls = [call for call in recorder.calls if call[0] != "advance"]
    assert calls[0] == ("start", SAMPLE.stat().st_size)
    assert calls[-1] == ("finish", str(SAMPLE))
    stages = [str(text) for kind, text in calls if kind == "stage"]
    store_steps = [s for s in stages if s.startswith("storing ") and ": " in s]
    assert stages == [
        "adding up what the messages said",
        "storing 105 conversations",
        *store_steps,
        "rebuilding assets: grouping addresses into assets",
        "rebuilding assets: reading what 24 assets did",
        "rebuilding assets: deciding roles",
        "rebuilding assets: writing 24 assets",
    ]
    # a table whose rows have distinct keys (observation tables may repeat
    # one, and the store adds it up): its last count is what the store holds
    written = {s.split(":")[0].removeprefix("storing "): s for s in store_steps}
    with engine.connect() as conn:
        for table in ("conversations", "hosts", "bindings", "stations"):
            rows = conn.execute(select(func.count()).select_from(metadata.tables[table]))
            label = table.replace("_", " ")
            assert written[label] == f"storing {label}: {rows.scalar_one():,} rows"


def test_a_capture_already_stored_is_read_but_not_stored_again(tmp_path: Path) -> None:
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(SAMPLE)], engine)
    recorder = Recorder()
    ingest([str(SAMPLE)], engine, recorder)
    # its content hash is known only once it is read
    stages = [text for kind, text in recorder.calls if kind == "stage"]
    assert stages == ["adding up what the messages said"]


def test_the_bar_shows_the_stage() -> None:
    out = io.StringIO()
    bar = RichProgress(Console(file=out, force_terminal=True, width=160))
    bar.start("plant.pcap", 1000)
    bar.advance(1000, 5000)
    bar.stage("rebuilding assets")
    bar.finish("plant.pcap")
    bar.close()
    assert "rebuilding assets" in out.getvalue()
