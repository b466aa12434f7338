"""An interrupted ingest leaves the store as it was before that capture.

Capture A is ingested; then ``otseam ingest B`` runs on a large synthesised
capture B and is stopped (SIGKILL, or SIGINT as Ctrl-C sends it) while it is
provably reading B or writing B's facts. The store must then equal, table by
table and row by row, the store after A; and ingesting B again must work.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.store.pcapfiles import synthesise_udp_pcap
from tests.store.stores import StoreTarget, dump_store, ingest_into

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="needs Linux /proc"),
]

A = "openics/EIP-IPAddressChangeAttempt.pcap"
B_PACKETS = 1_500_000
B_CONVERSATIONS = 100_000  # one per destination: a write phase of seconds
B_PAYLOAD = 60  # bytes per UDP datagram: B is 177 MB
DEADLINE_S = 60.0
MB = 1 << 20
# "mid-way through writing": this much of B's conversations is in the database
# files, none of it committed; past the first 20 000-row batch, well short of all
# (B's conversations take about 11 MB of SQLite WAL, 15 MB of PostgreSQL heap)
WRITTEN = 4 * MB


@pytest.fixture(scope="module")
def capture_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("large") / "large.pcap"
    synthesise_udp_pcap(
        path,
        packets=B_PACKETS,
        conversations=B_CONVERSATIONS,
        payload=B_PAYLOAD,
        start_s=1_700_000_000,
    )
    yield path
    path.unlink()


@pytest.mark.parametrize("phase", ["reading", "writing"])
def test_sigkill_leaves_the_store_as_before(
    store: StoreTarget, corpus: Path, capture_b: Path, phase: str
) -> None:
    _interrupt_and_recover(store, corpus / A, capture_b, phase, signal.SIGKILL)


@pytest.mark.parametrize(
    ("store", "phase"),
    [
        ("sqlite", "reading"),
        ("sqlite", "writing"),
        pytest.param("postgresql", "writing", marks=pytest.mark.postgres),
    ],
    indirect=["store"],
)
def test_ctrl_c_leaves_the_store_as_before_and_says_so(
    store: StoreTarget, corpus: Path, capture_b: Path, phase: str
) -> None:
    stderr = _interrupt_and_recover(store, corpus / A, capture_b, phase, signal.SIGINT)
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("interrupted: the capture being read was not stored"), stderr


def _interrupt_and_recover(
    store: StoreTarget, capture_a: Path, capture_b: Path, phase: str, sig: signal.Signals
) -> str:
    """Run the scenario; returns the interrupted process's standard error."""
    assert [o.status for o in ingest_into(store.db, capture_a).outcomes] == ["ingested"]
    after_a = dump_store(store.db)

    with ExitStack() as stack:
        writing = stack.enter_context(_writing(store, capture_b)) if phase == "writing" else None
        process = subprocess.Popen(
            [sys.executable, "-m", "otseam", "ingest", str(capture_b), "--db", store.db],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # no COLUMNS: standard error is a pipe, where Rich would wrap at 80
            env={k: v for k, v in os.environ.items() if k != "COLUMNS"},
        )
        stack.callback(_reap, process)
        if writing is None:
            size = capture_b.stat().st_size
            # well inside the file: read more than 16 MB, at least 32 MB still to go
            _wait_until(
                process,
                f"reading {capture_b.name}",
                lambda: 16 * MB < (_read_position(process.pid, capture_b) or 0) < size - 32 * MB,
            )
        else:
            _wait_until(process, "writing to the store", lambda: writing(process.pid))
        assert process.poll() is None
        process.send_signal(sig)
        _stdout, stderr = process.communicate(timeout=DEADLINE_S)

    expected = -signal.SIGKILL if sig == signal.SIGKILL else 130
    assert process.returncode == expected, stderr.decode(errors="replace")
    assert dump_store(store.db) == after_a

    again = run_cli("ingest", str(capture_b), "--db", store.db)
    assert again.returncode == 0, again.stderr
    assert "1 ingested" in again.stdout
    after_b = dump_store(store.db)
    assert [c["packets"] for c in after_b["captures"]] == [
        after_a["captures"][0]["packets"],
        B_PACKETS,
    ]
    assert len(after_b["conversations"]) == len(after_a["conversations"]) + B_CONVERSATIONS
    return stderr.decode(errors="replace")


def _reap(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def _wait_until(process: subprocess.Popen[bytes], what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not ready():
        if process.poll() is not None:
            pytest.fail(
                f"otseam ingest ended (status {process.returncode}) before the test saw it "
                f"{what}; make capture B larger"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"otseam ingest was not seen {what} within {DEADLINE_S} s")
        time.sleep(0.002)


def _read_position(pid: int, path: Path) -> int | None:
    """How far process ``pid`` has read into ``path``; None if it has it not open."""
    target = str(path.resolve())
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    fdinfo = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
                    return int(fdinfo.split()[1])  # "pos:\t<offset>"
            except OSError:
                continue
    except OSError:
        return None
    return None


@contextmanager
def _writing(store: StoreTarget, capture: Path) -> Iterator[Callable[[int], bool]]:
    """A check, given the ingest's pid, that it is mid-way through writing
    capture B's conversations: ``WRITTEN`` bytes of them in the database files,
    none committed. Enter it before the ingest starts: it measures where the
    store begins."""
    if store.backend == "sqlite":
        wal = Path(f"{store.name}-wal")

        # the open transaction's pages spill into the WAL long before it commits
        def sqlite_writing(pid: int) -> bool:
            return (
                _read_position(pid, capture) is None
                and wal.exists()
                and wal.stat().st_size >= WRITTEN
            )

        yield sqlite_writing
        return

    import psycopg

    with psycopg.connect(store.db, autocommit=True) as monitor:

        def conversations_size() -> int:
            row = monitor.execute("SELECT pg_relation_size('conversations')").fetchone()
            assert row is not None
            return int(row[0])

        start = conversations_size()

        # the table's file grows with rows a transaction inserts, committed or not
        def postgres_writing(_pid: int) -> bool:
            return conversations_size() - start >= WRITTEN

        yield postgres_writing
