"""The asset rebuild on both backends: an asset's protocols merge the protocol
roles of all its addresses, the best evidence winning; the larger SQLite page
cache of the rebuild ends with it."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from otseam.analysis.assets import rebuild_assets
from otseam.store.bulk import page_cache
from otseam.store.database import open_store
from otseam.store.queries import asset_rows, spoken_protocols
from otseam.store.schema import (
    asset_protocols,
    assets,
    bindings,
    hosts,
    protocol_roles,
    stations,
)
from tests.store.stores import StoreTarget

MAC = "02:00:00:00:00:01"
IP = "10.0.0.1"
LONE_IP = "192.168.1.9"  # no MAC sent from it: an asset of its own
SEEN = {"first_seen": 1_000, "last_seen": 2_000}

ROLES = [  # (address, protocol, role, evidence)
    (IP, "modbus", "server", "port"),
    (MAC, "modbus", "server", "semantics"),  # the MAC's semantics beat the IP's port
    (MAC, "s7comm", "server", "port"),
    (IP, "s7comm", "server", "semantics"),  # and the other way round
    (IP, "modbus", "client", "semantics"),  # the other side is a protocol role of its own
    (IP, "dns", "client", "port"),
    (LONE_IP, "http", "server", "semantics"),
    ("224.0.0.251", "mdns", "server", "port"),  # a group address is no asset
]


def _load_facts(conn: Connection) -> None:
    frames = {f"{k}_frames": 0 for k in ("profinet", "goose", "sv", "ethercat", "powerlink")}
    conn.execute(
        insert(stations),
        [{"mac": MAC, "packets": 5, "bytes": 500, "vlan": 0, "lldp_frames": 0, **frames, **SEEN}],
    )
    conn.execute(
        insert(bindings),
        [{"ip": IP, "mac": MAC, "vlan": 0, "packets": 5, "sources": 1, **SEEN}],
    )
    conn.execute(
        insert(hosts),
        [
            {"ip": ip, "packets_sent": 5, "bytes_sent": 500, **SEEN}
            for ip in (IP, LONE_IP, "224.0.0.251")
        ],
    )
    conn.execute(
        insert(protocol_roles),
        [
            {"address": a, "protocol": p, "role": r, "evidence": e, "count": 1, **SEEN}
            for a, p, r, e in ROLES
        ],
    )


def test_asset_protocols_merge_the_addresses_keeping_the_best_evidence(
    store: StoreTarget,
) -> None:
    engine = open_store(store.db)
    try:
        with engine.begin() as conn:
            _load_facts(conn)
            assert rebuild_assets(conn) == 2
        with engine.connect() as conn:
            query = select(
                assets.c.key,
                asset_protocols.c.protocol,
                asset_protocols.c.role,
                asset_protocols.c.evidence,
            ).join(assets, assets.c.id == asset_protocols.c.asset_id)
            found = {tuple(row) for row in conn.execute(query)}
            roles = dict(conn.execute(select(assets.c.key, assets.c.role_evidence)).all())
    finally:
        engine.dispose()
    assert found == {
        (f"mac:{MAC}", "modbus", "server", "semantics"),
        (f"mac:{MAC}", "s7comm", "server", "semantics"),
        (f"mac:{MAC}", "modbus", "client", "semantics"),
        (f"mac:{MAC}", "dns", "client", "port"),
        (f"ip:{LONE_IP}", "http", "server", "semantics"),
    }
    # the roles read the same merged protocol roles
    assert roles == {
        f"mac:{MAC}": "serves modbus, s7comm (semantics)",
        f"ip:{LONE_IP}": "serves only IT services: http (semantics)",
    }


def test_listings_read_the_asset_protocols_of_the_view(store: StoreTarget) -> None:
    """Listings and the analysis join addresses and protocol roles themselves
    (quicker than the view on SQLite): they must see what the view holds,
    and a protocol filter finds the assets whose addresses speak it."""
    engine = open_store(store.db)
    try:
        with engine.begin() as conn:
            _load_facts(conn)
            rebuild_assets(conn)
        with engine.connect() as conn:
            p = asset_protocols.c
            view: dict[int, set[tuple[str, str]]] = {}
            for asset_id, protocol, role in conn.execute(select(p.asset_id, p.protocol, p.role)):
                view.setdefault(asset_id, set()).add((protocol, role))
            spoken = spoken_protocols(conn)
            listed = {row["key"]: row["protocols"] for row in asset_rows(conn)}
            s7 = [row["key"] for row in asset_rows(conn, protocol="s7comm")]
            http = [row["key"] for row in asset_rows(conn, protocol="http")]
    finally:
        engine.dispose()
    assert spoken == view
    assert len(view) == 2
    assert listed[f"mac:{MAC}"] == [
        {"name": "dns", "role": "client"},
        {"name": "modbus", "role": "client"},
        {"name": "modbus", "role": "server"},
        {"name": "s7comm", "role": "server"},
    ]
    assert (s7, http) == ([f"mac:{MAC}"], [f"ip:{LONE_IP}"])


def test_page_cache_is_larger_inside_the_block_only(store: StoreTarget) -> None:
    engine = open_store(store.db)
    try:
        with engine.begin() as conn:
            if store.backend == "sqlite":
                before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
                with page_cache(conn, 8):
                    assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -8 * 1024
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == before
            else:
                with page_cache(conn, 8):  # PostgreSQL: nothing to change, nothing fails
                    assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
    finally:
        engine.dispose()
