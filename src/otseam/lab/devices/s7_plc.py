"""A Siemens S7-300 as seen on the wire: python-snap7's S7 server with a configured SZL identity.

The identity is what S7comm clients read with Read SZL: SZL-ID 0x0011
(module identification: order number and version) and SZL-ID 0x001C
(component identification: station name, module name, serial number, module
type). The server holds DB1 (process data, read cyclically by the HMI) and
DB10 (the block the engineering workstation downloads).
"""

from __future__ import annotations

import struct
import sys
import threading

from snap7.server import Server
from snap7.type import SrvArea

from otseam.lab.devices._common import announce_ready, parser


class IdentifiedServer(Server):
    """python-snap7's server answering SZL 0x0011 and 0x001C with the configured identity."""

    def __init__(self, names: dict[str, str], version: tuple[int, int, int]) -> None:
        super().__init__(log=False)
        self.names = names
        self.version = version

    def _get_szl_data(self, szl_id: int, szl_index: int) -> bytes | None:
        if szl_id == 0x001C:
            data = bytearray(210)
            _put(data, 6, 24, self.names["station"])
            _put(data, 40, 24, self.names["module"])
            _put(data, 108, 26, self.names["copyright"])
            _put(data, 142, 24, self.names["serial"])
            _put(data, 176, 32, self.names["module_type"])
            return bytes(data)
        if szl_id == 0x0011:
            # Records of 28 bytes: Index, MLFB[20], BGTyp, Ausbg, Ausbe (S7-300 system
            # manual, SZL-ID W#16#xy11). Index 1 is the module; index 7 the firmware,
            # whose Ausbg/Ausbe hold "V", V1, V2, V3.
            order = self.names["order_code"].encode().ljust(20, b" ")[:20]
            module = struct.pack(">H", 0x0001) + order + bytes(6)
            firmware = struct.pack(">H", 0x0007) + b" " * 20 + bytes(2) + b"V" + bytes(self.version)
            return struct.pack(">HH", 28, 2) + module + firmware
        result: bytes | None = super()._get_szl_data(szl_id, szl_index)
        return result


def _put(data: bytearray, offset: int, size: int, text: str) -> None:
    data[offset : offset + size] = text.encode().ljust(size, b"\x00")[:size]


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--station", required=True, help="station (AS) name, SZL 0x001C index 1")
    ap.add_argument("--module", required=True, help="module name, SZL 0x001C index 2")
    ap.add_argument("--module-type", required=True, help="module type name, SZL 0x001C index 7")
    ap.add_argument("--serial", required=True, help="serial number, SZL 0x001C index 5")
    ap.add_argument("--order-code", required=True, help="MLFB, SZL 0x0011")
    ap.add_argument("--firmware", required=True, help="V1.V2.V3, SZL 0x0011")
    args = ap.parse_args(argv)
    major, minor, patch = (int(part) for part in args.firmware.lstrip("Vv").split("."))
    names = {
        "station": args.station,
        "module": args.module,
        "module_type": args.module_type,
        "serial": args.serial,
        "order_code": args.order_code,
        "copyright": "Original Siemens Equipment",
    }
    server = IdentifiedServer(names, (major, minor, patch))
    process_image = bytearray(struct.pack(">8h", 712, 455, 1200, 20, 0, 1, 0, 0).ljust(64, b"\0"))
    server.register_area(SrvArea.DB, 1, process_image)
    server.register_area(SrvArea.DB, 10, bytearray(256))
    server.host = args.bind
    server.start(tcp_port=102)
    announce_ready()
    threading.Event().wait(args.lifetime)
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
