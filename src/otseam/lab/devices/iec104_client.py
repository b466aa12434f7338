"""An IEC 60870-5-104 controlling station (c104): supervision, or a breaker command.

Modes:
  poll     STARTDT, general interrogation (C_IC_NA_1), clock sync, then receive
           spontaneous measurands until the lifetime ends; with --command-after S,
           send one single command C_SC_NA_1 to IOA 21 (close the breaker) after S
           seconds on the same connection
  command  STARTDT and the single command at once

A SCADA master keeps one connection per RTU; the RTU (lib60870) serves one
active connection at a time, so the command rides on the supervising one.
"""

from __future__ import annotations

import sys
import time

import c104

from otseam.lab.devices._common import parser, until


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--host", required=True)
    ap.add_argument("--common-address", type=int, required=True)
    ap.add_argument("--mode", choices=("poll", "command"), required=True)
    ap.add_argument("--command-after", type=float, default=None)
    args = ap.parse_args(argv)
    deadline = until(args.lifetime)
    client = c104.Client()
    connection = client.add_connection(ip=args.host, port=2404, init=c104.Init.ALL)
    if connection is None:
        sys.stderr.write(f"c104 refused the connection to {args.host}\n")
        return 2
    station = connection.add_station(common_address=args.common_address)
    if station is None:
        sys.stderr.write(f"c104 refused common address {args.common_address}\n")
        return 2
    command = station.add_point(io_address=21, type=c104.Type.C_SC_NA_1)
    client.start()
    try:
        # A long wait rather than reconnecting: c104 crashed (SIGSEGV) when a
        # connection was disconnected and connected again on a loaded machine.
        if not _wait_open(connection, 30.0):
            sys.stderr.write(f"no open IEC 104 connection (STARTDT) to {args.host}:2404\n")
            return 1
        command_at = time.monotonic() + (1.0 if args.mode == "command" else 0.0)
        if args.mode == "poll":
            later = args.command_after
            command_at = time.monotonic() + later if later is not None else float("inf")
        while time.monotonic() < deadline:
            if time.monotonic() >= command_at:
                if not _close_breaker(connection, command):
                    return 1
                if args.mode == "command":
                    return 0
                command_at = float("inf")
            time.sleep(0.5)
        return 0
    finally:
        client.stop()


def _wait_open(connection: c104.Connection, timeout: float) -> bool:
    """Wait until data transfer is started (STARTDT confirmed); unmute a muted connection.

    c104 sometimes leaves a fresh connection muted (no STARTDT sent); an I-frame
    on it makes the RTU drop the connection, so the master starts it itself.
    """
    deadline = time.monotonic() + timeout
    muted_since: float | None = None
    while time.monotonic() < deadline:
        state = connection.state
        if state == c104.ConnectionState.OPEN:
            return True
        if state == c104.ConnectionState.OPEN_MUTED:
            muted_since = muted_since or time.monotonic()
            if time.monotonic() - muted_since > 2.0:
                connection.unmute()
                muted_since = time.monotonic()
        else:
            muted_since = None
        time.sleep(0.1)
    return False


def _close_breaker(connection: c104.Connection, command: c104.Point | None) -> bool:
    if command is None:
        return False
    for _attempt in range(2):
        if not _wait_open(connection, 10.0):
            continue
        command.value = True
        if command.transmit(cause=c104.Cot.ACTIVATION):
            return True
    sys.stderr.write("the RTU did not confirm the single command (two attempts)\n")
    return False


if __name__ == "__main__":
    sys.exit(main())
