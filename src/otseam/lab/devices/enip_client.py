"""An EtherNet/IP scanner (cpppo client): List Identity, and cyclic tag reads.

Modes:
  identify  List Identity (encapsulation 0x0063) over UDP then TCP
  poll      Register Session, then CIP Read Tag of --tag every --interval
"""

from __future__ import annotations

import sys
import time

from cpppo.server.enip import client  # type: ignore[import-untyped, import-not-found, unused-ignore]

from otseam.lab.devices._common import parser, until


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--host", required=True)
    ap.add_argument("--mode", choices=("identify", "poll"), required=True)
    ap.add_argument("--tag", default="Flow[0-3]")
    ap.add_argument("--interval", type=float, default=1.0)
    args = ap.parse_args(argv)
    if args.mode == "identify":
        for udp in (True, False):
            with client.client(host=args.host, udp=udp) as conn:
                conn.list_identity(timeout=3)
                response, _elapsed = client.await_response(conn, timeout=3)
                if not response:
                    transport = "UDP" if udp else "TCP"
                    sys.stderr.write(f"no List Identity reply from {args.host} over {transport}\n")
                    return 1
                identity = response.enip.CIP.list_identity.CPF.item[0].identity_object
                sys.stdout.write(f"{identity.product_name} serial {identity.serial_number}\n")
        return 0
    deadline = until(args.lifetime)
    with client.connector(host=args.host, timeout=3) as conn:
        while time.monotonic() < deadline:
            operations = client.parse_operations([args.tag])
            for _index, _descr, _op, _reply, status, _value in conn.pipeline(
                operations=operations, depth=1, timeout=3
            ):
                if status not in (0, None):
                    sys.stderr.write(f"CIP read of {args.tag} failed with status {status}\n")
                    return 1
            time.sleep(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
