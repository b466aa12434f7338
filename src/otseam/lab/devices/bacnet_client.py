"""A BACnet/IP client (bacpypes3): Who-Is, then ReadProperty of identity and values.

Modes:
  identify  Who-Is (directed to the device), ReadProperty vendorName, modelName,
            firmwareRevision, serialNumber of the Device object
  poll      identify first (as an HMI discovers its devices at start-up), then
            ReadProperty presentValue of analog-value 1 every --interval

One process per client: BACnet/IP clients bind UDP 47808 themselves, so two
on one host would steal each other's replies.
"""

from __future__ import annotations

import asyncio
import sys
import time

from bacpypes3.app import Application  # type: ignore[import-untyped, import-not-found, unused-ignore]
from bacpypes3.local.device import DeviceObject  # type: ignore[import-untyped, import-not-found, unused-ignore]
from bacpypes3.local.networkport import NetworkPortObject  # type: ignore[import-untyped, import-not-found, unused-ignore]
from bacpypes3.pdu import Address  # type: ignore[import-untyped, import-not-found, unused-ignore]

from otseam.lab.devices._common import parser, run_bounded, until

IDENTITY = ("vendorName", "modelName", "firmwareRevision", "serialNumber")


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--address", required=True, help="own IP/prefix")
    ap.add_argument("--device", required=True, help="the controller's IP")
    ap.add_argument("--instance", type=int, required=True, help="the controller's device instance")
    ap.add_argument("--mode", choices=("identify", "poll"), required=True)
    ap.add_argument("--interval", type=float, default=5.0)
    args = ap.parse_args(argv)
    deadline = until(args.lifetime, margin=2.0)

    async def session() -> None:
        me = DeviceObject(
            objectIdentifier=("device", 599), objectName="HMI-BACnet-client", vendorIdentifier=999
        )
        port = NetworkPortObject(
            args.address, objectIdentifier=("network-port", 1), objectName="NetworkPort-1"
        )
        app = Application.from_object_list([me, port])
        target = Address(args.device)
        try:
            found = await app.who_is(args.instance, args.instance, target, timeout=3)
            if not found:
                raise RuntimeError(f"no I-Am from BACnet device {args.instance}")
            for prop in IDENTITY:
                await app.read_property(target, f"device,{args.instance}", prop)
            if args.mode == "identify":
                return
            while time.monotonic() < deadline:
                await app.read_property(target, "analog-value,1", "presentValue")
                await asyncio.sleep(args.interval)
        finally:
            app.close()

    return run_bounded(session, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
