"""Where an ingest spends its time and memory: seconds and peak RSS per stage.

    .venv/bin/python benchmarks/ingest_phases.py /tmp/otseam-bench/many-conversations.pcap

Runs one ingest in this process into a new SQLite store and prints, for each
stage the ingest reports (the walk, adding up, storing, each step of the
asset rebuild) and for the commit, its wall time and the highest resident
memory sampled during it (every 5 ms). Build the
captures first with ingest_bench.py; pin with `taskset -c 1` for steady
figures. A diagnostic beside the benchmark, not a replacement for it.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import otseam.ingest
from otseam.collector import map_large_blocks
from otseam.ingest import ingest
from otseam.store.database import open_store

PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


class StageClock:
    """An IngestProgress that times each stage and samples memory beside it."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, float, float, float]] = []  # name, s, start, peak MiB
        self._name = "start"
        self._since = time.perf_counter()
        self._peak = self._start = resident_mib()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            rss = resident_mib()
            with self._lock:
                self._peak = max(self._peak, rss)

    def _next(self, name: str) -> None:
        now = time.perf_counter()
        with self._lock:
            rss = resident_mib()
            self.stages.append((self._name, now - self._since, self._start, max(self._peak, rss)))
            self._name, self._since, self._peak, self._start = name, now, rss, rss

    def start(self, name: str, size: int | None) -> None:
        self._next("walk")

    def advance(self, position: int, packets: int) -> None:
        pass

    def stage(self, text: str) -> None:
        name = re.split(r"\d", text)[0].strip(" :")  # counts in a stage's text stay in it
        if name != self._name:
            self._next(name)

    def finish(self, name: str) -> None:
        self._next("done")
        self._done.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--db", help="store URL or path (default: a new temporary SQLite file)")
    args = parser.parse_args()
    map_large_blocks()  # as the ingest command does
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(args.db or str(Path(tmp) / "phases.db"))
        clock = StageClock()
        rebuild = otseam.ingest.rebuild_assets

        def timed_rebuild(conn: Any, on_step: Any = None) -> int:
            found = rebuild(conn, on_step)
            clock.stage("commit")  # the capture's transaction ends
            return found

        otseam.ingest.rebuild_assets = timed_rebuild
        started = time.perf_counter()
        report = ingest([str(args.capture)], engine, clock)
        total = time.perf_counter() - started
        engine.dispose()
    for name, seconds, start, peak in clock.stages[1:]:
        print(f"{name:<36} {seconds:6.2f} s  from {start:6.1f} MiB, peak {peak:6.1f} MiB")
    packets = sum(o.packets for o in report.outcomes)
    print(f"{'total':<36} {total:6.2f} s  {packets / total:,.0f} packets/s")


if __name__ == "__main__":
    main()
