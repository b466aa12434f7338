"""A bounded TCP connect scan, as malware on an office PC probes the plant.

At most --max-probes connection attempts (default 64), each with a 0.5 s
timeout, spaced by --gap seconds; it stops by itself.
"""

from __future__ import annotations

import socket
import sys
import time

from otseam.lab.devices._common import parser


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--target", action="append", required=True)
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--gap", type=float, default=0.05)
    ap.add_argument("--max-probes", type=int, default=64)
    args = ap.parse_args(argv)
    probes = [(host, port) for host in args.target for port in args.port][: args.max_probes]
    open_ports = []
    for host, port in probes:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                open_ports.append(f"{host}:{port}")
        except OSError:
            pass
        time.sleep(args.gap)
    sys.stdout.write(f"{len(probes)} probes, open: {' '.join(open_ports)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
