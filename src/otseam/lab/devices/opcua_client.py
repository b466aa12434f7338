"""An OPC UA client (asyncua): cyclic reads, or one write of a setpoint.

Modes:
  poll   connect (GetEndpoints, CreateSession, ActivateSession), read BuildInfo,
         then Read Line1.TankLevel every --interval
  write  connect and Write Line1.Setpoint := --value
"""

from __future__ import annotations

import asyncio
import sys
import time

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.object_ids import ObjectIds

from otseam.lab.devices._common import parser, run_bounded, until


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--url", required=True)
    ap.add_argument("--mode", choices=("poll", "write"), required=True)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--value", type=float, default=850.0)
    args = ap.parse_args(argv)
    deadline = until(args.lifetime, margin=2.0)

    async def session() -> None:
        async with Client(url=args.url, timeout=5) as client:
            namespace = await client.get_namespace_index("urn:otseam:lab:plant")
            if args.mode == "write":
                node = client.get_node(f"ns={namespace};s=Line1.Setpoint")
                await node.write_value(ua.DataValue(ua.Variant(args.value, ua.VariantType.Double)))
                return
            build = client.get_node(f"i={ObjectIds.Server_ServerStatus_BuildInfo}")
            await build.read_value()
            level = client.get_node(f"ns={namespace};s=Line1.TankLevel")
            while time.monotonic() < deadline:
                await level.read_value()
                await asyncio.sleep(args.interval)

    return run_bounded(session, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
