"""The lab itself, end to end: rebuild the plant, record it, check it, leave nothing behind.

Needs root, iproute2, nftables, ethtool, tcpdump, tshark/mergecap, dnsmasq,
OpenSSH and the `lab` extra; CI runs it as root. A missing stack fails the
test with the lab's message naming the device; it is never skipped silently.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from tests.truth_findings import finding_signatures

from otseam.analysis.convergence import analyse
from otseam.ingest import ingest
from otseam.lab.check import check_capture
from otseam.lab.command import run
from otseam.lab.fabric import NETNS_ETC, PREFIX, leftovers
from otseam.lab.plants import plant_named
from otseam.lab.runner import run_lab
from otseam.site.load import load_site
from otseam.store.database import open_store

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab builds network namespaces: run as root"),
]


def _root_links() -> set[str]:
    return {line.split()[0] for line in run(["ip", "-br", "link"]).stdout.splitlines()}


def _no_leftovers() -> None:
    assert leftovers() == []
    assert not NETNS_ETC.is_dir() or not list(NETNS_ETC.glob(f"{PREFIX}*"))


@pytest.fixture
def clean_machine() -> None:
    if leftovers():
        pytest.fail(f"namespaces from another run exist: {leftovers()}; run the lab's cleanup")


@pytest.mark.usefixtures("clean_machine")
def test_converged_plant_records_what_its_truth_says(tmp_path: Path) -> None:
    links_before = _root_links()
    result = run_lab(plant_named("converged"), tmp_path / "out", 90.0, Console(quiet=True),
                     tmp_path / "work")  # fmt: skip
    problems = check_capture(result.pcap, result.truth)
    assert problems == [], "\n".join(problems)
    assert result.packets > 1000 and result.size < 5 * 1024 * 1024
    site = tmp_path / "out" / "site.yaml"
    assert site.is_file()
    _no_leftovers()
    # otseam finds in the fresh recording exactly what the truth lists
    engine = open_store(str(tmp_path / "fresh.db"))
    ingest([str(result.pcap)], engine)
    with engine.begin() as conn:
        conv = analyse(conn, load_site(site))
    found, expected = finding_signatures(conv, json.loads(result.truth.read_text()))
    assert found == expected
    assert _root_links() == links_before, "the lab left an interface in the root namespace"


@pytest.mark.usefixtures("clean_machine")
def test_interrupted_run_tears_the_plant_down(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "otseam.lab", "run", "--plant", "mini", "--duration", "60",
            "--out", str(tmp_path / "out"), "--workdir", str(tmp_path / "work")]  # fmt: skip
    with subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as lab:
        deadline = time.monotonic() + 60
        while len(leftovers()) < 3 and time.monotonic() < deadline and lab.poll() is None:
            time.sleep(0.5)
        time.sleep(8)  # well into the scenario: devices and captures running
        lab.send_signal(signal.SIGINT)
        _out, err = lab.communicate(timeout=60)
    assert lab.returncode != 0
    assert b"torn down" in err
    _no_leftovers()
    assert not (tmp_path / "out" / "plant.pcap").exists()
