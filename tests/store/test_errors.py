"""A store that cannot be used gives one clear error line and exit status 1.

Bad URLs, unreachable servers, missing databases and unwritable paths: the
user sees ``error: ...`` on one line of standard error (even when it is not
a terminal and lines would wrap), never a traceback, never a password.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import run_cli

PASSWORD = "s3cret-Pw"  # never shown
SAMPLE = "EthernetIP/cip_stop_plc.pcap"


def _run_plain(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with standard error not a terminal and no COLUMNS: Rich
    would wrap at 80 columns."""
    return run_cli(*args, env={"COLUMNS": ""})


def _assert_one_error_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for word in words:
        assert word in line, line
    assert PASSWORD not in line
    return line


@pytest.mark.parametrize(
    ("db", "words"),
    [
        ("nosuchdriver://host/db", ("nosuchdriver",)),
        (f"mysql://user:{PASSWORD}@localhost/otseam", ("mysql", "MySQLdb")),
        ("postgresql://postgres@127.0.0.1:notaport/otseam", ("notaport",)),
        (f"postgresql://user:{PASSWORD}@127.0.0.1:1/otseam", ("127.0.0.1", "refused")),
        ("postgresql://postgres@host.invalid/otseam", ("host.invalid",)),
    ],
    ids=["unknown-scheme", "driver-missing", "bad-port", "server-unreachable", "unknown-host"],
)
def test_bad_database_url(db: str, words: tuple[str, ...]) -> None:
    _assert_one_error_line(_run_plain("assets", "--db", db), *words)


def test_missing_postgres_database(postgres_admin: str) -> None:
    name = f"otseam_test_missing_{secrets.token_hex(4)}"
    url = make_url(postgres_admin).set(database=name, password=PASSWORD)
    done = _run_plain("flows", "--db", url.render_as_string(hide_password=False))
    _assert_one_error_line(done, name, "does not exist")


@pytest.mark.parametrize(
    "where", ["missing-directory", "parent-is-a-file", "a-directory", "not-a-database", "proc"]
)
@pytest.mark.parametrize("command", ["ingest", "assets"])
def test_unusable_sqlite_path(tmp_path: Path, corpus: Path, where: str, command: str) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n")
    db = {
        "missing-directory": tmp_path / "missing" / "store.db",
        "parent-is-a-file": tmp_path / "notes.txt" / "store.db",
        "a-directory": tmp_path,
        "not-a-database": tmp_path / "notes.txt",
        "proc": Path("/proc/otseam-store.db"),  # unwritable even for root
    }[where]
    args = [str(corpus / SAMPLE)] if command == "ingest" else []
    line = _assert_one_error_line(_run_plain(command, *args, "--db", str(db)), str(db))
    assert "database" in line
    if where == "not-a-database":
        assert (tmp_path / "notes.txt").read_text() == "not a database\n"


@pytest.mark.parametrize("where", ["missing-directory", "proc"])
def test_unwritable_export_output(tmp_path: Path, corpus: Path, where: str) -> None:
    db = str(tmp_path / "store.db")
    assert run_cli("ingest", str(corpus / SAMPLE), "--db", db).returncode == 0
    output = {
        "missing-directory": tmp_path / "missing" / "model.json",
        "proc": Path("/proc/otseam-model.json"),
    }[where]
    _assert_one_error_line(_run_plain("export", "--db", db, "-o", str(output)), str(output))
