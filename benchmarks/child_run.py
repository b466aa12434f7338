"""Run one command as a child process and measure it the way the targets are stated.

Wall time is taken around fork/exec/exit, so it includes interpreter start-up
for Python tools. Peak RSS and CPU time come from the rusage that `wait4`
returns for the child; on Linux its `ru_maxrss` also covers any grandchildren
the child waited for, so a tool that forks workers cannot hide memory there.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChildRun:
    argv: tuple[str, ...]
    exit_code: int
    seconds: float
    cpu_seconds: float  # user + system
    peak_rss_mib: float
    stdout_path: Path
    stderr_tail: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def _pin_to(cpu: int) -> Callable[[], None]:
    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return pin


def run_child(argv: Sequence[str], log_stem: Path, cpu: int | None) -> ChildRun:
    """Run `argv` with stdout/stderr in `<log_stem>.out/.err`, optionally pinned to `cpu`."""
    log_stem.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_stem.with_name(log_stem.name + ".out")
    err_path = log_stem.with_name(log_stem.name + ".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
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
    return ChildRun(
        argv=tuple(argv),
        exit_code=exit_code,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,  # Linux reports KiB
        stdout_path=out_path,
        stderr_tail=tail,
    )
