"""An SSH session (OpenSSH client) with the lab's key, optionally hopping onward.

With --then HOST the remote command is itself an ssh session from the first
server to HOST: a vendor's hop through a jump host.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from otseam.lab.devices._common import parser


def ssh_argv(key: Path, host: str, command: str) -> list[str]:
    options = [
        "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
    ]  # fmt: skip
    return ["ssh", *options, f"root@{host}", command]


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--host", required=True)
    ap.add_argument("--then", help="hop from --host onward to this address")
    ap.add_argument("--hold", type=float, default=10.0, help="seconds the session stays open")
    args = ap.parse_args(argv)
    key = Path(os.environ["OTSEAM_LAB_WORK"]) / "ssh" / "lab_key"
    hold = max(min(args.hold, args.lifetime - 8.0), 1.0)  # leave time for both handshakes
    work = f"echo session-open; sleep {hold:.0f}; echo session-close"
    command = work
    if args.then:
        command = shlex.join(ssh_argv(key, args.then, work))
    result = subprocess.run(
        ssh_argv(key, args.host, command),
        capture_output=True, text=True, timeout=args.lifetime, check=False,
    )  # fmt: skip
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
