"""An SSH server: OpenSSH's sshd with a throwaway host key and the lab's client key.

The lab's client key pair is made per run by the lab (``$OTSEAM_LAB_WORK/ssh``);
only public-key logins with it are accepted. sshd needs its privilege
separation folder, /run/sshd, which this program creates if missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from otseam.lab.devices._common import announce_ready, parser, wait_for_port


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=22)
    args = ap.parse_args(argv)
    authorized = Path(os.environ["OTSEAM_LAB_WORK"]) / "ssh" / "lab_key.pub"
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ots-sshd-") as folder:
        host_key = Path(folder) / "host_ed25519"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)],
            check=True, timeout=20,
        )  # fmt: skip
        config = Path(folder) / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"ListenAddress {args.bind}:{args.port}",
                    f"HostKey {host_key}",
                    f"AuthorizedKeysFile {authorized}",
                    "PidFile none",
                    "PermitRootLogin prohibit-password",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "UseDNS no",
                    "LogLevel INFO",
                    "",
                ]
            )
        )
        with subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)]) as sshd:
            try:
                if not wait_for_port(args.bind, args.port, timeout=min(15.0, args.lifetime)):
                    sys.stderr.write(f"sshd did not listen on {args.bind}:{args.port}\n")
                    return 2
                announce_ready()
                try:
                    code = sshd.wait(timeout=args.lifetime)
                except subprocess.TimeoutExpired:
                    return 0
                sys.stderr.write(f"sshd exited early with code {code}\n")
                return 2
            finally:
                sshd.terminate()
                try:
                    sshd.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    sshd.kill()


if __name__ == "__main__":
    sys.exit(main())
