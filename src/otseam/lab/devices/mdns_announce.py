"""mDNS announcements (RFC 6762, section 8.3) of a host name, once per interface address.

A dual-homed workstation announces the same name from each of its
interfaces, which is one way its two halves can be tied together.
"""

from __future__ import annotations

import socket
import sys
import time

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from otseam.lab.devices._common import parser

GROUP = ("224.0.0.251", 5353)


def announcement(name: str, address: str) -> bytes:
    message = dns.message.Message(id=0)
    message.flags = 0x8400  # response, authoritative
    record = dns.rrset.from_text(f"{name}.local.", 120, dns.rdataclass.IN, dns.rdatatype.A, address)
    message.answer.append(record)
    wire: bytes = message.to_wire()
    return wire


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--name", required=True)
    ap.add_argument("--address", action="append", required=True)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    for round_ in range(args.repeat):
        for address in args.address:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
                sock.setsockopt(
                    socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address)
                )
                sock.bind((address, 5353))
                sock.sendto(announcement(args.name, address), GROUP)
        if round_ + 1 < args.repeat:
            time.sleep(1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
