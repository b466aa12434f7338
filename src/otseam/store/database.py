"""Opening the store: a SQLite file by default, PostgreSQL by URL.

``open_store("otseam.db")`` or ``open_store("postgresql://...")`` returns an
Engine whose schema is at ``SCHEMA_REVISION``, migrating with Alembic when
the database is new or older. SQLite runs in WAL mode; every ingest of one
capture is one transaction, so an interrupted ingest leaves the store as it
was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from otseam.errors import StoreError
from otseam.store.schema import SCHEMA_REVISION

__all__ = ["DEFAULT_DB", "database_url", "open_store"]

DEFAULT_DB: Final = "otseam.db"
MIGRATIONS: Final = Path(__file__).parent / "migrations"


def database_url(target: str | None) -> str:
    """A SQLAlchemy URL for a file path or URL; $OTSEAM_DB, then ./otseam.db."""
    target = target or os.environ.get("OTSEAM_DB") or DEFAULT_DB
    if "://" in target:
        if target.startswith("postgresql://"):
            return "postgresql+psycopg://" + target.removeprefix("postgresql://")
        return target
    return f"sqlite:///{Path(target).expanduser()}"


def open_store(target: str | None = None) -> Engine:
    """An engine on an up-to-date store; raises ``StoreError`` with the reason."""
    url = database_url(target)
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot use database {target!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        _migrate(engine)
    except OperationalError as exc:
        raise StoreError(f"cannot open database {_safe(url)}: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"database {_safe(url)} could not be prepared: {exc}") from exc
    return engine


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _migrate(engine: Engine) -> None:
    with engine.connect() as conn:
        if inspect(conn).has_table("alembic_version"):
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if current == SCHEMA_REVISION:
                return
    # Alembic is imported only when there is something to do: it is slow to load.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
