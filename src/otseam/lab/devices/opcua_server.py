"""An OPC UA server (asyncua) with configured BuildInfo and a small address space.

The identity is in the server's ApplicationDescription (GetEndpoints /
CreateSession replies) and in Server.ServerStatus.BuildInfo (OPC 10000-5,
section 12.4): ProductUri, ManufacturerName, ProductName, SoftwareVersion,
BuildNumber. Security is None (as on many plant floors), so the
exchange is readable in the capture.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from asyncua import ua
from asyncua.server.server import Server

from otseam.lab.devices._common import announce_ready, parser, run_bounded


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=4840)
    ap.add_argument("--name", required=True, help="application name")
    ap.add_argument("--manufacturer", required=True)
    ap.add_argument("--product", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--build", default="1")
    ap.add_argument("--product-uri", default="urn:otseam:lab:opcua")
    args = ap.parse_args(argv)

    async def serve() -> None:
        server = Server()
        await server.init()
        server.set_endpoint(f"opc.tcp://{args.bind}:{args.port}/")
        server.set_server_name(args.name)
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        await server.set_application_uri(f"urn:{args.name}")
        await server.set_build_info(
            args.product_uri, args.manufacturer, args.product, args.version, args.build,
            datetime(2024, 3, 1, tzinfo=UTC),
        )  # fmt: skip
        namespace = await server.register_namespace("urn:otseam:lab:plant")
        line = await server.nodes.objects.add_object(namespace, "Line1")
        level = await line.add_variable(
            ua.NodeId.from_string(f"ns={namespace};s=Line1.TankLevel"), "TankLevel", 712.0
        )
        setpoint = await line.add_variable(
            ua.NodeId.from_string(f"ns={namespace};s=Line1.Setpoint"), "Setpoint", 800.0
        )
        await setpoint.set_writable()
        async with server:
            announce_ready()
            tick = 0
            while True:
                tick += 1
                await level.write_value(700.0 + (tick % 40))
                await asyncio.sleep(1.0)

    return run_bounded(serve, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
