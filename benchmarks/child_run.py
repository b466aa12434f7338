"""Run one command as a child process and measure it the way the targets are stated.

Wall time is taken around fork/exec/exit, so it includes interpreter start-up
for Python tools. CPU time comes from the rusage `wait4` returns.

Peak RSS needs care: Linux carries a forked child's pre-exec resident set
(a copy of the parent's page tables) into its `ru_maxrss`, so measuring a
child of this large benchmark process directly would report the harness's
own size for small tools. The command is therefore launched through GNU
time (`/usr/bin/time -f %M`), a tiny process whose fork adds about 1 MiB.
Without GNU time the `wait4` figure is used and flagged. Either way
`ru_maxrss` also covers grandchildren the tool waited for, so forked
workers cannot hide memory.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class ChildRun:
    argv: tuple[str, ...]
    exit_code: int
    seconds: float
    cpu_seconds: float  # user + system
    peak_rss_mib: float
    stdout_path: Path
    stderr_tail: str
    rss_source: str  # "GNU time" or "wait4 (includes harness at fork)"

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def _pin_to(cpu: int) -> Callable[[], None]:
    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return pin


@cache
def gnu_time_available() -> bool:
    try:
        check = [GNU_TIME, "-f", "%M", "-o", os.devnull, "true"]
        return subprocess.run(check, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _gnu_time_kib(path: Path) -> int | None:
    """Last line of GNU time's -o file; earlier lines report a non-zero exit or a signal."""
    lines = path.read_text().split() if path.exists() else []
    return int(lines[-1]) if lines and lines[-1].isdigit() else None


def run_child(argv: Sequence[str], log_stem: Path, cpu: int | None) -> ChildRun:
    """Run `argv` with stdout/stderr in `<log_stem>.out/.err`, optionally pinned to `cpu`."""
    log_stem.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_stem.with_name(log_stem.name + ".out")
    err_path = log_stem.with_name(log_stem.name + ".err")
    rss_path = log_stem.with_name(log_stem.name + ".maxrss")
    rss_path.unlink(missing_ok=True)
    wrapped = list(argv)
    if gnu_time_available():
        wrapped = [GNU_TIME, "-f", "%M", "-o", str(rss_path), *wrapped]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            wrapped,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=_pin_to(cpu) if cpu is not None else None,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    exit_code = os.waitstatus_to_exitcode(status)
    proc.returncode = exit_code  # already reaped: keep Popen from waiting again
    tail = err_path.read_bytes()[-600:].decode("utf-8", "replace").strip()
    rss_kib = _gnu_time_kib(rss_path)
    rss_source = "GNU time"
    if rss_kib is None:
        rss_kib, rss_source = usage.ru_maxrss, "wait4 (includes harness at fork)"
    return ChildRun(
        argv=tuple(argv),
        exit_code=exit_code,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=rss_kib / 1024,  # Linux reports KiB
        stdout_path=out_path,
        stderr_tail=tail,
        rss_source=rss_source,
    )
