"""The first schema: captures, facts tables and assets.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

BIG = sa.BigInteger
L2_KINDS = ("profinet", "goose", "sv", "ethercat", "powerlink", "lldp")


def _seen() -> list[sa.Column[int]]:
    return [
        sa.Column("first_seen", BIG, nullable=False),
        sa.Column("last_seen", BIG, nullable=False),
    ]


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _big(name: str) -> sa.Column[int]:
    return sa.Column(name, BIG, nullable=False)


def upgrade() -> None:
    op.create_table(
        "captures",
        _id(),
        _text("content_hash", 80),
        sa.Column("name", sa.Text, nullable=False),
        _big("size"),
        _text("file_format", 16),
        _big("packets"),
        _big("bytes"),
        sa.Column("first_seen", BIG),
        sa.Column("last_seen", BIG),
        sa.Column("counters", sa.Text, nullable=False),
        sa.Column("problems", sa.Text, nullable=False),
        _text("ingested_at", 32),
        sa.UniqueConstraint("content_hash"),
    )
    op.create_table(
        "conversations",
        _id(),
        _text("transport", 8),
        _text("a", 45),
        sa.Column("a_port", sa.Integer, nullable=False),
        _text("b", 45),
        sa.Column("b_port", sa.Integer, nullable=False),
        _big("a_to_b_packets"),
        _big("b_to_a_packets"),
        _big("a_to_b_bytes"),
        _big("b_to_a_bytes"),
        *_seen(),
        _text("initiator", 1, nullable=True),
        sa.Column("a_tcp_flags", sa.Integer, nullable=False),
        sa.Column("b_tcp_flags", sa.Integer, nullable=False),
        _text("app_protocol", 32, nullable=True),
        sa.Column("vlan", sa.Integer, nullable=False),
        sa.UniqueConstraint("transport", "a", "a_port", "b", "b_port", name="uq_conversation"),
    )
    op.create_table(
        "bindings",
        _id(),
        _text("ip", 45),
        _text("mac", 17),
        sa.Column("vlan", sa.Integer, nullable=False),
        _big("packets"),
        *_seen(),
        sa.Column("sources", sa.Integer, nullable=False),
        sa.UniqueConstraint("ip", "mac", "vlan", name="uq_binding"),
    )
    op.create_table(
        "stations",
        _id(),
        _text("mac", 17),
        _big("packets"),
        _big("bytes"),
        *_seen(),
        sa.Column("vlan", sa.Integer, nullable=False),
        *[_big(f"{kind}_frames") for kind in L2_KINDS],
        sa.UniqueConstraint("mac"),
    )
    op.create_table(
        "operations",
        _id(),
        _text("src", 45),
        _text("dst", 45),
        _text("protocol", 32),
        _text("operation", 32),
        sa.Column("code", sa.Integer, nullable=False),
        _text("code_name", 160),
        sa.Column("exception", sa.Boolean, nullable=False),
        _big("count"),
        *_seen(),
        sa.UniqueConstraint(
            "src",
            "dst",
            "protocol",
            "operation",
            "code",
            "code_name",
            "exception",
            name="uq_operation",
        ),
    )
    op.create_table(
        "identities",
        _id(),
        _text("address", 45),
        _text("protocol", 32),
        _text("attribute", 32),
        _text("value", 255),
        _big("count"),
        *_seen(),
        sa.UniqueConstraint("address", "protocol", "attribute", "value", name="uq_identity"),
    )
    op.create_table(
        "protocol_roles",
        _id(),
        _text("address", 45),
        _text("protocol", 32),
        _text("role", 8),
        _text("evidence", 16),
        _big("count"),
        *_seen(),
        sa.UniqueConstraint("address", "protocol", "role", name="uq_protocol_role"),
    )
    op.create_table(
        "hosts",
        _id(),
        _text("ip", 45),
        _big("packets_sent"),
        _big("bytes_sent"),
        *_seen(),
        sa.UniqueConstraint("ip"),
    )
    op.create_table(
        "malformed",
        _id(),
        _text("src", 45),
        _text("dst", 45),
        _text("protocol", 32),
        _text("reason", 255),
        sa.Column("raw", sa.Text, nullable=False),
        _big("count"),
        *_seen(),
        sa.UniqueConstraint("src", "dst", "protocol", "reason", name="uq_malformed"),
    )
    op.create_table(
        "assets",
        _id(),
        _text("key", 64),
        _text("name", 255, True),
        _text("role", 32),
        sa.Column("role_evidence", sa.Text, nullable=False),
        *[
            _text(n, 255, True)
            for n in ("vendor", "product", "model", "firmware", "serial", "mac_vendor")
        ],
        sa.Column("is_gateway", sa.Boolean, nullable=False),
        *_seen(),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "asset_addresses",
        _id(),
        sa.Column(
            "asset_id", sa.Integer, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False
        ),
        _text("kind", 3),
        _text("value", 45),
        sa.UniqueConstraint("kind", "value", name="uq_asset_address"),
    )
    op.create_index("ix_asset_addresses_asset_id", "asset_addresses", ["asset_id"])
    op.create_table(
        "asset_protocols",
        _id(),
        sa.Column(
            "asset_id", sa.Integer, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False
        ),
        _text("protocol", 32),
        _text("role", 8),
        _text("evidence", 16),
        sa.UniqueConstraint("asset_id", "protocol", "role", name="uq_asset_protocol"),
    )
    op.create_index("ix_asset_protocols_asset_id", "asset_protocols", ["asset_id"])


def downgrade() -> None:
    for table in (
        "asset_protocols",
        "asset_addresses",
        "assets",
        "malformed",
        "protocol_roles",
        "hosts",
        "identities",
        "operations",
        "stations",
        "bindings",
        "conversations",
        "captures",
    ):
        op.drop_table(table)
