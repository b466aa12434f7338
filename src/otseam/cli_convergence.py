"""The convergence commands: zones, map, channels, owners, findings, questions.

Each reads the store and the site file (``--site``, or $OTSEAM_SITE; owners
and overrides may also come from spreadsheets with ``--owners``), runs the
convergence analysis, and prints a table for people or JSON for programs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from otseam.cli import cli, db_option, err, out
from otseam.errors import OtseamError, StoreError

if TYPE_CHECKING:  # the analysis and SQLAlchemy load when a command runs, not at start-up
    from otseam.model.convergence import Convergence
    from otseam.site.model import Site

__all__ = ["analyse_store", "load_site_options"]

F = TypeVar("F", bound=Callable[..., Any])
TABLE_JSON: Final = click.Choice(["table", "csv", "json"])
FINDING_COLUMNS: Final = ["id", "severity", "kind", "title", "owners", "packets", "state"]


def site_options(func: F) -> F:
    func = click.option(
        "--owners",
        "owner_sheets",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Asset owners and overrides from a CSV or XLSX sheet (repeatable; docs/site.md).",
    )(func)
    return click.option(
        "--site",
        "site_file",
        envvar="OTSEAM_SITE",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The site file (docs/site.md); env OTSEAM_SITE. Without one, zones are proposed.",
    )(func)


def format_choice(func: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=TABLE_JSON,
        default="table",
        show_default=True,
        help="A table for people, or CSV or JSON for programs.",
    )(func)


def load_site_options(site_file: Path | None, owner_sheets: tuple[Path, ...]) -> Site:
    """The Site from ``--site`` and ``--owners`` (problems in sheets are warned, not fatal)."""
    from otseam.site.load import load_site
    from otseam.site.model import Site
    from otseam.site.spreadsheet import merge_notes, merge_overrides, read_owner_sheet

    site = load_site(site_file) if site_file else Site()
    for sheet in owner_sheets:
        imported = read_owner_sheet(sheet)
        for line in (*imported.problems, *imported.notes, *merge_notes(site, imported.overrides)):
            err.print(f"[yellow]{sheet.name}:[/yellow] {line}", highlight=False, soft_wrap=True)
        site = merge_overrides(site, imported.overrides)
    return site


def analyse_store(
    db: str, site_file: Path | None, owner_sheets: tuple[Path, ...], *, edges: bool = False
) -> Convergence:
    from sqlalchemy.exc import SQLAlchemyError

    from otseam.analysis.convergence import analyse
    from otseam.store.database import describe_error, open_store

    site = load_site_options(site_file, owner_sheets)
    try:
        with open_store(db).begin() as conn:
            if not err.is_terminal:
                return analyse(conn, site, edges=edges)
            with err.status("analysing zones, conduits, channels and findings..."):
                return analyse(conn, site, edges=edges)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot analyse the store {db}: {describe_error(exc)}") from exc


def _emit(title: str, columns: list[str], rows: list[dict[str, Any]], fmt: str) -> None:
    from otseam.cli import _emit as emit

    if fmt == "table":  # people read seconds; CSV and JSON keep nanoseconds
        rows = [{k: _short_time(k, v) for k, v in row.items()} for row in rows]
    emit(title, columns, rows, fmt)


def _short_time(key: str, value: Any) -> Any:
    """'2026-11-25T22:53:22.175506000Z' -> '2026-11-25 22:53:22' for *_seen columns."""
    if key.endswith("_seen") and isinstance(value, str) and len(value) >= 19:
        return value[:10] + " " + value[11:19]
    return value


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise OtseamError(f"cannot write {output}: {exc.strerror or exc}") from exc
    err.print(f"wrote {output}", highlight=False, markup=False, soft_wrap=True)


OUTPUT: Final = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)


@cli.group(invoke_without_command=True)
@db_option
@site_options
@format_choice
@click.option("--assets", "show_assets", is_flag=True, help="List each asset's zone and level.")
@click.pass_context
def zones(
    ctx: click.Context,
    db: str,
    site_file: Path | None,
    owner_sheets: tuple[Path, ...],
    fmt: str,
    show_assets: bool,
) -> None:
    """Zones with their kind and Purdue level (from the site file, or proposed)."""
    if ctx.invoked_subcommand:
        return
    from otseam.reports.convergence import placement_rows, zone_rows

    conv = analyse_store(db, site_file, owner_sheets)
    if show_assets:
        columns = ["asset", "role", "ips", "zone", "purdue_level", "evidence"]
        _emit("Assets by zone", columns, placement_rows(conv), fmt)
        return
    columns = ["name", "kind", "purdue_level", "cidrs", "owner", "assets", "source", "evidence"]
    _emit("Zones", columns, zone_rows(conv), fmt)


@zones.command("suggest")
@db_option
@OUTPUT
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def zones_suggest(db: str, output: Path | None, force: bool) -> None:
    """Write a starter site file from what the traffic shows, for you to correct."""
    from otseam.analysis.suggest import suggested_site_text

    if output is not None and output.exists() and not force:
        raise OtseamError(f"{output} exists: give --force to overwrite it, or another --output")
    from otseam.store.database import open_store

    with open_store(db).begin() as conn:
        text = suggested_site_text(conn)
    _write(text, output)


@cli.command("map")
@db_option
@site_options
@click.option(
    "--level",
    type=click.Choice(["zone", "asset"]),
    default="zone",
    show_default=True,
    help="Zones and conduits, or assets grouped by zone.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "graphml", "svg", "dot"]),
    default="text",
    show_default=True,
    help="SVG and DOT need Graphviz for SVG.",
)
@OUTPUT
def map_command(
    db: str,
    site_file: Path | None,
    owner_sheets: tuple[Path, ...],
    level: str,
    fmt: str,
    output: Path | None,
) -> None:
    """What connects to what: zones (or assets) and the conduits between them."""
    from otseam.reports.map import render_map

    conv = analyse_store(db, site_file, owner_sheets, edges=level == "asset")
    _write(render_map(conv, level, fmt), output)  # type: ignore[arg-type]


@cli.command()
@db_option
@site_options
@format_choice
def channels(db: str, site_file: Path | None, owner_sheets: tuple[Path, ...], fmt: str) -> None:
    """External channels found and registered: status, manager, sessions, bytes."""
    from otseam.reports.convergence import channel_rows

    conv = analyse_store(db, site_file, owner_sheets)
    columns = [
        "name",
        "kind",
        "status",
        "manager",
        "inside",
        "outside",
        "services",
        "sessions",
        "bytes",
        "first_seen",
        "last_seen",
    ]
    _emit("External channels", columns, channel_rows(conv), fmt)


@cli.command()
@db_option
@site_options
@format_choice
@click.option("--nobody", is_flag=True, help="Only what has no owner (or, for assets, no updater).")
def owners(
    db: str, site_file: Path | None, owner_sheets: tuple[Path, ...], fmt: str, nobody: bool
) -> None:
    """Who owns, updates and is notified for each asset, zone and channel."""
    from otseam.reports.convergence import owner_rows

    rows = owner_rows(analyse_store(db, site_file, owner_sheets))
    if nobody:
        rows = [r for r in rows if "NOBODY" in (r["owner"], r["updated_by"])]
    columns = ["kind", "subject", "zone", "role", "owner", "owner_source", "updated_by", "notify"]
    _emit("Responsibility", columns, rows, fmt)


@cli.group(invoke_without_command=True)
@db_option
@site_options
@format_choice
@click.option("--kind", help="Only findings of this kind (it_ot_crossing, dual_homed...).")
@click.option("--all", "show_all", is_flag=True, help="Include suppressed findings.")
@click.pass_context
def findings(
    ctx: click.Context,
    db: str,
    site_file: Path | None,
    owner_sheets: tuple[Path, ...],
    fmt: str,
    kind: str | None,
    show_all: bool,
) -> None:
    """Findings with evidence and the people responsible; ack/suppress/reopen them."""
    if ctx.invoked_subcommand:
        return
    from otseam.model.convergence import FINDING_KINDS
    from otseam.reports.convergence import finding_rows

    if kind and kind not in FINDING_KINDS:
        raise click.BadParameter(
            f"unknown kind {kind!r}; one of {', '.join(FINDING_KINDS)}", param_hint="--kind"
        )
    conv = analyse_store(db, site_file, owner_sheets)
    rows = finding_rows(conv, include_suppressed=show_all, table=fmt != "json")
    if kind:
        rows = [r for r in rows if r["kind"] == kind]
    _emit("Findings", FINDING_COLUMNS, rows, fmt)


def _state_command(state: str, verb: str) -> Callable[..., None]:
    @db_option
    @click.argument("finding_id")
    @click.option("--by", "actor", required=True, help="Who decides (a name or team).")
    @click.option(
        "--why", "reason", required=state != "open", default="", help="Why, for the record."
    )
    def command(db: str, finding_id: str, actor: str, reason: str) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from otseam.store.database import describe_error, open_store
        from otseam.store.findings import set_finding_state

        try:
            with open_store(db).begin() as conn:
                set_finding_state(conn, finding_id, state, actor, reason)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record the decision in {db}: {describe_error(exc)}") from exc
        out.print(f"{finding_id} {verb} by {actor}", highlight=False, markup=False)

    command.__doc__ = f"Mark a finding {verb}; it stays so across re-ingests."
    return command


findings.command("ack")(_state_command("acknowledged", "acknowledged"))
findings.command("suppress")(_state_command("suppressed", "suppressed"))
findings.command("reopen")(_state_command("open", "reopened"))


@cli.command()
@db_option
@site_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Text for people, JSON for programs.",
)
def questions(db: str, site_file: Path | None, owner_sheets: tuple[Path, ...], fmt: str) -> None:
    """The CIO's three questions and the four-item checklist, answered from the data."""
    from otseam.analysis.questions import answer_questions
    from otseam.reports.questions import print_questions, render_questions

    answers = answer_questions(analyse_store(db, site_file, owner_sheets))
    if fmt == "json":
        click.echo(render_questions(answers, "json"))
    else:
        print_questions(out, answers)
