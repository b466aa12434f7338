"""Ingest benchmark: `otseam ingest` against tshark and capinfos on two large captures.

    .venv/bin/python benchmarks/ingest_bench.py --quick          # smoke run, ~1 min
    .venv/bin/python benchmarks/ingest_bench.py --json bench.json
    .venv/bin/python benchmarks/ingest_bench.py --flatness --large-gb 4

Captures are built once in --work-dir (never inside the repository) and
reused. Every tool runs as a child process, pinned to one CPU unless
--no-pin, and is measured for wall time, CPU time and peak RSS. See
docs/benchmarks.md for what each capture holds and the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench_captures import Capture, CaptureShelf, say
from child_run import ChildRun, run_child

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("otseam", "tshark", "capinfos")
CAPTURES = ("replay", "many-conversations")
TARGET_PPS = {"replay": 2_000_000, "many-conversations": 1_000_000}
TARGET_RSS_MIB = 300
DEFAULT_SEED = 20_240_601


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/otseam-bench"))
    parser.add_argument("--quick", action="store_true", help="small captures for a smoke run")
    parser.add_argument("--packets", type=int, help="replay packets (default 2,000,000)")
    parser.add_argument("--conversations", type=int, help="synthetic conversations (1,000,000)")
    parser.add_argument("--hosts", type=int, help="synthetic hosts (default 125,000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--captures", default=",".join(CAPTURES), help="comma-separated subset")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; best time kept")
    parser.add_argument("--otseam", type=Path, help="otseam executable (default: next to python)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin children to one CPU")
    parser.add_argument("--rebuild", action="store_true", help="rebuild captures even if cached")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--flatness", action="store_true", help="otseam RSS: 10 MB vs large")
    parser.add_argument("--large-gb", type=float, default=4.0, help="size of the large capture")
    args = parser.parse_args(argv)
    args.packets = args.packets or (200_000 if args.quick else 2_000_000)
    args.conversations = args.conversations or (50_000 if args.quick else 1_000_000)
    args.hosts = args.hosts or (10_000 if args.quick else 125_000)
    args.captures = [c for c in args.captures.split(",") if c]
    args.tools = [t for t in args.tools.split(",") if t]
    unknown = set(args.captures) - set(CAPTURES) | set(args.tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown capture or tool: {', '.join(sorted(unknown))}")
    return args


def corpus_dir() -> Path:
    """OTSEAM_CORPUS, else ../shared/corpus; a relative path is taken from the repo root."""
    path = Path(os.environ.get("OTSEAM_CORPUS") or "../shared/corpus")
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


def tool_command(tool: str, capture: Capture, args: argparse.Namespace) -> list[str] | str:
    """The command line for `tool`, or why it cannot run here."""
    if tool == "otseam":
        exe = args.otseam or Path(sys.executable).parent / "otseam"
        if not exe.exists():
            return f"otseam not installed ({exe} missing)"
        db = args.work_dir / "db" / f"{capture.name}.sqlite"
        return [str(exe), "ingest", "--db", str(db), str(capture.path)]
    found = shutil.which(tool)
    if found is None:
        return f"{tool} not installed"
    if tool == "tshark":
        return [found, "-q", "-z", "conv,ip", "-r", str(capture.path)]
    return [found, "-M", "-c", str(capture.path)]


def warm_bytecode(args: argparse.Namespace) -> None:
    """otseam is measured as installed, with its modules' bytecode cached (a
    wheel install compiles it; an editable one writes it on the first run).
    A shell with PYTHONDONTWRITEBYTECODE set would otherwise have every run
    compile otseam's seventy modules again (about 80 ms a run): the setting
    is dropped for the children, and one small ingest writes the caches."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sample = REPO_ROOT / "src" / "otseam" / "data" / "sample" / "plant.pcap"
    exe = args.otseam or Path(sys.executable).parent / "otseam"
    if exe.exists() and sample.exists():
        db = args.work_dir / "db" / "warm-bytecode.sqlite"
        fresh_database(["--db", str(db)])
        subprocess.run([str(exe), "ingest", "--db", str(db), str(sample)], capture_output=True)
        fresh_database(["--db", str(db)])


def warm_page_cache(capture: Capture) -> None:
    """Flush pending writes, then read the file once so every tool starts equally warm."""
    os.sync()
    with open(capture.path, "rb", buffering=0) as f:
        while f.read(16 << 20):
            pass


def fresh_database(argv: list[str]) -> None:
    db = Path(argv[argv.index("--db") + 1])
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def tool_note(tool: str, capture: Capture, run: ChildRun, argv: list[str]) -> str:
    """What the tool's own output says about the capture, checked against what we built."""
    if tool == "capinfos":
        found = re.search(r"Number of packets:\s+(\d+)", run.stdout_path.read_text())
        counted = int(found.group(1)) if found else -1
        return "count ok" if counted == capture.packets else f"capinfos counted {counted}"
    if tool == "tshark":
        with open(run.stdout_path, "rb") as out:
            pairs = sum(1 for line in out if b"<->" in line)
        return f"{pairs:,} IP pairs"
    db = Path(argv[argv.index("--db") + 1])
    return f"db {db.stat().st_size / 1e6 if db.exists() else 0.0:.0f} MB"


def target_verdict(capture: Capture, packets_per_s: float, peak_rss_mib: float) -> str:
    target = TARGET_PPS[capture.kind]
    met = packets_per_s >= target and peak_rss_mib <= TARGET_RSS_MIB
    verdict = "met" if met else "missed"
    return f"target {target / 1e6:.0f}M pkt/s, {TARGET_RSS_MIB} MiB: {verdict}"


def measure(
    tool: str, capture: Capture, args: argparse.Namespace, cpu: int | None
) -> dict[str, Any]:
    row: dict[str, Any] = {"capture": capture.name, "packets": capture.packets}
    row |= {"mb": round(capture.megabytes, 1), "tool": tool}
    command = tool_command(tool, capture, args)
    if isinstance(command, str):
        return row | {"status": "skipped", "note": command}
    row["command"] = command
    log_stem = args.work_dir / "logs" / f"{capture.name}-{tool}"
    runs: list[ChildRun] = []
    for attempt in range(args.repeat):
        if tool == "otseam":
            fresh_database(command)
        say(f"{capture.name}: {tool} run {attempt + 1}/{args.repeat}")
        runs.append(run_child(command, log_stem, cpu))
        if not runs[-1].ok:
            last = (runs[-1].stderr_tail.splitlines() or [""])[-1]
            failed = f"failed (exit {runs[-1].exit_code}, see {log_stem}.err)"
            return row | {"status": failed, "note": last}
    best = min(runs, key=lambda r: r.seconds)
    row |= {
        "status": "ok",
        "seconds": round(best.seconds, 3),
        "packets_per_s": round(capture.packets / best.seconds),
        "mb_per_s": round(capture.megabytes / best.seconds, 1),
        "peak_rss_mib": round(max(r.peak_rss_mib for r in runs), 1),
        "cpu_seconds": round(best.cpu_seconds, 3),
        "all_seconds": [round(r.seconds, 3) for r in runs],
        "rss_source": best.rss_source,
        "note": tool_note(tool, capture, best, command),
    }
    if tool == "otseam":
        verdict = target_verdict(capture, row["packets_per_s"], row["peak_rss_mib"])
        row["note"] += "; " + verdict
    return row


HEADER = ("capture", "packets", "MB", "tool", "seconds", "packets/s", "MB/s", "peak RSS MiB")


def print_table(rows: list[dict[str, Any]]) -> None:
    lines = [(*HEADER, "CPU s", "note")]
    for r in rows:
        base = (r["capture"], f"{r['packets']:,}", f"{r['mb']:,.0f}", r["tool"])
        if r["status"] != "ok":
            lines.append((*base, "-", "-", "-", "-", "-", f"{r['status']}: {r['note']}"))
            continue
        figures = (f"{r['seconds']:.2f}", f"{r['packets_per_s']:,}", f"{r['mb_per_s']:,.1f}")
        lines.append(
            (*base, *figures, f"{r['peak_rss_mib']:,.1f}", f"{r['cpu_seconds']:.2f}", r["note"])
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for index, line in enumerate(lines):
        cells = [
            c.ljust(w) if i in (0, 3, 9) else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def run_flatness(shelf: CaptureShelf, args: argparse.Namespace, cpu: int | None) -> dict[str, Any]:
    """otseam's peak RSS on a ~10 MB slice and on a --large-gb capture, side by side."""
    large_name = f"replay-{args.large_gb:g}GB"
    large_bytes = int(args.large_gb * 1e9)
    say(f"WARNING: --flatness writes a {args.large_gb:g} GB capture to {args.work_dir}")
    if not shelf.has_room_for(large_name, large_bytes):
        say("flatness: not enough free disk space, skipped")
        return {"status": "skipped: not enough disk space"}
    small = shelf.replay("replay-10MB", None, 10_000_000)
    large = shelf.replay(large_name, None, large_bytes)
    rows = []
    for capture in (small, large):
        warm_page_cache(capture)
        rows.append(measure("otseam", capture, args, cpu))
    print("\nmemory flatness (otseam ingest):")
    for r in rows:
        rss = f"{r['peak_rss_mib']:8.1f} MiB" if r["status"] == "ok" else r["note"]
        print(f"  {r['capture']:<14} {r['packets']:>12,} packets {r['mb']:>9,.0f} MB  {rss}")
    if all(r["status"] == "ok" for r in rows):
        growth = rows[1]["peak_rss_mib"] / rows[0]["peak_rss_mib"] - 1
        print(f"  growth {growth:+.1%} (target: flat, <= {TARGET_RSS_MIB} MiB)")
    return {"status": "done", "rows": rows}


def host_info() -> dict[str, Any]:
    cpu = ""
    with open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if "model name" in line), "")
    tshark = shutil.which("tshark")
    version = ""
    if tshark:
        version = subprocess.run([tshark, "--version"], capture_output=True, text=True).stdout
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tshark": version.splitlines()[0] if version else None,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work_dir = args.work_dir.resolve()
    if args.work_dir.is_relative_to(REPO_ROOT):
        raise SystemExit(f"--work-dir {args.work_dir} is inside the repository; pick another")
    args.work_dir.mkdir(parents=True, exist_ok=True)
    cpu = None if args.no_pin else min(os.sched_getaffinity(0))
    if "otseam" in args.tools:
        warm_bytecode(args)
    shelf = CaptureShelf(args.work_dir, corpus_dir(), args.rebuild)
    captures: list[Capture] = []
    if "replay" in args.captures:
        captures.append(shelf.replay(f"replay-{args.packets}p", args.packets, None))
    if "many-conversations" in args.captures:
        name = f"many-conversations-{args.conversations}c-{args.hosts}h"
        captures.append(shelf.conversations(name, args.conversations, args.hosts, args.seed))
    rows: list[dict[str, Any]] = []
    for capture in captures:
        warm_page_cache(capture)
        rows.extend(measure(tool, capture, args, cpu) for tool in args.tools)
    print()
    print_table(rows)
    sys.stdout.flush()
    flatness = run_flatness(shelf, args, cpu) if args.flatness else None
    if args.json:
        report = {
            "host": host_info(),
            "pinned_cpu": cpu,
            "targets": {"packets_per_s": TARGET_PPS, "peak_rss_mib": TARGET_RSS_MIB},
            "captures": [asdict(c) | {"path": str(c.path)} for c in captures],
            "results": rows,
            "flatness": flatness,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        say(f"results written to {args.json}")
    return 1 if any(r["status"].startswith("failed") for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
