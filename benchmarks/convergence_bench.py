"""Time the convergence analysis (zones, conduits, channels, findings) on a store.

Usage:
    python benchmarks/convergence_bench.py --db /tmp/big.db [--capture FILE] [--site site.yaml]

With ``--capture`` the capture is ingested into ``--db`` first (if the store
has no capture yet). It prints the store's size, the analysis time, the
findings by kind and the peak memory of this process.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from otseam.analysis.convergence import analyse
from otseam.ingest import ingest
from otseam.site.load import load_site
from otseam.site.model import Site
from otseam.store.database import open_store
from otseam.store.schema import assets, captures, conversations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--capture", type=Path)
    parser.add_argument("--site", type=Path)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    engine = open_store(args.db)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(captures)).scalar_one()
    if args.capture and not stored:
        start = time.perf_counter()
        ingest([str(args.capture)], engine)
        print(f"ingested {args.capture} in {time.perf_counter() - start:.1f} s")
    site = load_site(args.site) if args.site else Site()
    with engine.connect() as conn:
        n_conv = conn.execute(select(func.count()).select_from(conversations)).scalar_one()
        n_assets = conn.execute(select(func.count()).select_from(assets)).scalar_one()
    start = time.perf_counter()
    with engine.begin() as conn:
        result = analyse(conn, site)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kinds = Counter(f.kind for f in result.findings)
    figures = {
        "conversations": n_conv,
        "assets": n_assets,
        "zones": len(result.zones),
        "findings": len(result.findings),
        "by_kind": dict(kinds),
        "seconds": round(seconds, 2),
        "conversations_per_s": round(n_conv / seconds),
        "peak_rss_mib": round(peak, 1),
    }
    for key, value in figures.items():
        print(f"{key:>20}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
