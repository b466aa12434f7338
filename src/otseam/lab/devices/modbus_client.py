"""A Modbus/TCP client (pymodbus): cyclic polling, writes, or device identification.

Modes:
  poll      read holding registers 0-9 (FC 3) and coils 0-7 (FC 1) every --interval
  write     write register --register (FC 6) and coil --coil (FC 5), then read back
  identify  Read Device Identification (FC 43 / MEI 14), basic then regular objects
"""

from __future__ import annotations

import sys
import time

from pymodbus.client import ModbusTcpClient

from otseam.lab.devices._common import parser, until


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=502)
    ap.add_argument("--mode", choices=("poll", "write", "identify"), required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--register", type=int, default=5)
    ap.add_argument("--value", type=int, default=1500)
    ap.add_argument("--coil", type=int, default=3)
    args = ap.parse_args(argv)
    client = ModbusTcpClient(args.host, port=args.port, timeout=3, retries=1)
    if not client.connect():  # type: ignore[no-untyped-call]  # pymodbus leaves it untyped
        sys.stderr.write(f"cannot connect to Modbus server {args.host}:{args.port}\n")
        return 2
    try:
        if args.mode == "poll":
            deadline = until(args.lifetime)
            while time.monotonic() < deadline:
                _checked(client.read_holding_registers(0, count=10), "read holding registers")
                _checked(client.read_coils(0, count=8), "read coils")
                time.sleep(args.interval)
        elif args.mode == "write":
            _checked(client.write_register(args.register, args.value), "write register")
            _checked(client.write_coil(args.coil, True), "write coil")
            _checked(client.read_holding_registers(args.register, count=1), "read back")
        else:
            for read_code in (1, 2):
                reply = _checked(client.read_device_information(read_code=read_code), "identify")
                info = getattr(reply, "information", {})
                sys.stdout.write(f"identity objects {sorted(info)}: {info}\n")
    finally:
        client.close()  # type: ignore[no-untyped-call]
    return 0


def _checked(reply: object, what: str) -> object:
    if getattr(reply, "isError", lambda: True)():
        raise RuntimeError(f"Modbus {what} failed: {reply}")
    return reply


if __name__ == "__main__":
    sys.exit(main())
