"""refused pushes: what the collector refused from a site's agent, for the site page

Revision ID: 0003
Revises: 0002 (the lead re-chains it after People's 0002 at merge)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refused_push",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=300), nullable=True),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_refused_push_site_id"), "refused_push", ["site_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_refused_push_site_id"), table_name="refused_push")
    op.drop_table("refused_push")
