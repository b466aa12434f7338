"""DNS lookups (dnspython) against the site's resolver, as a workstation makes them."""

from __future__ import annotations

import sys

import dns.message
import dns.query

from otseam.lab.devices._common import parser


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--server", required=True)
    ap.add_argument("--name", action="append", required=True)
    args = ap.parse_args(argv)
    for name in args.name:
        reply = dns.query.udp(dns.message.make_query(name, "A"), args.server, timeout=3)
        if not reply.answer:
            sys.stderr.write(f"no answer for {name} from {args.server}\n")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
