"""Shared fixtures: the public capture corpus, fresh stores, running the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("OTSEAM_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The public ICS capture corpus (../shared/corpus or $OTSEAM_CORPUS)."""
    if not CORPUS.is_dir():
        pytest.skip(f"capture corpus not found at {CORPUS} (set OTSEAM_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def tshark() -> str:
    """Path of tshark, the independent oracle."""
    path = shutil.which("tshark")
    if path is None:
        pytest.skip("tshark is not installed (Debian package tshark)")
    return path


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A fresh SQLite store path."""
    return str(tmp_path / "store.db")


def run_cli(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m otseam ARGS`` as a user would; returns the finished process."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "otseam", *args],
        input=stdin,
        capture_output=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite the committed expected outputs in tests/golden/ from the current code.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files."""
    return bool(request.config.getoption("--update-golden"))


def start_tcpdump(
    path: Path, capture_filter: str, timeout: float = 15.0
) -> subprocess.Popen[bytes]:
    """tcpdump on the loopback interface writing to ``path``, returned once it
    says it is listening (a fixed sleep misses packets on a loaded machine)."""
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-U", "-w", str(path), capture_filter],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert dump.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = dump.stderr.readline()
        if b"listening on" in line or not line:
            break
    time.sleep(0.2)  # the line comes just before the capture loop starts
    return dump
