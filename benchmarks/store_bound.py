"""What one SQLite row per conversation costs at the least, against a throughput target.

    taskset -c 1 .venv/bin/python benchmarks/store_bound.py \
        /tmp/otseam-bench/many-conversations-1000000c-125000h.pcap --target 1000000

Decodes the capture as the ingest does (the walk and adding up), builds the
conversation rows as the store writer does, then puts those rows, already
made, into the conversations table of a new SQLite store with a plain
INSERT through the driver's ``executemany`` (no merge, no other table: the
cheapest way Python's sqlite3 has), and commits. It prints each step and
how much of the target's time budget (packets / target) is left for
everything else the ingest must do: hosts, bindings, stations, protocol
roles, operations, identities, the asset rebuild, interpreter start-up.
A diagnostic beside the benchmark: it measures a lower bound of the design,
not otseam's ingest.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from otseam.collector import map_large_blocks
from otseam.decode.engine import FrameDecoder
from otseam.sources.capture import CaptureSource, decode_capture, expand
from otseam.store.database import open_store
from otseam.store.writer import _conversation_columns, _conversation_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--target", type=float, default=1_000_000, help="packets/s")
    args = parser.parse_args()
    map_large_blocks()  # as the ingest command does
    source = next(s for s in expand([str(args.capture)]) if isinstance(s, CaptureSource))
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()
    facts = decode_capture(source, FrameDecoder())
    steps.append(("decode (walk and adding up)", time.perf_counter() - started))
    mark = time.perf_counter()
    rows = [row for batch in _conversation_rows(facts) for row in batch]
    steps.append((f"build {len(rows):,} conversation rows", time.perf_counter() - mark))
    columns = _conversation_columns()
    insert = (
        f"INSERT INTO conversations ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(str(Path(tmp) / "bound.db"))
        with engine.connect() as conn:
            cursor = conn.connection.cursor()
            mark = time.perf_counter()
            cursor.execute("BEGIN")
            cursor.executemany(insert, rows)
            steps.append(("SQLite INSERT of the rows", time.perf_counter() - mark))
            mark = time.perf_counter()
            cursor.execute("COMMIT")
            steps.append(("commit", time.perf_counter() - mark))
        engine.dispose()
    budget = facts.packets / args.target
    spent = sum(seconds for _, seconds in steps)
    for name, seconds in steps:
        print(f"{name:<40} {seconds:6.2f} s")
    print(f"{'sum':<40} {spent:6.2f} s")
    print(
        f"budget at {args.target:,.0f} packets/s for {facts.packets:,} packets: {budget:.2f} s; "
        f"left for everything else: {budget - spent:.2f} s"
    )


if __name__ == "__main__":
    main()
