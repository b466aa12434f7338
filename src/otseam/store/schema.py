"""The store's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Facts tables hold what captures showed, merged across captures (counters
add, first/last seen widen): conversations, bindings (MAC/IP pairs),
stations (MACs), operations, identities, protocol roles, malformed messages.
The asset tables are derived from the facts by ``otseam.analysis.assets``
after every ingest; the asset protocols are a view (``views``) over the
asset addresses and the protocol roles. Times are integers: nanoseconds
since the Unix epoch.
Changing a table means a new Alembic revision in ``migrations/versions``.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Connection

__all__ = [
    "ASSET_PROTOCOLS_VIEW",
    "SCHEMA_REVISION",
    "asset_addresses",
    "asset_protocols",
    "assets",
    "bindings",
    "captures",
    "conversations",
    "finding_states",
    "findings",
    "hosts",
    "identities",
    "malformed",
    "metadata",
    "operations",
    "protocol_roles",
    "stations",
    "views",
]

SCHEMA_REVISION: Final = "0003"

metadata = MetaData()


def _seen() -> list[Column[int]]:
    return [
        Column("first_seen", BigInteger, nullable=False),
        Column("last_seen", BigInteger, nullable=False),
    ]


captures = Table(
    "captures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("content_hash", String(80), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("file_format", String(16), nullable=False),
    Column("packets", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("first_seen", BigInteger),
    Column("last_seen", BigInteger),
    Column("counters", Text, nullable=False),
    Column("problems", Text, nullable=False),
    Column("ingested_at", String(32), nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("transport", String(8), nullable=False),
    Column("a", String(45), nullable=False),
    Column("a_port", Integer, nullable=False),
    Column("b", String(45), nullable=False),
    Column("b_port", Integer, nullable=False),
    Column("a_to_b_packets", BigInteger, nullable=False),
    Column("b_to_a_packets", BigInteger, nullable=False),
    Column("a_to_b_bytes", BigInteger, nullable=False),
    Column("b_to_a_bytes", BigInteger, nullable=False),
    *_seen(),
    Column("initiator", String(1)),
    Column("a_tcp_flags", Integer, nullable=False),
    Column("b_tcp_flags", Integer, nullable=False),
    Column("app_protocol", String(32)),
    Column("vlan", Integer, nullable=False),
    UniqueConstraint("transport", "a", "a_port", "b", "b_port", name="uq_conversation"),
)

bindings = Table(
    "bindings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ip", String(45), nullable=False),
    Column("mac", String(17), nullable=False),
    Column("vlan", Integer, nullable=False),
    Column("packets", BigInteger, nullable=False),
    *_seen(),
    Column("sources", Integer, nullable=False),  # bit 0: IP sender, bit 1: ARP sender
    UniqueConstraint("ip", "mac", "vlan", name="uq_binding"),
)

L2_KINDS: Final = ("profinet", "goose", "sv", "ethercat", "powerlink", "lldp")

stations = Table(
    "stations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mac", String(17), nullable=False, unique=True),
    Column("packets", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    *_seen(),
    Column("vlan", Integer, nullable=False),
    *[Column(f"{kind}_frames", BigInteger, nullable=False) for kind in L2_KINDS],
)

operations = Table(
    "operations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("src", String(45), nullable=False),
    Column("dst", String(45), nullable=False),
    Column("protocol", String(32), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("code", Integer, nullable=False),
    Column("code_name", String(160), nullable=False),
    Column("exception", Boolean, nullable=False),
    Column("count", BigInteger, nullable=False),
    *_seen(),
    UniqueConstraint(
        "src", "dst", "protocol", "operation", "code", "code_name", "exception", name="uq_operation"
    ),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("address", String(45), nullable=False),
    Column("protocol", String(32), nullable=False),
    Column("attribute", String(32), nullable=False),
    Column("value", String(255), nullable=False),
    Column("count", BigInteger, nullable=False),
    *_seen(),
    UniqueConstraint("address", "protocol", "attribute", "value", name="uq_identity"),
)

protocol_roles = Table(
    "protocol_roles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("address", String(45), nullable=False),
    Column("protocol", String(32), nullable=False),
    Column("role", String(8), nullable=False),
    # "semantics": a dissector saw it answer or ask; "port": only the
    # conversation's service port says so. Semantics wins on merge.
    Column("evidence", String(16), nullable=False),
    Column("count", BigInteger, nullable=False),
    *_seen(),
    UniqueConstraint("address", "protocol", "role", name="uq_protocol_role"),
)

hosts = Table(
    "hosts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ip", String(45), nullable=False, unique=True),
    Column("packets_sent", BigInteger, nullable=False),
    Column("bytes_sent", BigInteger, nullable=False),
    *_seen(),
)

malformed = Table(
    "malformed",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("src", String(45), nullable=False),
    Column("dst", String(45), nullable=False),
    Column("protocol", String(32), nullable=False),
    Column("reason", String(255), nullable=False),
    Column("raw", Text, nullable=False),
    Column("count", BigInteger, nullable=False),
    *_seen(),
    UniqueConstraint("src", "dst", "protocol", "reason", name="uq_malformed"),
)

assets = Table(
    "assets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(255)),
    Column("role", String(32), nullable=False),
    Column("role_evidence", Text, nullable=False),
    Column("vendor", String(255)),
    Column("product", String(255)),
    Column("model", String(255)),
    Column("firmware", String(255)),
    Column("serial", String(255)),
    Column("mac_vendor", String(255)),
    Column("is_gateway", Boolean, nullable=False),
    *_seen(),
)

asset_addresses = Table(
    "asset_addresses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "asset_id", Integer, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("kind", String(3), nullable=False),  # ip or mac
    Column("value", String(45), nullable=False),
    UniqueConstraint("kind", "value", name="uq_asset_address"),
)

# What each asset serves and uses, derived where it is read: the protocol
# roles of the asset's addresses, one row per (asset, protocol, role) with
# the best evidence ("semantics" sorts after "port"). A view, not a table:
# a capture of a hundred thousand hosts gives a million of these rows, and
# writing them again on every rebuild cost seconds for data already stored.
views = MetaData()

asset_protocols = Table(
    "asset_protocols",
    views,
    Column("asset_id", Integer, nullable=False),
    Column("protocol", String(32), nullable=False),
    Column("role", String(8), nullable=False),  # server or client
    Column("evidence", String(16), nullable=False),  # semantics or port
)

ASSET_PROTOCOLS_VIEW: Final = (
    "CREATE VIEW asset_protocols AS "
    "SELECT a.asset_id AS asset_id, r.protocol AS protocol, r.role AS role, "
    "MAX(r.evidence) AS evidence "
    "FROM asset_addresses a JOIN protocol_roles r ON r.address = a.value "
    "GROUP BY a.asset_id, r.protocol, r.role"
)


def _create_views(_metadata: MetaData, connection: Connection, **_kw: Any) -> None:
    connection.exec_driver_sql(ASSET_PROTOCOLS_VIEW)


def _drop_views(_metadata: MetaData, connection: Connection, **_kw: Any) -> None:
    connection.exec_driver_sql("DROP VIEW IF EXISTS asset_protocols")


# the view follows the tables: made after them, gone before them
event.listen(metadata, "after_create", _create_views)
event.listen(metadata, "before_drop", _drop_views)


# The convergence analysis (otseam.analysis.convergence) writes its findings
# here on every run, replacing the previous ones; what people decided about a
# finding (acknowledged, suppressed: who and why) is kept apart, by the
# finding's stable id, so it survives re-ingests and re-analysis.
findings = Table(
    "findings",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("title", Text, nullable=False),
    Column("zone", Text),
    Column("channel", Text),
    Column("assets", Text, nullable=False),  # JSON list of asset names
    Column("evidence", Text, nullable=False),  # JSON object
    Column("owners", Text, nullable=False),  # JSON list of responsible parties
    Column("analysed_at", String(32), nullable=False),
)

finding_states = Table(
    "finding_states",
    metadata,
    Column("finding_id", String(16), primary_key=True),
    Column("state", String(16), nullable=False),  # acknowledged | suppressed
    Column("actor", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("changed_at", String(32), nullable=False),
)
