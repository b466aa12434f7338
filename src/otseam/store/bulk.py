"""Reading many rows fast: a query run on the driver's own cursor.

SQLAlchemy builds a ``Row`` for every row it returns, which costs more than
the database's own work when an analysis reads a million protocol roles.
``bulk_rows`` compiles the same Core ``select`` for the connection's
dialect, runs it on the DB-API cursor of the same connection (so inside the
same transaction) and yields the driver's plain tuples, a batch at a time.
For columns of plain text and integers the values are what SQLAlchemy
would have returned.

Writing many rows in one transaction: ``page_cache`` gives SQLite a larger
page cache for a ``with`` block. The asset rebuild updates its assets by
key: with the default 2 MiB the key index spills and is read back again
(0.3 s more for 125,000 assets). 16 MiB keeps the gain; 64 MiB gained no
more and cost 48 MiB more resident memory at the rebuild's peak.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Final

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Select

__all__ = ["bulk_rows", "page_cache"]

BATCH: Final = 10_000
CACHE_MIB: Final = 16


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


@contextmanager
def page_cache(conn: Connection, mebibytes: int = CACHE_MIB) -> Iterator[None]:
    """SQLite: a page cache of ``mebibytes`` inside the block, the previous
    size after it. Other databases size their buffers themselves: no change."""
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
    conn.exec_driver_sql(f"PRAGMA cache_size = -{mebibytes * 1024}")  # negative: KiB
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):  # a broken connection: the first error counts
            conn.exec_driver_sql(f"PRAGMA cache_size = {previous}")
