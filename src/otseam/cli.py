"""The otseam command line: parse arguments, call the library, print.

Exit status: 0 everything read; 1 an error (nothing or not everything could
be done, the message says why); 2 a usage error; 3 partial success (some
files, records or blocks were damaged or skipped; the rest was stored);
130 interrupted (the capture being read was not stored).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click
from rich.console import Console
from rich.markup import escape

# numpy's OpenBLAS starts a busy-waiting thread per core when it is
# imported; otseam does no linear algebra, and on a pinned or busy core
# those threads only take time from the ingest.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from otseam import __version__
from otseam.collector import collector_paused
from otseam.errors import OtseamError

if TYPE_CHECKING:
    from otseam.progress import RichProgress

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PARTIAL", "cli", "main"]

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_PARTIAL: Final = 3
EXIT_INTERRUPTED: Final = 130
FORMATS: Final = click.Choice(["table", "csv", "json"])
# What an inventory table shows, in order (`assets` adds the serial number).
INVENTORY_COLUMNS: Final = (
    "id", "ips", "macs", "mac_vendor", "vendor", "product", "firmware", "role", "protocols",
)  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])
# Piped output is read by people in files and logs too: do not squeeze it to 80 columns.
_PIPE_WIDTH: Final = 160
out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else _PIPE_WIDTH)
err = Console(stderr=True, width=None if sys.stderr.isatty() else _PIPE_WIDTH)


def db_option(func: F) -> F:
    return click.option(
        "--db",
        envvar="OTSEAM_DB",
        default="otseam.db",
        show_default=True,
        help="SQLite file or database URL (postgresql://user@host/db); env OTSEAM_DB.",
    )(func)


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=FORMATS,
        default="table",
        show_default=True,
        help="A table for people, or CSV or JSON for programs.",
    )(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="otseam")
def cli() -> None:
    """See and guard the seam between the plant (OT) network and corporate IT."""


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option("--strict", is_flag=True, help="Stop on the first dissector error (debugging).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def ingest(paths: tuple[str, ...], db: str, strict: bool, quiet: bool) -> None:
    """Read captures (pcap, pcapng, gzip; files, directories, '-' for stdin)."""
    from otseam.collector import map_large_blocks
    from otseam.ingest import ingest as run
    from otseam.store.database import open_store

    map_large_blocks()  # a million conversations' arrays go back to the system when freed
    engine = open_store(db)
    progress: RichProgress | None = None
    if err.is_terminal and not quiet:
        from otseam.progress import RichProgress  # only here: rich.progress takes 7 ms to load

        progress = RichProgress(err)
    try:
        report = run(list(paths), engine, progress, strict=strict)
    finally:
        if progress is not None:
            progress.close()
    from otseam.summary import print_ingest_summary

    print_ingest_summary(out, report, engine)
    if not any(o.status != "not read" for o in report.outcomes):
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK if report.clean else EXIT_PARTIAL)


@cli.command()
@db_option
@click.option("--role", help="Only assets of this role (plc, hmi, network_device, unknown...).")
@click.option("--address", help="Only the asset holding this IP or MAC.")
@click.option("--protocol", help="Only assets speaking this protocol (modbus, enip...).")
@format_option
def assets(db: str, role: str | None, address: str | None, protocol: str | None, fmt: str) -> None:
    """The asset inventory."""
    from otseam.store.database import open_store
    from otseam.store.queries import asset_rows

    with open_store(db).connect() as conn:
        rows = asset_rows(conn, role=role, address=address, protocol=protocol)
    _emit("Assets", [*INVENTORY_COLUMNS[:7], "serial", *INVENTORY_COLUMNS[7:]], rows, fmt)


@cli.command()
@db_option
@click.option("--address", help="Only conversations with this IP address.")
@click.option("--port", type=int, help="Only conversations on this port.")
@click.option(
    "--transport",
    type=click.Choice(["tcp", "udp", "icmp", "icmp6"]),
    help="Only conversations over this transport.",
)
@click.option("--app", "app_protocol", help="Only this application protocol (modbus, enip...).")
@click.option("--limit", type=int, help="At most this many (busiest first); tables show 50.")
@format_option
def flows(
    db: str,
    address: str | None,
    port: int | None,
    transport: str | None,
    app_protocol: str | None,
    limit: int | None,
    fmt: str,
) -> None:
    """Conversations between endpoints, busiest first."""
    from otseam.store.database import open_store
    from otseam.store.queries import FlowFilter, flow_rows

    if limit is None and fmt == "table":
        limit = 50
    with open_store(db).connect() as conn:
        rows = flow_rows(conn, FlowFilter(address, port, transport, app_protocol, limit))
    for row in rows:
        row["packets"] = row["a_to_b_packets"] + row["b_to_a_packets"]
        row["bytes"] = row["a_to_b_bytes"] + row["b_to_a_bytes"]
    columns = [
        "transport",
        "a",
        "a_port",
        "b",
        "b_port",
        "initiator",
        "packets",
        "bytes",
        "app_protocol",
    ]
    if fmt != "table":
        columns += [
            "a_to_b_packets",
            "b_to_a_packets",
            "a_to_b_bytes",
            "b_to_a_bytes",
            "first_seen",
            "last_seen",
        ]
    _emit("Conversations", columns, rows, fmt)


@cli.command()
@db_option
@format_option
def operations(db: str, fmt: str) -> None:
    """Operations one device asked of another (reads, writes, stops...)."""
    from otseam.store.database import open_store
    from otseam.store.queries import operation_rows

    with open_store(db).connect() as conn:
        rows = operation_rows(conn)
    columns = ["src", "dst", "protocol", "operation", "code", "code_name", "exception", "count"]
    _emit("Operations", columns, rows, fmt)


@cli.command()
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json"]),
    default="json",
    show_default=True,
    help="Output format (docs/export.md describes the JSON document).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option(
    "--site",
    "site_file",
    envvar="OTSEAM_SITE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The site file (docs/site.md); env OTSEAM_SITE. Without one, zones are proposed.",
)
def export(db: str, fmt: str, output: Path | None, site_file: Path | None) -> None:
    """The whole model as JSON, with zones, conduits, channels and findings (docs/export.md)."""
    from otseam.analysis.convergence import analyse
    from otseam.cli_convergence import load_site_options
    from otseam.reports.convergence import convergence_sections
    from otseam.reports.export import export_model
    from otseam.reports.tables import render_json
    from otseam.store.database import open_store

    site = load_site_options(site_file, ())
    with open_store(db).begin() as conn:
        model = export_model(conn)
        model.update(convergence_sections(analyse(conn, site)))
        text = render_json(model)
    if output is None:
        click.echo(text)
    else:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise OtseamError(f"cannot write {output}: {exc.strerror or exc}") from exc
        err.print(f"wrote {output}", highlight=False, markup=False, soft_wrap=True)


@cli.command()
@db_option
def demo(db: str) -> None:
    """Ingest the bundled sample plant capture; show the inventory, findings and checklist."""
    from otseam.analysis.convergence import analyse
    from otseam.analysis.questions import answer_questions
    from otseam.ingest import ingest as run
    from otseam.reports.convergence import finding_rows
    from otseam.reports.questions import print_questions
    from otseam.site.load import load_site
    from otseam.store.database import open_store
    from otseam.store.queries import asset_rows
    from otseam.summary import print_ingest_summary

    sample = resources.files("otseam") / "data" / "sample"
    with resources.as_file(sample) as folder:
        path, site_file = folder / "plant.pcap", folder / "site.yaml"
        if not path.exists() or not site_file.exists():
            raise OtseamError(f"the bundled sample in {folder} is incomplete; reinstall otseam")
        engine = open_store(db)
        out.print(f"[bold]otseam demo[/bold]: ingesting the bundled sample {path.name} into {db}")
        report = run([str(path)], engine)
        site = load_site(site_file)
    print_ingest_summary(out, report, engine)
    with engine.begin() as conn:
        rows = asset_rows(conn)
        conv = analyse(conn, site)
    _emit("Inventory", list(INVENTORY_COLUMNS), rows, "table")
    columns = ["severity", "kind", "title", "owners"]
    _emit("Findings (site file: site.yaml)", columns, finding_rows(conv), "table")
    print_questions(out, answer_questions(conv))
    out.print(
        "More: otseam zones | map | channels | owners | findings | questions "
        f"--db {db} --site {site_file}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@cli.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="ARGS")
def lab(args: tuple[str, ...]) -> None:
    """Build the plant lab and record it (root; see docs/lab.md): lab run|check|cleanup."""
    try:
        from otseam.lab.__main__ import main as lab_main
    except ImportError as exc:
        raise OtseamError(
            f"the plant lab needs its extra dependencies: pip install 'otseam[lab]' ({exc})"
        ) from exc
    sys.exit(lab_main(list(args)))


def _emit(title: str, columns: list[str], rows: list[dict[str, Any]], fmt: str) -> None:
    from otseam.reports.tables import render_csv, render_json, rich_table

    if fmt == "json":
        click.echo(render_json(rows))
    elif fmt == "csv":
        click.echo(render_csv(columns, rows), nl=False)
    else:
        out.print(rich_table(f"{title} ({len(rows)})", columns, rows))


import otseam.cli_convergence  # noqa: E402, F401  (registers the convergence commands)


def main() -> None:
    """Console entry point: errors become one clear line, never a traceback."""
    # psycopg logs a warning when Ctrl-C cancels a statement mid-pipeline; the
    # user is told what happened by the line below, not by a library's log.
    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    try:
        # Every command is one bounded job whose objects are acyclic: the
        # cyclic collector would only rescan imports and bulk data.
        with collector_paused():
            try:
                cli.main(standalone_mode=False)
            finally:
                # before the collector is back on: its first pass would scan
                # every object the command made (30 ms after an ingest)
                _leave_quickly()
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        # click turns Ctrl-C inside a command into Abort, with the KeyboardInterrupt as cause
        if isinstance(exc, KeyboardInterrupt) or isinstance(exc.__cause__, KeyboardInterrupt):
            err.print(
                "interrupted: the capture being read was not stored; "
                "captures finished before it were",
                highlight=False,
                soft_wrap=True,
            )
        else:
            err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except OtseamError as exc:
        # one line, however long: a message may hold a driver's line breaks or brackets
        message = escape(" ".join(str(exc).split()))
        err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
        sys.exit(EXIT_ERROR)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(EXIT_OK)


def _leave_quickly() -> None:
    """After a command, while the collector is still paused: close the
    stores it opened, then freeze what is left, so that neither the
    collector's first pass once it is back on nor the interpreter's exit
    scans every imported module and object (30 and 70 ms of a one-second
    ingest). The stores are closed first: frozen, their connections would
    never be finalized and SQLite's write-ahead log would stay beside the
    file."""
    database = sys.modules.get("otseam.store.database")
    if database is not None:
        database.close_stores()
    gc.freeze()
