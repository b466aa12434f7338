"""What every device program shares: a bounded lifetime and a readiness line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
import time
from collections.abc import Awaitable, Callable

__all__ = ["announce_ready", "parser", "run_bounded", "until", "wait_for_port"]


def parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--lifetime", type=float, default=60.0, help="seconds before exiting")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    return ap


def announce_ready() -> None:
    """Tell the lab this device listens (the lab waits for this line)."""
    sys.stdout.write("READY\n")
    sys.stdout.flush()


def run_bounded(main: Callable[[], Awaitable[None]], lifetime: float) -> int:
    """Run the coroutine ``main()`` for at most ``lifetime`` seconds; 0 when time ran out."""

    async def bounded() -> None:
        try:
            await asyncio.wait_for(main(), timeout=lifetime)
        except TimeoutError:
            return

    asyncio.run(bounded())
    return 0


def until(lifetime: float, margin: float = 1.0) -> float:
    """The monotonic deadline a client loop must stop at."""
    return time.monotonic() + max(lifetime - margin, 0.0)


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """Whether a TCP connect to ``host:port`` succeeds within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False
