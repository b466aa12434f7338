"""Capture the plant's taps with tcpdump and merge them into one classic pcap."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from otseam.lab.command import netns_argv, run
from otseam.lab.errors import CaptureError
from otseam.lab.fabric import FABRIC, Fabric

__all__ = ["Capture"]


@dataclass
class Capture:
    """One tcpdump per tap, writing ``tap-<name>.pcap`` into ``folder``."""

    fabric: Fabric
    folder: Path
    parts: dict[str, Path] = field(default_factory=dict)
    _running: list[tuple[str, subprocess.Popen[bytes], Path]] = field(default_factory=list)

    def start(self, timeout: float = 10.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for tap, interface in self.fabric.taps.items():
            part = self.folder / f"tap-{tap}.pcap"
            log = self.folder / f"tap-{tap}.log"
            # -Z root: tcpdump would otherwise drop to a user that cannot write here.
            argv = [
                "tcpdump",
                "-i",
                interface,
                "-w",
                str(part),
                "-U",
                "-n",
                "-s",
                "0",
                "-Z",
                "root",
            ]
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    netns_argv(FABRIC, argv), stdout=sink, stderr=subprocess.STDOUT
                )
            self._running.append((tap, process, log))
            self.parts[tap] = part
        deadline = time.monotonic() + timeout
        for tap, process, log in self._running:
            while b"listening on" not in log.read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise CaptureError(f"tcpdump on tap {tap!r} did not start: {_tail(log)}")
                time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        for _tap, process, _log in self._running:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for tap, process, log in self._running:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
                raise CaptureError(f"tcpdump on tap {tap!r} did not stop: {_tail(log)}") from None
        self._running.clear()

    def merge(self, output: Path) -> Path:
        """Merge the taps, in time order, into a classic (libpcap) Ethernet capture."""
        parts = [str(path) for path in self.parts.values() if path.exists()]
        if not parts:
            raise CaptureError("no tap produced a capture file")
        output.parent.mkdir(parents=True, exist_ok=True)
        run(["mergecap", "-F", "pcap", "-w", str(output), *parts], timeout=60, error=CaptureError)
        return output


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
    except OSError:
        return "(no log)"
