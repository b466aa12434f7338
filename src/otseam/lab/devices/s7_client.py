"""An S7comm client (python-snap7): HMI polling or engineering-workstation actions.

Modes:
  poll      read DB1 bytes 0-15 every --interval (S7 Read Var)
  identify  read SZL 0x0011 (order code) and 0x001C (component identification)
  download  download a 64-byte DB10 image (Request Download / Download Block / Download Ended)
  stop      PLC Stop (function 0x29)
  start     PLC hot restart (PI service P_PROGRAM)
"""

from __future__ import annotations

import sys
import time

import snap7

from otseam.lab.devices._common import parser, until


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--host", required=True)
    ap.add_argument(
        "--mode", choices=("poll", "identify", "download", "stop", "start"), required=True
    )
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--rack", type=int, default=0)
    ap.add_argument("--slot", type=int, default=2)
    args = ap.parse_args(argv)
    client = snap7.Client()
    client.connect(args.host, args.rack, args.slot)
    try:
        if args.mode == "poll":
            deadline = until(args.lifetime)
            while time.monotonic() < deadline:
                client.db_read(1, 0, 16)
                time.sleep(args.interval)
        elif args.mode == "identify":
            order = client.get_order_code()
            info = client.get_cpu_info()
            sys.stdout.write(f"{order.OrderCode!r} {info.ModuleTypeName!r} {info.SerialNumber!r}\n")
        elif args.mode == "download":
            image = bytearray(b"OTSEAM-LAB recipe 42".ljust(64, b"\0"))
            client.download(image, block_num=10)
        elif args.mode == "stop":
            client.plc_stop()
        else:
            client.plc_hot_start()
    finally:
        client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
