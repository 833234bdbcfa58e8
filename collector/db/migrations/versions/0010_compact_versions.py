"""compact versions: snapshot documents zlib-compressed, plus body digest and fingerprint

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02

Existing rows are converted in batches (up and down), so a large database never holds every
document in memory at once.
"""

import json
import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _convert(source: str, target: str, encode: bool) -> None:
    """Copy every row's ``source`` column into ``target``, compressed (encode) or decompressed."""
    conn = op.get_bind()
    table = sa.table(
        "snapshot_version",
        sa.column("id", sa.Integer),
        sa.column("snapshot", JSON_TYPE),
        sa.column("document", sa.LargeBinary),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, table.c[source]).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        for row_id, value in rows:
            if encode:  # the same encoding as collector/db/storage.py:encode_document
                text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
                new = zlib.compress(text.encode(), 1)
            else:
                new = json.loads(zlib.decompress(value))
            conn.execute(sa.update(table).where(table.c.id == row_id).values({target: new}))
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("snapshot_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("body_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
    _convert("snapshot", "document", encode=True)
    with op.batch_alter_table("snapshot_version", schema=None) as batch_op:
        batch_op.alter_column("document", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("snapshot")


def downgrade() -> None:
    with op.batch_alter_table("snapshot_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snapshot", JSON_TYPE, nullable=True))
    _convert("document", "snapshot", encode=False)
    with op.batch_alter_table("snapshot_version", schema=None) as batch_op:
        batch_op.alter_column("snapshot", existing_type=JSON_TYPE, nullable=False)
        batch_op.drop_column("fingerprint")
        batch_op.drop_column("body_digest")
        batch_op.drop_column("document")
