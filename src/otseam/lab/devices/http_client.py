"""An HTTP client: a browser or a data push, a bounded number of requests."""

from __future__ import annotations

import json
import sys
import time
import urllib.request

from otseam.lab.devices._common import parser, until


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--url", action="append", required=True)
    ap.add_argument("--post", action="store_true", help="POST a sample record instead of GET")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--user-agent", default="Mozilla/5.0 (Windows NT 10.0; Win64; x64)")
    args = ap.parse_args(argv)
    deadline = until(args.lifetime)
    for round_ in range(args.repeat):
        for url in args.url:
            data = None
            if args.post:
                record = {"tag": "TANK1.LEVEL", "value": 1200 + round_, "ts": time.time()}
                data = json.dumps(record).encode()
            headers = {"User-Agent": args.user_agent}
            if data is not None:
                headers["Content-Type"] = "application/json"
            request = urllib.request.Request(url, data=data, headers=headers)
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
        if round_ + 1 < args.repeat and time.monotonic() + args.interval < deadline:
            time.sleep(args.interval)
        elif round_ + 1 < args.repeat:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
