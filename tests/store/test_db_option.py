"""Every command takes ``--db``: a SQLite file or a database URL; without it,
$OTSEAM_DB, then ``otseam.db`` in the current directory."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from otseam.cli import cli
from tests.store.stores import StoreTarget, dump_store, ingest_into

FIRST = "openics/EIP-IPAddressChangeAttempt.pcap"
SECOND = "EthernetIP/cip_stop_plc.pcap"


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
        else:
            found.append((f"{prefix}{name}", command))
    return found


# Commands that do not touch the store: the plant lab writes captures, not facts.
NO_STORE = {"lab"}
COMMANDS = [(name, command) for name, command in _commands(cli) if name not in NO_STORE]


def _run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in ``cwd`` with $OTSEAM_DB unset unless ``env`` sets it."""
    full_env = {k: v for k, v in os.environ.items() if k != "OTSEAM_DB"}
    full_env.update({"COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "otseam", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_has_the_db_option(name: str, command: click.Command) -> None:
    (option,) = [p for p in command.params if p.name == "db"]
    assert isinstance(option, click.Option)
    assert option.opts == ["--db"]
    assert option.envvar == "OTSEAM_DB"
    assert option.default == "otseam.db"


def _names(db: str) -> list[str]:
    return [Path(c["name"]).name for c in dump_store(db)["captures"]]


def _shows_the_second_capture_added(db: str, _out: str) -> None:
    assert _names(db) == [Path(FIRST).name, Path(SECOND).name]


def _lists_the_plc(_db: str, out: str) -> None:
    assert "192.168.10.125" in [ip for a in json.loads(out) for ip in a["ips"]]


def _lists_enip_flows(_db: str, out: str) -> None:
    assert 44818 in [f["b_port"] for f in json.loads(out)]


def _lists_enip_operations(_db: str, out: str) -> None:
    assert "enip" in [o["protocol"] for o in json.loads(out)]


def _exports_the_first_capture(_db: str, out: str) -> None:
    assert [Path(c["name"]).name for c in json.loads(out)["captures"]] == [Path(FIRST).name]


def _shows_the_sample_added(db: str, _out: str) -> None:
    assert _names(db) == [Path(FIRST).name, "plant.pcap"]


def _zones_hold_the_plc(_db: str, out: str) -> None:
    assert any(z["cidrs"] == ["192.168.10.0/24"] for z in json.loads(out))


def _suggests_the_plcs_subnet(_db: str, out: str) -> None:
    assert "192.168.10.0/24" in out


def _maps_the_plcs_zone(_db: str, out: str) -> None:
    assert any("192.168.10.0/24" in str(n) for n in json.loads(out)["nodes"])


def _lists_channels(_db: str, out: str) -> None:
    assert isinstance(json.loads(out), list)


def _owners_list_the_plcs_zone(_db: str, out: str) -> None:
    zones = [r["subject"] for r in json.loads(out) if r["kind"] == "zone"]
    assert any("192.168.10" in z for z in zones)


def _finds_the_unowned_zone(_db: str, out: str) -> None:
    assert "unowned" in {f["kind"] for f in json.loads(out)}


def _stored(state: str) -> Callable[[str, str], None]:
    def check(db: str, out: str) -> None:
        finding = out.split()[0]
        rows = sqlite3.connect(db).execute(
            "SELECT state FROM finding_states WHERE finding_id = ?", (finding,)
        )
        assert [r[0] for r in rows] == ([state] if state != "open" else [])

    return check


def _answers_the_questions(_db: str, out: str) -> None:
    assert len(json.loads(out)["answers"]) == 3


def _first_finding(db: str) -> str:
    from otseam.analysis.convergence import analyse
    from otseam.store.database import open_store

    engine = open_store(db)
    with engine.begin() as conn:
        found = analyse(conn).findings
    engine.dispose()
    return found[0].id


# For each command: its arguments, and a check that it used the store given.
USES: dict[str, tuple[list[str], Callable[[str, str], None]]] = {
    "ingest": (["{second}"], _shows_the_second_capture_added),
    "assets": (["--format", "json"], _lists_the_plc),
    "flows": (["--format", "json"], _lists_enip_flows),
    "operations": (["--format", "json"], _lists_enip_operations),
    "export": ([], _exports_the_first_capture),
    "demo": ([], _shows_the_sample_added),
    "zones": (["--format", "json"], _zones_hold_the_plc),
    "zones suggest": ([], _suggests_the_plcs_subnet),
    "map": (["--format", "json"], _maps_the_plcs_zone),
    "channels": (["--format", "json"], _lists_channels),
    "owners": (["--format", "json"], _owners_list_the_plcs_zone),
    "findings": (["--format", "json"], _finds_the_unowned_zone),
    "findings ack": (
        ["{finding}", "--by", "alice", "--why", "t"],
        _stored("acknowledged"),
    ),
    "findings suppress": (
        ["{finding}", "--by", "bob", "--why", "t"],
        _stored("suppressed"),
    ),
    "findings reopen": (["{finding}", "--by", "carol"], _stored("open")),
    "questions": (["--format", "json"], _answers_the_questions),
}


@pytest.mark.parametrize("name", [n for n, _ in COMMANDS])
def test_every_command_uses_the_store_given_by_db(name: str, corpus: Path, tmp_path: Path) -> None:
    if name not in USES:
        pytest.fail(f"new command {name!r}: add to USES how it shows which store it used")
    args, check = USES[name]
    db = str(tmp_path / "chosen.db")
    ingest_into(db, corpus / FIRST)
    work = tmp_path / "work"
    work.mkdir()
    finding = _first_finding(db) if "{finding}" in args else ""
    args = [a.format(second=corpus / SECOND, finding=finding) for a in args]

    done = _run(work, *name.split(), *args, "--db", db, env={"OTSEAM_DB": str(tmp_path / "env.db")})

    assert done.returncode == 0, done.stderr
    # the command closed the store as it left: SQLite folded its log into the file
    assert not Path(f"{db}-wal").exists()
    check(db, done.stdout)
    assert not (work / "otseam.db").exists()
    assert not (tmp_path / "env.db").exists()  # --db wins over $OTSEAM_DB


def test_default_store_is_otseam_db_in_the_current_directory(corpus: Path, tmp_path: Path) -> None:
    ingested = _run(tmp_path, "ingest", str(corpus / FIRST))
    assert ingested.returncode == 0, ingested.stderr
    assert _names(str(tmp_path / "otseam.db")) == [Path(FIRST).name]

    listed = _run(tmp_path, "assets", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert any("192.168.10.125" in a["ips"] for a in json.loads(listed.stdout))

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    empty = _run(elsewhere, "assets", "--format", "json")
    assert json.loads(empty.stdout) == []
    assert (elsewhere / "otseam.db").exists()


def test_otseam_db_environment_variable(corpus: Path, tmp_path: Path) -> None:
    from_env = str(tmp_path / "from-env.db")
    done = _run(tmp_path, "ingest", str(corpus / FIRST), env={"OTSEAM_DB": from_env})
    assert done.returncode == 0, done.stderr
    assert _names(from_env) == [Path(FIRST).name]
    assert not (tmp_path / "otseam.db").exists()

    listed = _run(tmp_path, "flows", "--format", "json", env={"OTSEAM_DB": from_env})
    assert len(json.loads(listed.stdout)) > 0


def test_postgres_url_through_db_and_environment(
    postgres_store: StoreTarget, corpus: Path, tmp_path: Path
) -> None:
    url = postgres_store.db
    done = _run(tmp_path, "ingest", str(corpus / FIRST), env={"OTSEAM_DB": url})
    assert done.returncode == 0, done.stderr
    assert _names(url) == [Path(FIRST).name]
    assert not (tmp_path / "otseam.db").exists()

    listed = _run(tmp_path, "assets", "--format", "json", "--db", url)
    assert listed.returncode == 0, listed.stderr
    assert any("192.168.10.125" in a["ips"] for a in json.loads(listed.stdout))
