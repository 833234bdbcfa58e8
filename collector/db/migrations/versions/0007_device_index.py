"""device index: the search projection (search_device, search_term)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Existing versions are projected by ``asbuilt collector search reindex`` (collector.search.index.backfill),
which reads documents through collector.db.queries and is safe to re-run; a migration cannot, since
how documents are stored is not this migration's business.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TERM = sa.String(length=128).with_variant(sa.String(length=128, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "search_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("vendor", sa.String(length=256), nullable=True),
        sa.Column("model", sa.String(length=256), nullable=True),
        sa.Column("serial", sa.String(length=256), nullable=True),
        sa.Column("mac", sa.String(length=17), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("hostname", sa.String(length=256), nullable=True),
        sa.Column("firmware", sa.String(length=256), nullable=True),
        sa.Column("location", sa.String(length=256), nullable=True),
        sa.Column("first_seen_version", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_version", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "device_id"),
    )
    with op.batch_alter_table("search_device", schema=None) as batch_op:
        batch_op.create_index("ix_search_device_site_present", ["site_id", "present"], unique=False)
        batch_op.create_index("ix_search_device_device_id", ["device_id"], unique=False)

    op.create_table(
        "search_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_ref", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=12), nullable=False),
        sa.Column("term", TERM, nullable=False),
        sa.Column("first_seen_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["device_ref"], ["search_device.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_ref", "field", "term"),
    )
    with op.batch_alter_table("search_term", schema=None) as batch_op:
        batch_op.create_index("ix_search_term_term", ["term"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("search_term", schema=None) as batch_op:
        batch_op.drop_index("ix_search_term_term")
    op.drop_table("search_term")
    with op.batch_alter_table("search_device", schema=None) as batch_op:
        batch_op.drop_index("ix_search_device_site_present")
        batch_op.drop_index("ix_search_device_device_id")
    op.drop_table("search_device")
