"""An EtherNet/IP adapter: cpppo's EtherNet/IP server with a configured Identity object.

cpppo answers List Identity (encapsulation command 0x0063, ODVA Vol. 2 section
2-4.2) over TCP and UDP 44818 from its Identity object (class 0x01), whose
attributes come from the ``[Identity]`` section of the configuration file this
program writes. It also serves CIP tags for cyclic reads.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from otseam.lab.devices._common import announce_ready, parser, wait_for_port


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=44818)
    ap.add_argument("--vendor-id", type=int, required=True)
    ap.add_argument("--device-type", type=int, default=12)
    ap.add_argument("--product-code", type=int, required=True)
    ap.add_argument("--revision", required=True, help="MAJOR.MINOR")
    ap.add_argument("--serial", type=lambda text: int(text, 0), required=True)
    ap.add_argument("--product-name", required=True)
    ap.add_argument("--tag", action="append", default=["Flow=REAL[4]", "Setpoint=INT[8]"])
    args = ap.parse_args(argv)
    major, minor = (int(part) for part in args.revision.split("."))
    config = "\n".join(
        [
            "[Identity]",
            f"Vendor Number = {args.vendor_id}",
            f"Device Type = {args.device_type}",
            f"Product Code Number = {args.product_code}",
            f"Product Revision = {major + (minor << 8)}",
            f"Serial Number = {args.serial}",
            f"Product Name = {args.product_name}",
            "",
        ]
    )
    with tempfile.TemporaryDirectory(prefix="ots-enip-") as folder:
        path = Path(folder) / "adapter.cfg"
        path.write_text(config)
        command = [
            sys.executable, "-m", "cpppo.server.enip",
            "--address", f"{args.bind}:{args.port}", "--udp", "--tcp",
            "--config", str(path), "--no-print", *args.tag,
        ]  # fmt: skip
        with subprocess.Popen(command) as server:
            try:
                if not wait_for_port(args.bind, args.port, timeout=min(20.0, args.lifetime)):
                    sys.stderr.write(f"cpppo did not listen on {args.bind}:{args.port}\n")
                    return 2
                announce_ready()
                try:
                    return_code = server.wait(timeout=args.lifetime)
                except subprocess.TimeoutExpired:
                    return 0
                sys.stderr.write(f"cpppo exited early with code {return_code}\n")
                return 2
            finally:
                server.terminate()
                try:
                    server.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    server.kill()


if __name__ == "__main__":
    sys.exit(main())
