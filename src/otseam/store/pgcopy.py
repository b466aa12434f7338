"""PostgreSQL: a capture's rows into a facts table through COPY, merged by one statement.

psycopg's ``executemany`` takes each row through Python (pipeline
bookkeeping, parameter dumping): about 20 microseconds a row, over a minute
for a capture of a million conversations. ``COPY`` streams the rows into a
temporary table of the same columns instead, and one ``INSERT ... SELECT
... ON CONFLICT DO UPDATE`` merges them into the table. Keys that come more
than once in the capture are added up first, by ``GROUP BY`` with the same
rules as the upsert (``aggregates``), in the order the rows came (``seq``):
new rows get their ids in the order ``executemany`` would have given them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

__all__ = ["copy_merge", "copy_rows"]


def copy_merge(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    keys: int,
    aggregates: Sequence[str] | None,
    sets: Sequence[str],
    batches: Iterable[list[tuple[Any, ...]]],
    on_batch: Callable[[int], None],
) -> None:
    """Merge ``batches`` of rows of ``columns`` (the first ``keys`` of them
    the unique key) into ``table``. ``aggregates`` add up one capture's
    rows of a key, one SQL expression per column after the key; None when
    every key comes once (the grouping would cost a third more on a million
    rows). ``sets`` merge the result into a stored row. ``on_batch`` is told
    each batch's size once it is sent."""
    incoming = f"incoming_{table}"
    names = ", ".join(columns)
    key = ", ".join(columns[:keys])
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {incoming} AS SELECT {names} FROM {table} WITH NO DATA"
    )
    conn.exec_driver_sql(
        f"ALTER TABLE {incoming} ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY"
    )
    cursor = conn.connection.cursor()
    try:
        with cursor.copy(f"COPY {incoming} ({names}) FROM STDIN") as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row(row)
                on_batch(len(batch))
    finally:
        cursor.close()
    if aggregates is None:
        rows = f"SELECT {names} FROM {incoming} ORDER BY seq"
    else:
        added = ", ".join(aggregates)
        rows = f"SELECT {key}, {added} FROM {incoming} GROUP BY {key} ORDER BY min(seq)"
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({names}) {rows} ON CONFLICT ({key}) DO UPDATE SET {', '.join(sets)}"
    )
    conn.exec_driver_sql(f"DROP TABLE {incoming}")


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """New rows of ``columns`` into ``table`` through COPY (no key may be
    there yet): serial ids are drawn in the order of ``rows``, as a row by
    row ``INSERT`` draws them."""
    cursor = conn.connection.cursor()
    try:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()
