"""Play the plant's scripted scenario: start daemons, then each action at its time.

Actions are placed on the timeline as a fraction of ``duration``; each one gets
a lifetime that ends before the scenario does, so everything stops by itself.
A Rich progress display shows the clock and the step being played.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from otseam.lab.errors import DeviceError
from otseam.lab.model import Plant
from otseam.lab.processes import Launched, Processes

__all__ = ["play", "start_daemons"]

SETTLE = 3.0  # seconds after the last action ends, so replies and FINs are captured


def start_daemons(plant: Plant, processes: Processes, lifetime: float, console: Console) -> None:
    """Start every host's servers and wait until each one listens."""
    daemons = [(host, program) for host in plant.hosts for program in host.daemons]
    with _progress(console) as progress:
        task = progress.add_task("starting devices", total=len(daemons))
        for host, program in daemons:
            progress.update(task, description=f"starting {host.name}: {program.label}")
            launched = processes.start(host, program, lifetime)
            processes.wait_ready(launched)
            progress.advance(task)
    console.print(f"[green]{len(daemons)} device programs listening[/green]")


def play(
    plant: Plant,
    processes: Processes,
    duration: float,
    console: Console,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run the timeline; raise DeviceError if an action fails or outlives the scenario."""
    actions = sorted(plant.actions, key=lambda action: action.at)
    start = clock()
    end = start + duration
    started: list[Launched] = []
    with _progress(console) as progress:
        task = progress.add_task("scenario", total=duration)
        for action in actions:
            when = start + action.at * duration
            _sleep_until(when, progress, task, start, clock)
            host = plant.host(action.host)
            lifetime = min(action.timeout, max(end - clock() - SETTLE, 2.0))
            progress.update(task, description=f"{host.name}: {action.program.label}")
            started.append(processes.start(host, action.program, lifetime))
            _raise_early_failures(processes)
        progress.update(task, description="waiting for the last steps to end")
        while clock() < end and any(item.process.poll() is None for item in started):
            _sleep_until(min(clock() + 0.5, end), progress, task, start, clock)
            processes.reap_overdue()
        _sleep_until(min(clock() + SETTLE, end + SETTLE), progress, task, start, clock)
    late = [item for item in started if item.process.poll() is None]
    if late:
        names = ", ".join(item.who for item in late)
        raise DeviceError(late[0].host.name, f"still running when the scenario ended: {names}")


def _raise_early_failures(processes: Processes) -> None:
    failures = processes.failures()
    if failures:
        raise failures[0]


def _sleep_until(
    when: float, progress: Progress, task: TaskID, start: float, clock: Callable[[], float]
) -> None:
    while (now := clock()) < when:
        progress.update(task, completed=now - start)
        time.sleep(min(0.25, when - now))
    progress.update(task, completed=clock() - start)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>5.0f}/{task.total:.0f}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
