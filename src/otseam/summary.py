"""The summary printed after an ingest."""

from __future__ import annotations

from typing import Final

from rich.console import Console
from sqlalchemy.engine import Engine

from otseam.ingest import IngestReport
from otseam.store.queries import totals

__all__ = ["print_ingest_summary"]

MAX_PROBLEMS_SHOWN: Final = 25


def print_ingest_summary(console: Console, report: IngestReport, engine: Engine) -> None:
    """Files, packets, problems with reasons, then what the store holds."""
    outcomes = report.outcomes
    read = [o for o in outcomes if o.status == "ingested"]
    again = [o for o in outcomes if o.status == "already ingested"]
    unread = [o for o in outcomes if o.status == "not read"]
    packets = sum(o.packets for o in read)
    size = sum(o.size for o in read)
    seconds = sum(o.seconds for o in read)
    rate = f", {packets / seconds:,.0f} packets/s" if seconds > 0 and packets else ""
    console.print(
        f"[bold]files[/bold]: {len(read)} ingested, {len(again)} already in the store, "
        f"{len(unread) + len([p for p in report.problems if p.fatal])} not read",
        soft_wrap=True,
    )
    console.print(f"[bold]packets[/bold]: {packets:,} ({size / 1e6:.1f} MB){rate}")
    problems = report.all_problems
    if problems:
        console.print(f"[yellow]problems[/yellow] ({len(problems)}):")
        for problem in problems[:MAX_PROBLEMS_SHOWN]:
            # One line each, however long: logs and scripts read them line by line.
            console.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
        if len(problems) > MAX_PROBLEMS_SHOWN:
            console.print(f"  … and {len(problems) - MAX_PROBLEMS_SHOWN} more")
    with engine.connect() as conn:
        held = totals(conn)
    console.print(
        f"[bold]store[/bold]: {held['captures']} captures, {held['packets']:,} packets, "
        f"{held['conversations']:,} conversations, {held['hosts']:,} hosts, "
        f"{held['assets']:,} assets, {held['operations']:,} operation kinds",
        soft_wrap=True,
    )
