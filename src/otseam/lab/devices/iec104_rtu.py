"""An IEC 60870-5-104 RTU (c104, built on lib60870): a station with measurands and a breaker.

Common address --common-address; points: IOA 11 M_ME_NC_1 (feeder current,
reported every 5 s), IOA 12 M_SP_NA_1 (breaker position), IOA 21 C_SC_NA_1
(breaker command, mirrored into IOA 12). Answers general interrogation.
"""

from __future__ import annotations

import sys
import threading

import c104

from otseam.lab.devices._common import announce_ready, parser


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--common-address", type=int, required=True)
    args = ap.parse_args(argv)
    server = c104.Server(ip=args.bind, port=2404)
    station = server.add_station(common_address=args.common_address)
    if station is None:
        sys.stderr.write(f"c104 refused common address {args.common_address}\n")
        return 2
    current = station.add_point(io_address=11, type=c104.Type.M_ME_NC_1, report_ms=5000)
    breaker = station.add_point(io_address=12, type=c104.Type.M_SP_NA_1)
    station.add_point(
        io_address=21, type=c104.Type.C_SC_NA_1, related_io_address=12, related_io_autoreturn=True
    )
    if current is None or breaker is None:
        sys.stderr.write("c104 refused a point definition\n")
        return 2
    current.value = 412.5
    server.start()
    announce_ready()
    threading.Event().wait(args.lifetime)
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
