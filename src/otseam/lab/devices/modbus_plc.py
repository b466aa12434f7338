"""A Modbus/TCP PLC: pymodbus server with Read Device Identification (FC 43/14).

The identity objects (Modbus Application Protocol v1.1b3, section 6.21) come
from the command line: VendorName, ProductCode, MajorMinorRevision, VendorUrl,
ProductName, ModelName, UserApplicationName.
"""

from __future__ import annotations

import sys

from pymodbus import ModbusDeviceIdentification
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from otseam.lab.devices._common import announce_ready, parser, run_bounded


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=502)
    ap.add_argument("--vendor", required=True)
    ap.add_argument("--product-code", required=True)
    ap.add_argument("--revision", required=True)
    ap.add_argument("--vendor-url", default="")
    ap.add_argument("--product-name", default="")
    ap.add_argument("--model", required=True)
    ap.add_argument("--application", default="")
    args = ap.parse_args(argv)
    identity = ModbusDeviceIdentification(  # type: ignore[no-untyped-call]
        info_name={
            "VendorName": args.vendor,
            "ProductCode": args.product_code,
            "MajorMinorRevision": args.revision,
            "VendorUrl": args.vendor_url,
            "ProductName": args.product_name,
            "ModelName": args.model,
            "UserApplicationName": args.application,
        }
    )
    # Holding registers 0-99: a tank process image; coils 0-15: pumps and valves.
    device = SimDevice(
        id=0,
        simdata=(
            [SimData(address=0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(address=0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(address=0, count=100, values=1200, datatype=DataType.REGISTERS)],
            [SimData(address=0, count=100, values=20, datatype=DataType.REGISTERS)],
        ),
    )

    async def serve() -> None:
        server = ModbusTcpServer(device, address=(args.bind, args.port), identity=identity)
        announce_ready()
        await server.serve_forever()

    return run_bounded(serve, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
