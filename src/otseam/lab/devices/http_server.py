"""A small HTTP server standing in for an ERP, MES or historian web application.

GET returns a page naming the application; POST (a historian's data push) is
stored in memory and acknowledged. The Server header carries the product.
"""

from __future__ import annotations

import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from otseam.lab.devices._common import announce_ready, parser


class QuietHTTPServer(ThreadingHTTPServer):
    """An HTTP server that does not look its own name up in DNS when it binds."""

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--product", default="otseam-lab-http/1.0")
    ap.add_argument("--title", default="Plant application")
    args = ap.parse_args(argv)
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        server_version = args.product
        sys_version = ""

        def do_GET(self) -> None:
            body = f"<html><title>{args.title}</title><body>{self.path}</body></html>".encode()
            self._reply(200, body, "text/html")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append(self.rfile.read(length))
            self._reply(201, b'{"stored": true}', "application/json")

        def _reply(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *values: object) -> None:
            return

    servers = [QuietHTTPServer((args.bind, port), Handler) for port in args.port]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    announce_ready()
    threading.Event().wait(args.lifetime)
    for server in servers:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
