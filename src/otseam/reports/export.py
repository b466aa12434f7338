"""The whole model as one JSON document (documented in docs/export.md).

``schema_version`` changes whenever a field changes meaning or goes away;
new fields may appear without a version change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.engine import Connection

from otseam import __version__
from otseam.store.queries import asset_rows, capture_rows, flow_rows, operation_rows

__all__ = ["SCHEMA_VERSION", "export_model", "iso_time"]

SCHEMA_VERSION: Final = 1


def iso_time(ns: int | None) -> str | None:
    """'2015-03-31T18:49:45.007800123Z' (UTC, nanoseconds) from nanoseconds since the epoch."""
    if ns is None:
        return None
    seconds, rest = divmod(int(ns), 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest:09d}Z"


def export_model(conn: Connection) -> dict[str, Any]:
    """Captures, assets, flows and operations as plain JSON-ready data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"otseam {__version__}",
        "captures": [
            {
                "name": c["name"],
                "content_hash": c["content_hash"],
                "format": c["file_format"],
                "packets": c["packets"],
                "bytes": c["bytes"],
                "first_seen": iso_time(c["first_seen"]),
                "last_seen": iso_time(c["last_seen"]),
            }
            for c in capture_rows(conn)
        ],
        "assets": [
            {
                "id": a["id"],
                "ips": a["ips"],
                "macs": a["macs"],
                "mac_vendor": a["mac_vendor"],
                "vendor": a["vendor"],
                "product": a["product"],
                "model": a["model"],
                "firmware": a["firmware"],
                "serial": a["serial"],
                "name": a["name"],
                "role": a["role"],
                "role_evidence": a["role_evidence"],
                "is_gateway": bool(a["is_gateway"]),
                "protocols": a["protocols"],
                "first_seen": iso_time(a["first_seen"]),
                "last_seen": iso_time(a["last_seen"]),
            }
            for a in asset_rows(conn)
        ],
        "flows": [
            {
                "proto": f["transport"],
                "a": f["a"],
                "a_port": f["a_port"],
                "b": f["b"],
                "b_port": f["b_port"],
                "packets": f["a_to_b_packets"] + f["b_to_a_packets"],
                "bytes": f["a_to_b_bytes"] + f["b_to_a_bytes"],
                "a_to_b_packets": f["a_to_b_packets"],
                "b_to_a_packets": f["b_to_a_packets"],
                "a_to_b_bytes": f["a_to_b_bytes"],
                "b_to_a_bytes": f["b_to_a_bytes"],
                "initiator": f["initiator"],
                "first_seen": iso_time(f["first_seen"]),
                "last_seen": iso_time(f["last_seen"]),
                "app_protocol": f["app_protocol"],
            }
            for f in flow_rows(conn)
        ],
        "operations": [
            {
                "src": o["src"],
                "dst": o["dst"],
                "protocol": o["protocol"],
                "operation": o["operation"],
                "function_code": o["code"],
                "function_name": o["code_name"],
                "exception": bool(o["exception"]),
                "count": o["count"],
                "first_seen": iso_time(o["first_seen"]),
                "last_seen": iso_time(o["last_seen"]),
            }
            for o in operation_rows(conn)
        ],
    }
