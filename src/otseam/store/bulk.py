"""Reading many rows fast: a query run on the driver's own cursor.

SQLAlchemy builds a ``Row`` for every row it returns, which costs more than
the database's own work when an analysis reads a million protocol roles.
``bulk_rows`` compiles the same Core ``select`` for the connection's
dialect, runs it on the DB-API cursor of the same connection (so inside the
same transaction) and yields the driver's plain tuples, a batch at a time.
For columns of plain text and integers the values are what SQLAlchemy
would have returned.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

__all__ = ["bulk_rows"]

BATCH: Final = 10_000


def bulk_rows(conn: Connection, query: Select[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query`` as tuples, read in batches of ``BATCH``."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        while batch := cursor.fetchmany(BATCH):
            yield from batch
    finally:
        cursor.close()
