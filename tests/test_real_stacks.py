"""Traffic from real protocol stacks, captured with tcpdump and dissected.

A pymodbus server with device identification answers a pymodbus client on a
loopback address; tcpdump records it; otseam must report the identity the
server was configured with and the requests the client made. Needs root
(tcpdump) and pymodbus; skips with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from otseam.ingest import ingest
from otseam.store.database import open_store
from otseam.store.queries import asset_rows, operation_rows
from tests.conftest import start_tcpdump

ADDRESS = "127.0.5.2"  # all of 127/8 is loopback; this one is ours
IDENTITY = {
    "vendor": "Otseam Test Works",
    "product-code": "OTW-PLC-7",
    "revision": "3.14",
    "model": "TankController 7",
}


def _device(module: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", f"otseam.lab.devices.{module}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def capture(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("tcpdump") is None:
        pytest.skip("needs root and tcpdump to capture loopback traffic")
    pytest.importorskip("pymodbus", reason="pymodbus (test extra) is not installed")
    path = tmp_path / "modbus.pcap"
    dump = start_tcpdump(path, f"host {ADDRESS} and tcp port 502")
    try:
        yield path
    finally:
        time.sleep(0.5)
        dump.terminate()
        dump.wait(timeout=10)


def test_pymodbus_identity_and_operations(capture: Path, tmp_path: Path) -> None:
    server = _device(
        "modbus_plc",
        "--bind",
        ADDRESS,
        "--port",
        "502",
        "--lifetime",
        "30",
        *[item for key, value in IDENTITY.items() for item in (f"--{key}", value)],
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == b"READY", server.stderr
        for mode in ("identify", "write"):
            client = _device("modbus_client", "--host", ADDRESS, "--mode", mode, "--lifetime", "10")
            _out, err = client.communicate(timeout=30)
            assert client.returncode == 0, err.decode()
        poll = _device(
            "modbus_client",
            "--host",
            ADDRESS,
            "--mode",
            "poll",
            "--interval",
            "0.05",
            "--lifetime",
            "2.5",
        )
        poll.communicate(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=10)
    time.sleep(0.5)

    engine = open_store(str(tmp_path / "store.db"))
    report = ingest([str(capture)], engine)
    assert report.clean, report.all_problems
    with engine.connect() as conn:
        plc = asset_rows(conn, address=ADDRESS)
        ops = operation_rows(conn)
    assert len(plc) == 1
    assert plc[0]["vendor"] == IDENTITY["vendor"]
    assert plc[0]["firmware"] == IDENTITY["revision"]
    assert plc[0]["model"] == IDENTITY["model"]
    assert {"name": "modbus", "role": "server"} in plc[0]["protocols"]
    by_code = {(o["code"], o["operation"]): o["count"] for o in ops if o["dst"] == ADDRESS}
    assert by_code[(43, "identify")] == 2  # basic and regular object sets
    assert by_code[(6, "write")] == 1
    assert by_code[(5, "write")] == 1
    assert by_code[(3, "read")] >= 10  # polling every 50 ms for ~1.5 s, plus the read-back
    assert by_code[(1, "read")] >= 10
