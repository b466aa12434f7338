"""Start device programs in their namespaces, wait until they listen, and stop them.

Each process writes stdout and stderr to ``logs/<host>--<label>.log`` in the
run folder; an error names the device, the software stack and the last lines
of that log.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import otseam
from otseam.lab.command import netns_argv, run
from otseam.lab.errors import DeviceError
from otseam.lab.model import Host, Program

__all__ = ["Launched", "Processes"]


@dataclass
class Launched:
    host: Host
    program: Program
    process: subprocess.Popen[bytes]
    log: Path
    deadline: float  # monotonic time after which it is killed

    @property
    def who(self) -> str:
        return f"{self.host.name} ({self.program.label}, {self.program.stack})"

    def tail(self, lines: int = 6) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"


class Processes:
    """The processes of one run; :meth:`stop_all` ends every one of them."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.log_dir = run_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.launched: list[Launched] = []

    def start(self, host: Host, program: Program, lifetime: float) -> Launched:
        """Start ``program`` in ``host``'s namespace; it is killed after ``lifetime`` + 10 s."""
        argv: list[str]
        if program.module is not None:
            module = f"otseam.lab.devices.{program.module}"
            argv = [sys.executable, "-m", module, *program.args, "--lifetime", f"{lifetime:.1f}"]
        elif program.exe is not None:
            argv = [program.exe, *program.args]
        else:
            raise DeviceError(host.name, f"program {program.label!r} names no module or executable")
        slug = re.sub(r"[^a-z0-9]+", "-", program.label.lower()).strip("-")
        log = self.log_dir / f"{host.name}--{slug}.log"
        env = dict(os.environ)
        package_root = str(Path(otseam.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        env["OTSEAM_LAB_WORK"] = str(self.run_dir)
        with log.open("wb") as sink:
            try:
                process = subprocess.Popen(
                    netns_argv(host.namespace, argv),
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                raise DeviceError(
                    host.name, f"{program.stack} could not be started: {exc}"
                ) from exc
        launched = Launched(host, program, process, log, time.monotonic() + lifetime + 10.0)
        self.launched.append(launched)
        return launched

    def wait_ready(self, launched: Launched, timeout: float = 30.0) -> None:
        """Block until the daemon says READY (or binds its port); raise DeviceError if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if launched.process.poll() is not None:
                raise DeviceError(
                    launched.host.name,
                    f"{launched.program.label} ({launched.program.stack}) exited with code "
                    f"{launched.process.returncode} while starting: {launched.tail()}",
                )
            if self._is_ready(launched):
                return
            time.sleep(0.2)
        raise DeviceError(
            launched.host.name,
            f"{launched.program.label} ({launched.program.stack}) was not ready after "
            f"{timeout:.0f} s: {launched.tail()}",
        )

    def _is_ready(self, launched: Launched) -> bool:
        port = launched.program.ready_port
        if port is None:
            try:
                return b"READY" in launched.log.read_bytes()
            except OSError:
                return False
        listening = run(netns_argv(launched.host.namespace, ["ss", "-Hlntu"]), check=False).stdout
        return any(f":{port} " in line for line in listening.splitlines())

    def failures(self) -> list[DeviceError]:
        """Finished processes that failed, and daemons that died before the end."""
        errors: list[DeviceError] = []
        for launched in self.launched:
            code = launched.process.poll()
            if code is not None and code != 0 and code != -signal.SIGTERM:
                errors.append(
                    DeviceError(
                        launched.host.name,
                        f"{launched.program.label} ({launched.program.stack}) failed with "
                        f"code {code}: {launched.tail()}",
                    )
                )
        return errors

    def reap_overdue(self) -> None:
        """Kill processes that ran past their deadline."""
        now = time.monotonic()
        for launched in self.launched:
            if launched.process.poll() is None and now > launched.deadline:
                _kill_group(launched.process, signal.SIGKILL)

    def stop_all(self, grace: float = 5.0) -> None:
        """SIGTERM every process group still running, then SIGKILL after ``grace`` seconds."""
        running = [item for item in self.launched if item.process.poll() is None]
        for launched in running:
            _kill_group(launched.process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for launched in running:
            try:
                launched.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _kill_group(launched.process, signal.SIGKILL)
                launched.process.wait(timeout=5)


def _kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
