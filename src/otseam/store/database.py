"""Opening the store: a SQLite file by default, PostgreSQL by URL.

``open_store("otseam.db")`` or ``open_store("postgresql://...")`` returns an
Engine whose schema is at ``SCHEMA_REVISION``, migrating with Alembic when
the database is new or older. SQLite runs in WAL mode; every ingest of one
capture is one transaction, so an interrupted ingest leaves the store as it
was. ``close_stores`` closes every store opened so far (a SQLite store folds
its write-ahead log into the file as its last connection closes).
"""

from __future__ import annotations

import os
import weakref
from contextlib import suppress
from pathlib import Path
from typing import Any, Final

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from otseam.errors import StoreError
from otseam.store.schema import SCHEMA_REVISION, metadata

__all__ = ["DEFAULT_DB", "close_stores", "database_url", "describe_error", "open_store"]

DEFAULT_DB: Final = "otseam.db"
MIGRATIONS: Final = Path(__file__).parent / "migrations"
_OPENED: weakref.WeakSet[Engine] = weakref.WeakSet()


def database_url(target: str | None) -> str:
    """A SQLAlchemy URL for a file path or URL; $OTSEAM_DB, then ./otseam.db."""
    target = _target(target)
    if "://" in target:
        if target.startswith("postgresql://"):
            return "postgresql+psycopg://" + target.removeprefix("postgresql://")
        return target
    return f"sqlite:///{Path(target).expanduser()}"


def open_store(target: str | None = None) -> Engine:
    """An engine on an up-to-date store; raises ``StoreError`` with the reason."""
    url = database_url(target)
    shown = _safe(_target(target))
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError, ValueError) as exc:  # ValueError: a bad port
        raise StoreError(
            f"cannot use database {shown}: {describe_error(exc)}; give a SQLite file path "
            "or a URL like postgresql://user@host/database"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        hint = "give a SQLite file in a writable directory"
    else:
        hint = "check the URL, that the server runs, and the user's rights"
    try:
        _migrate(engine, shown)
    except StoreError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open database {shown}: {describe_error(exc)}; {hint}") from exc
    _OPENED.add(engine)
    return engine


def close_stores() -> None:
    """Close the connections of every store opened and still referenced."""
    for engine in list(_OPENED):
        with suppress(SQLAlchemyError):  # leaving anyway: a failed close is no news
            engine.dispose()


def describe_error(exc: BaseException) -> str:
    """A database error as one line: the driver's own message, without
    SQLAlchemy's statement dump and links."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    text = str(orig if orig is not None else exc)
    text = text.split("(Background on this error at:", 1)[0]
    return " ".join(text.split())


def _target(target: str | None) -> str:
    return target or os.environ.get("OTSEAM_DB") or DEFAULT_DB


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _migrate(engine: Engine, shown: str) -> None:
    current = None
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        if "alembic_version" in tables:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if current == SCHEMA_REVISION:
                return
    if not tables:
        # A new store: create the head schema at once and stamp it, as Alembic
        # advises for fresh databases (tests/store/test_schema.py checks that
        # this equals running every migration).
        with engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            conn.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                {"v": SCHEMA_REVISION},
            )
        return
    # Alembic is imported only when there is something to do: it is slow to load.
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except CommandError as exc:  # a revision this otseam does not know
        raise StoreError(
            f"database {shown} has schema revision {current!r}, which this otseam does not "
            f"know (it writes {SCHEMA_REVISION!r}): it was made by a newer otseam; upgrade "
            "otseam or give another --db"
        ) from exc
