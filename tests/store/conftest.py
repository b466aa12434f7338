"""Store fixtures: the same test on SQLite and on a scratch PostgreSQL database.

PostgreSQL tests take the server from $OTSEAM_TEST_POSTGRES (a URL to a
database the tests may connect to, default the local ``postgres`` database),
create one ``otseam_test_<random>`` database per test and drop it afterwards.
They are skipped, with the reason, when no server answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.stores import POSTGRES_ADMIN, StoreTarget, hide_password, scratch_database


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    """The URL of a PostgreSQL database to create scratch databases from."""
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'otseam[postgres]')")
    try:
        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=3, autocommit=True):
            pass
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        pytest.skip(
            f"no PostgreSQL server answers at {hide_password(POSTGRES_ADMIN)} "
            f"(set OTSEAM_TEST_POSTGRES): {reason}"
        )
    return POSTGRES_ADMIN


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreTarget]:
    """An empty store on each backend: a SQLite file, a scratch PostgreSQL database."""
    if request.param == "sqlite":
        path = str(tmp_path / "store.db")
        yield StoreTarget("sqlite", path, path)
        return
    with scratch_database(request.getfixturevalue("postgres_admin")) as target:
        yield target


@pytest.fixture
def postgres_store(postgres_admin: str) -> Iterator[StoreTarget]:
    """An empty scratch PostgreSQL database."""
    with scratch_database(postgres_admin) as target:
        yield target
