"""Migrations: a new store is migrated to the current revision, and the
migrated tables are exactly those ``otseam.store.schema`` declares; a store
from a newer otseam is refused with a clear message."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from otseam.errors import StoreError
from otseam.store.database import database_url, open_store
from otseam.store.schema import SCHEMA_REVISION, metadata, views
from tests.store.stores import StoreTarget, dump_store


def test_a_new_store_is_at_the_current_revision_and_matches_the_schema(
    store: StoreTarget,
) -> None:
    engine = open_store(store.db)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()
    dump = dump_store(store.db)
    assert dump["alembic_version"] == [{"version_num": SCHEMA_REVISION}]
    assert set(dump) == {*metadata.tables, *views.tables, "alembic_version"}
    assert all(rows == [] for name, rows in dump.items() if name != "alembic_version")


def test_opening_again_changes_nothing(store: StoreTarget) -> None:
    open_store(store.db).dispose()
    before = dump_store(store.db)
    open_store(store.db).dispose()
    assert dump_store(store.db) == before


def test_a_store_from_a_newer_otseam_is_refused(store: StoreTarget) -> None:
    open_store(store.db).dispose()
    engine = create_engine(database_url(store.db))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"revision '9999'.*newer otseam"):
        open_store(store.db)


def test_running_every_migration_gives_the_declared_schema(store: StoreTarget) -> None:
    """New stores are created from the declared schema and stamped; stores
    that upgrade run the migrations. Both must end in the same tables."""
    from alembic import command
    from alembic.config import Config

    from otseam.store.database import MIGRATIONS

    engine = create_engine(database_url(store.db))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert set(inspect(conn).get_view_names()) == set(views.tables)
        assert version == SCHEMA_REVISION
    finally:
        engine.dispose()
    open_store(store.db).dispose()  # a migrated store opens without change


def _migrate(engine: Engine, revision: str, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    from otseam.store.database import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def test_asset_protocols_become_a_view_of_the_same_rows_and_back(store: StoreTarget) -> None:
    """Revision 0003 drops the written asset protocols for a view over the
    addresses and protocol roles; an asset whose two addresses gave a
    protocol with different evidence keeps the better one, both ways."""
    engine = create_engine(database_url(store.db))
    try:
        _migrate(engine, "0002")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO assets (id, key, role, role_evidence, is_gateway, first_seen, "
                    "last_seen) VALUES (1, 'mac:00:00:bc:01:02:03', 'plc', 'x', false, 1, 2)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO asset_addresses (asset_id, kind, value) VALUES "
                    "(1, 'mac', '00:00:bc:01:02:03'), (1, 'ip', '10.0.0.5')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO protocol_roles (address, protocol, role, evidence, count, "
                    "first_seen, last_seen) VALUES "
                    "('10.0.0.5', 'enip', 'server', 'port', 3, 1, 2), "
                    "('00:00:bc:01:02:03', 'enip', 'server', 'semantics', 1, 1, 2), "
                    "('10.0.0.5', 'modbus', 'client', 'port', 1, 1, 2), "
                    "('10.0.0.9', 'modbus', 'server', 'port', 1, 1, 2)"
                )
            )
        _migrate(engine, "head")
        expected = [(1, "enip", "server", "semantics"), (1, "modbus", "client", "port")]
        query = "SELECT asset_id, protocol, role, evidence FROM asset_protocols ORDER BY 2, 3"
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(text(query))] == expected
            assert "asset_protocols" not in inspect(conn).get_table_names()
        _migrate(engine, "0002", down=True)
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(text(query))] == expected
            assert "asset_protocols" in inspect(conn).get_table_names()
    finally:
        engine.dispose()
