"""Helpers for store tests: scratch PostgreSQL databases, in-process ingest,
and a full dump of every table to compare stores with."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import MetaData, Table, create_engine, inspect, select
from sqlalchemy.engine import make_url

from otseam.ingest import IngestReport, ingest
from otseam.store.database import database_url, open_store

__all__ = [
    "POSTGRES_ADMIN",
    "Dump",
    "StoreTarget",
    "dump_store",
    "hide_password",
    "ingest_into",
    "scratch_database",
]

POSTGRES_ADMIN = os.environ.get("OTSEAM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1/postgres")

Dump = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class StoreTarget:
    """One store under test: ``db`` is what ``--db`` is given."""

    backend: Literal["sqlite", "postgresql"]
    db: str
    name: str  # the SQLite file path, or the PostgreSQL database name


@contextmanager
def scratch_database(admin_url: str) -> Iterator[StoreTarget]:
    """A fresh, empty PostgreSQL database, dropped (connections and all) on exit."""
    import psycopg

    name = f"otseam_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield StoreTarget("postgresql", url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ingest_into(db: str, *paths: Path | str) -> IngestReport:
    """Ingest ``paths`` in-process (faster than the CLI) and close the store."""
    engine = open_store(db)
    try:
        return ingest([str(p) for p in paths], engine)
    finally:
        engine.dispose()


def dump_store(db: str) -> Dump:
    """Every row of every table and view (ids included), in primary-key
    order (a view's: all its columns)."""
    engine = create_engine(database_url(db))
    try:
        with engine.connect() as conn:
            dump: Dump = {}
            found = inspect(conn)
            for name in sorted([*found.get_table_names(), *found.get_view_names()]):
                table = Table(name, MetaData(), autoload_with=conn)
                order = list(table.primary_key.columns) or list(table.columns)
                rows = conn.execute(select(table).order_by(*order))
                dump[name] = [dict(row._mapping) for row in rows]
            return dump
    finally:
        engine.dispose()


def hide_password(url: str) -> str:
    """``url`` fit for a message."""
    return make_url(url).render_as_string(hide_password=True)
