"""Asset protocols become a view over the asset addresses and protocol roles.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

# As otseam.store.schema.ASSET_PROTOCOLS_VIEW at this revision: a migration
# keeps the text it was written with, whatever the schema says later.
VIEW = (
    "CREATE VIEW asset_protocols AS "
    "SELECT a.asset_id AS asset_id, r.protocol AS protocol, r.role AS role, "
    "MAX(r.evidence) AS evidence "
    "FROM asset_addresses a JOIN protocol_roles r ON r.address = a.value "
    "GROUP BY a.asset_id, r.protocol, r.role"
)


def upgrade() -> None:
    op.drop_index("ix_asset_protocols_asset_id", table_name="asset_protocols")
    op.drop_table("asset_protocols")
    op.execute(VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW asset_protocols")
    op.create_table(
        "asset_protocols",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "asset_id", sa.Integer, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("protocol", sa.String(32), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("evidence", sa.String(16), nullable=False),
        sa.UniqueConstraint("asset_id", "protocol", "role", name="uq_asset_protocol"),
    )
    op.create_index("ix_asset_protocols_asset_id", "asset_protocols", ["asset_id"])
    # filled from the facts, as the asset rebuild of revision 0002 did
    op.execute(
        "INSERT INTO asset_protocols (asset_id, protocol, role, evidence) "
        "SELECT a.asset_id, r.protocol, r.role, MAX(r.evidence) "
        "FROM asset_addresses a JOIN protocol_roles r ON r.address = a.value "
        "GROUP BY a.asset_id, r.protocol, r.role"
    )
