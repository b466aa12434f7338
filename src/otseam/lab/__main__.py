"""``python -m otseam.lab``: build the lab plant, record it, or clean up after it.

Subcommands:
  run      build the plant, play the scenario, write plant.pcap, truth.json, site.yaml
  cleanup  remove every ``ots-*`` namespace (and the processes inside) left behind
  check    compare a capture with its truth file using tshark
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from otseam.errors import OtseamError

__all__ = ["main"]

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(stderr=True)
    try:
        code: int = args.handler(args, console)
    except OtseamError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]interrupted; the plant was torn down[/yellow]")
        return 130
    return code


def _run(args: argparse.Namespace, console: Console) -> int:
    from otseam.lab.plants import plant_named
    from otseam.lab.runner import run_lab

    try:
        plant = plant_named(args.plant)
    except KeyError as exc:
        console.print(f"[red]error:[/red] {exc.args[0]}")
        return 2
    work = Path(args.workdir) if args.workdir else None
    result = run_lab(plant, Path(args.out), args.duration, console, work)
    console.print(
        f"[green]wrote[/green] {result.pcap} ({result.packets} packets, {result.size} bytes), "
        f"{result.truth}, {result.site}"
    )
    if args.check:
        return _report_check(result.pcap, result.truth, console)
    return 0


def _cleanup(args: argparse.Namespace, console: Console) -> int:
    from otseam.lab.fabric import cleanup

    removed = cleanup()
    console.print(
        f"removed {len(removed)} namespaces" + (f": {', '.join(removed)}" if removed else "")
    )
    return 0


def _check(args: argparse.Namespace, console: Console) -> int:
    folder = Path(args.folder)
    return _report_check(folder / "plant.pcap", folder / "truth.json", console)


def _report_check(pcap: Path, truth: Path, console: Console) -> int:
    from otseam.lab.check import check_capture

    problems = check_capture(pcap, truth)
    for problem in problems:
        console.print(f"[red]mismatch:[/red] {problem}")
    if problems:
        console.print(f"[red]{len(problems)} mismatches between {pcap} and {truth}[/red]")
        return 1
    console.print(f"[green]{pcap} agrees with {truth}[/green]")
    return 0


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="otseam lab", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="build the plant, play the scenario and capture it")
    run.add_argument("--plant", default="converged", help="plant to build (default: converged)")
    run.add_argument("--duration", type=float, default=180.0, help="scenario seconds (default 180)")
    run.add_argument("--out", default=str(SAMPLE), help=f"output folder (default {SAMPLE})")
    run.add_argument(
        "--workdir", help="folder for device logs and tap captures (default: a new temp folder)"
    )
    run.add_argument("--check", action="store_true", help="check the capture against the truth")
    run.set_defaults(handler=_run)
    clean = sub.add_parser("cleanup", help="remove ots-* namespaces left by a run")
    clean.set_defaults(handler=_cleanup)
    check = sub.add_parser("check", help="compare plant.pcap with truth.json in a folder")
    check.add_argument("folder", nargs="?", default=str(SAMPLE))
    check.set_defaults(handler=_check)
    return ap


if __name__ == "__main__":
    sys.exit(main())
