"""A BACnet/IP building controller (bacpypes3) with a configured Device object.

Identity is in the Device object (ANSI/ASHRAE 135, clause 12.11): vendor
name and identifier, model name, firmware revision, application software
version and serial number, read with ReadProperty; the controller answers
Who-Is with I-Am (vendor identifier, device instance).
"""

from __future__ import annotations

import asyncio
import sys

from bacpypes3.app import Application  # type: ignore[import-untyped, import-not-found, unused-ignore]
from bacpypes3.local.analog import AnalogValueObject  # type: ignore[import-untyped, import-not-found, unused-ignore]
from bacpypes3.local.device import DeviceObject  # type: ignore[import-untyped, import-not-found, unused-ignore]
from bacpypes3.local.networkport import NetworkPortObject  # type: ignore[import-untyped, import-not-found, unused-ignore]

from otseam.lab.devices._common import announce_ready, parser, run_bounded


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--address", required=True, help="IP/prefix, e.g. 10.40.0.30/24")
    ap.add_argument("--instance", type=int, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--vendor-id", type=int, required=True)
    ap.add_argument("--vendor", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--firmware", required=True)
    ap.add_argument("--application", default="")
    ap.add_argument("--serial", default="")
    args = ap.parse_args(argv)

    async def serve() -> None:
        device = DeviceObject(
            objectIdentifier=("device", args.instance),
            objectName=args.name,
            vendorIdentifier=args.vendor_id,
            vendorName=args.vendor,
            modelName=args.model,
            firmwareRevision=args.firmware,
            applicationSoftwareVersion=args.application,
            serialNumber=args.serial,
        )
        port = NetworkPortObject(
            args.address, objectIdentifier=("network-port", 1), objectName="NetworkPort-1"
        )
        supply = AnalogValueObject(
            objectIdentifier=("analog-value", 1),
            objectName="AHU1-SupplyAirTemp",
            presentValue=18.5,
            statusFlags=[0, 0, 0, 0],
            units="degreesCelsius",
        )
        app = Application.from_object_list([device, port, supply])
        announce_ready()
        try:
            while True:
                await asyncio.sleep(3600)
        finally:
            app.close()

    return run_bounded(serve, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
