"""A TeamViewer-like remote-desktop session on TCP 5938: a relay and an agent.

Not the real protocol: every message is framed ``17 24 <type> <len:2> <payload>``,
the leading bytes nDPI and similar classifiers key TeamViewer on, over the
port TeamViewer uses. The agent (inside the plant) dials out to the relay
(on the internet), as the real product does, and exchanges screen updates
and input events for --hold seconds.

Modes:
  relay   listen on --bind:5938 and echo acknowledgements
  agent   connect to --relay:5938, identify with --agent-id, stream for --hold seconds
"""

from __future__ import annotations

import os
import socket
import socketserver
import struct
import sys
import threading
import time

from otseam.lab.devices._common import announce_ready, parser

MAGIC = b"\x17\x24"
HELLO, SCREEN, INPUT, BYE = 0x10, 0x21, 0x22, 0x3F


def frame(kind: int, payload: bytes) -> bytes:
    return MAGIC + struct.pack(">BH", kind, len(payload)) + payload


def read_frame(conn: socket.socket) -> tuple[int, bytes]:
    header = _exact(conn, 5)
    if header[:2] != MAGIC:
        raise ValueError("not a lab remote-desktop frame")
    kind, length = struct.unpack(">BH", header[2:])
    return kind, _exact(conn, length)


def _exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


class Relay(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while True:
                kind, payload = read_frame(self.request)
                if kind == BYE:
                    return
                reply = INPUT if kind == SCREEN else HELLO
                self.request.sendall(frame(reply, os.urandom(24) if kind == SCREEN else payload))
        except (ConnectionError, ValueError):
            return


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__ or "")
    ap.add_argument("--mode", choices=("relay", "agent"), required=True)
    ap.add_argument("--bind", help="relay: address to listen on")
    ap.add_argument("--relay", help="agent: the relay's address")
    ap.add_argument("--agent-id", default="1 234 567 890")
    ap.add_argument("--hold", type=float, default=20.0)
    args = ap.parse_args(argv)
    if args.mode == "relay":
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        server = socketserver.ThreadingTCPServer((args.bind, 5938), Relay)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        announce_ready()
        threading.Event().wait(args.lifetime)
        server.shutdown()
        return 0
    end = time.monotonic() + min(args.hold, args.lifetime - 1)
    with socket.create_connection((args.relay, 5938), timeout=5) as conn:
        conn.sendall(frame(HELLO, f"ID {args.agent_id}".encode()))
        read_frame(conn)
        while time.monotonic() < end:
            conn.sendall(frame(SCREEN, os.urandom(400)))
            read_frame(conn)
            time.sleep(0.5)
        conn.sendall(frame(BYE, b""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
