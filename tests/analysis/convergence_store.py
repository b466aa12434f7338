"""A small builder of stores for convergence tests: a fresh SQLite store with
hand-written facts (assets, conversations, identities, operations), so each
test states exactly the traffic its rule sees."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from otseam.analysis.convergence import analyse
from otseam.model.convergence import Convergence, Finding
from otseam.site.load import parse_site
from otseam.site.model import Site
from otseam.store.database import open_store
from otseam.store.schema import asset_addresses, assets, conversations, identities, operations

__all__ = ["PLANT_ZONES", "T0", "StoreBuilder", "at", "findings_of", "plant", "site"]

SYN_ACK: Final = 0x12
RST_ACK: Final = 0x14
SECOND: Final = 1_000_000_000


def at(text: str) -> int:
    """Nanoseconds since the epoch for an ISO time in UTC ("2024-03-06T10:00")."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * SECOND


T0: Final = at("2024-03-06T10:00")  # a Wednesday, mid-morning


def site(text: str) -> Site:
    """A site read from YAML text, as from a file named test.yaml."""
    return parse_site(text, "test.yaml")


PLANT_ZONES: Final = """
version: 1
site: {name: Test plant, timezone: UTC}
teams:
  - {name: it-team, kind: it, contact: it@example.com}
  - {name: ot-team, kind: ot, contact: ot@example.com}
  - {name: integrator, kind: vendor}
people:
  - {name: alice, team: ot-team}
zones:
  - {name: office, kind: it, purdue_level: 4, cidrs: [10.1.0.0/24], owner: it-team}
  - {name: guest, kind: it, purdue_level: 5, cidrs: [10.2.0.0/24], owner: it-team}
  - {name: dmz, kind: dmz, purdue_level: 3.5, cidrs: [10.3.0.0/24], owner: it-team}
  - {name: operations, kind: ot, purdue_level: 3, cidrs: [10.20.0.0/24], owner: ot-team}
  - {name: cell, kind: ot, purdue_level: 1, cidrs: [10.10.0.0/24], owner: ot-team}
monitoring: {it: it-team, ot: ot-team, agreed: true}
"""


def plant(extra: str = "") -> Site:
    """The test plant: office (IT 4), guest (IT 5), dmz (3.5), operations (OT 3)
    and cell (OT 1), each a /24 of 10.x, owned by it-team or ot-team; ``extra``
    is appended YAML (conduits:, channels:, assets: ...)."""
    return site(PLANT_ZONES + extra)


def findings_of(result: Convergence, kind: str) -> list[Finding]:
    return [f for f in result.findings if f.kind == kind]


class StoreBuilder:
    """Writes facts into a fresh store; ``analyse`` runs the convergence analysis."""

    def __init__(self, path: Path) -> None:
        self.engine: Engine = open_store(str(path))
        self._assets = 0
        self._client_port = 40000

    def asset(
        self,
        *ips: str,
        role: str = "unknown",
        name: str | None = None,
        macs: tuple[str, ...] = (),
        serial: str | None = None,
        gateway: bool = False,
    ) -> int:
        """One asset holding ``ips`` (and ``macs``); returns its id."""
        self._assets += 1
        key = f"mac:{macs[0]}" if macs else f"ip:{ips[0]}" if ips else f"asset-{self._assets}"
        with self.engine.begin() as conn:
            inserted = conn.execute(
                insert(assets).values(
                    key=key,
                    name=name,
                    role=role,
                    role_evidence=f"set by the test: {role}",
                    serial=serial,
                    is_gateway=gateway,
                    first_seen=T0,
                    last_seen=T0,
                )
            ).inserted_primary_key
            assert inserted is not None
            asset_id = int(inserted[0])
            rows = [{"asset_id": asset_id, "kind": "ip", "value": ip} for ip in ips]
            rows += [{"asset_id": asset_id, "kind": "mac", "value": mac} for mac in macs]
            if rows:
                conn.execute(insert(asset_addresses), rows)
        return asset_id

    def conversation(
        self,
        client: str,
        server: str,
        port: int,
        *,
        transport: str = "tcp",
        app: str | None = None,
        answered: bool = True,
        first_seen: int = T0,
        last_seen: int | None = None,
        packets: int = 10,
        size: int = 1000,
        vlan: int = 0,
        stored_reversed: bool = False,
    ) -> None:
        """One conversation ``client`` opened to ``server``:``port``. Unanswered
        TCP is a SYN met by a RST; unanswered UDP gets nothing back.
        ``stored_reversed`` stores the server as side a (initiator "b")."""
        self._client_port += 1
        back = packets // 2 if answered else (1 if transport == "tcp" else 0)
        back_bytes = size * back // max(packets, 1)
        tcp = transport == "tcp"
        server_flags = (SYN_ACK if answered else RST_ACK) if tcp else 0
        opener = (
            client,
            self._client_port,
            packets - back,
            size - back_bytes,
            SYN_ACK if tcp else 0,
        )
        served = (server, port, back, back_bytes, server_flags)
        a, b = (served, opener) if stored_reversed else (opener, served)
        with self.engine.begin() as conn:
            conn.execute(
                insert(conversations).values(
                    transport=transport,
                    a=a[0],
                    a_port=a[1],
                    b=b[0],
                    b_port=b[1],
                    a_to_b_packets=a[2],
                    b_to_a_packets=b[2],
                    a_to_b_bytes=a[3],
                    b_to_a_bytes=b[3],
                    first_seen=first_seen,
                    last_seen=first_seen + 60 * SECOND if last_seen is None else last_seen,
                    initiator="b" if stored_reversed else "a",
                    a_tcp_flags=a[4],
                    b_tcp_flags=b[4],
                    app_protocol=app,
                    vlan=vlan,
                )
            )

    def identity(self, address: str, protocol: str, attribute: str, value: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(identities).values(
                    address=address,
                    protocol=protocol,
                    attribute=attribute,
                    value=value,
                    count=1,
                    first_seen=T0,
                    last_seen=T0,
                )
            )

    def operation(
        self,
        src: str,
        dst: str,
        protocol: str,
        operation: str,
        *,
        code: int = 6,
        code_name: str = "write_single_register",
        exception: bool = False,
        count: int = 3,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(operations).values(
                    src=src,
                    dst=dst,
                    protocol=protocol,
                    operation=operation,
                    code=code,
                    code_name=code_name,
                    exception=exception,
                    count=count,
                    first_seen=T0,
                    last_seen=T0 + SECOND,
                )
            )

    def analyse(self, site: Site | None = None) -> Convergence:
        with self.engine.begin() as conn:
            return analyse(conn, site, edges=True)
