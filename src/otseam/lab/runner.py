"""One lab run: check, build, start, play, capture, write the truth, tear down.

Teardown runs on success, on error, on Ctrl-C and on SIGTERM/SIGHUP: the
signals are turned into :class:`Interrupted` so ``finally`` blocks run.
"""

from __future__ import annotations

import importlib.util
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from rich.console import Console

from otseam.lab import fabric as fabric_mod
from otseam.lab.capture import Capture
from otseam.lab.command import require_tools, run
from otseam.lab.errors import CaptureError, DeviceError, LabError, LabSetupError
from otseam.lab.model import Plant, Program
from otseam.lab.processes import Processes
from otseam.lab.scenario import play, start_daemons
from otseam.lab.sitefile import write_site
from otseam.lab.truth import truth, write_truth

__all__ = ["TOOLS", "Interrupted", "LabResult", "preflight", "run_lab"]

TOOLS = ("ip", "tc", "ethtool", "nft", "ss", "tcpdump", "mergecap", "capinfos", "ssh-keygen")
MODULE_TOOLS = {"ssh_server": ("sshd", "ssh-keygen"), "ssh_client": ("ssh",)}


class Interrupted(LabError):
    """The run was stopped by a signal; the plant was torn down."""


@dataclass(frozen=True)
class LabResult:
    pcap: Path
    truth: Path
    site: Path
    packets: int
    size: int


def preflight(plant: Plant) -> None:
    """Fail before building anything if a tool or a device's stack is missing."""
    programs = [program for host in plant.hosts for program in _programs(plant, host.name)]
    executables = {program.exe for program in programs if program.exe}
    for program in programs:
        executables.update(MODULE_TOOLS.get(program.module or "", ()))
    require_tools([*TOOLS, *sorted(executables)])
    missing: list[str] = []
    for host in plant.hosts:
        for program in _programs(plant, host.name):
            for module in program.requires:
                if importlib.util.find_spec(module) is None:
                    missing.append(f"{host.name} needs {program.stack} (import {module!r})")
    if missing:
        raise LabSetupError(
            "device stacks are not installed: "
            + "; ".join(missing)
            + " -- install them with `pip install 'otseam[lab]'`"
        )


def run_lab(
    plant: Plant, out: Path, duration: float, console: Console, work: Path | None = None
) -> LabResult:
    """Build ``plant``, play its scenario for ``duration`` s, write pcap/truth/site to ``out``.

    Device logs and the per-tap captures go to ``work`` (a new folder under
    the system's temporary folder by default), which is kept for inspection.
    """
    if duration < plant.min_duration:
        raise LabError(
            f"--duration {duration:.0f} is too short for plant {plant.name!r}: "
            f"its scenario needs at least {plant.min_duration:.0f} s"
        )
    preflight(plant)
    work = work or Path(tempfile.mkdtemp(prefix="otseam-lab-"))
    work.mkdir(parents=True, exist_ok=True)
    console.print(f"device logs and tap captures: {work}")
    _lab_ssh_key(work)
    processes = Processes(work)
    capture: Capture | None = None
    with _signals_interrupt():
        try:
            console.print(f"building plant [bold]{plant.name}[/bold] ({len(plant.hosts)} hosts)")
            built = fabric_mod.build(plant)
            capture = Capture(built, work)
            capture.start()
            started = datetime.now(UTC)
            start_daemons(plant, processes, duration + 60.0, console)
            play(plant, processes, duration, console)
            failures = processes.failures()
            if failures:
                raise _combined(failures)
            capture.stop()
            ended = datetime.now(UTC)
            pcap = capture.merge(out / "plant.pcap")
        finally:
            processes.stop_all()
            if capture is not None:
                _stop_quietly(capture)
            removed = fabric_mod.cleanup()
            console.print(f"torn down {len(removed)} namespaces")
    packets, size = _count(pcap)
    info = {
        "file": pcap.name,
        "format": "pcap",
        "linktype": "ethernet",
        "packets": packets,
        "bytes": size,
        "started": started.isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "duration_s": duration,
        "taps": [{"name": name, "zones": list(zones)} for name, zones in plant.taps],
    }
    truth_path = write_truth(truth(plant, info), out / "truth.json")
    site_path = write_site(plant, out / "site.yaml")
    return LabResult(pcap=pcap, truth=truth_path, site=site_path, packets=packets, size=size)


def _lab_ssh_key(work: Path) -> None:
    """The run's SSH key pair: sshd devices authorize it, ssh sessions log in with it."""
    folder = work / "ssh"
    folder.mkdir(exist_ok=True)
    key = folder / "lab_key"
    if not key.exists():
        argv = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "otseam-lab", "-f", str(key)]
        run(argv, error=LabSetupError)


def _programs(plant: Plant, host: str) -> list[Program]:
    daemons = list(plant.host(host).daemons)
    return daemons + [action.program for action in plant.actions if action.host == host]


def _combined(failures: list[DeviceError]) -> LabError:
    if len(failures) == 1:
        return failures[0]
    return LabError("several devices failed:\n  " + "\n  ".join(str(err) for err in failures))


def _stop_quietly(capture: Capture) -> None:
    try:
        capture.stop(timeout=5)
    except CaptureError:
        return


def _count(pcap: Path) -> tuple[int, int]:
    result = run(["capinfos", "-M", "-c", "-T", "-r", str(pcap)], timeout=60, error=CaptureError)
    fields = result.stdout.strip().split("\t")
    return int(fields[-1]), pcap.stat().st_size


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into an exception so teardown runs."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(f"stopped by signal {signal.Signals(signum).name}; plant torn down")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
