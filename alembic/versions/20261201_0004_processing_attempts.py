"""processing attempts and leases: a poison file is given up after a few tries

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROCESSING = sa.text("status = 'processing'")


def upgrade() -> None:
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("processing_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("processing_seen_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Rows of before: their last sign of life is their last change.
    op.execute("UPDATE image SET processing_seen_at = updated_at")
    with op.batch_alter_table("image", schema=None) as batch_op:
        # Set here, not with the column: SQLite adds no column with a non-constant default
        # (its batch mode rebuilds the table for this step).
        batch_op.alter_column(
            "processing_seen_at",
            existing_type=sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        )
        batch_op.create_index(
            "ix_image_processing_seen",
            ["processing_seen_at"],
            unique=False,
            postgresql_where=PROCESSING,
            sqlite_where=PROCESSING,
        )


def downgrade() -> None:
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.drop_index("ix_image_processing_seen")
        batch_op.drop_column("processing_seen_at")
        batch_op.drop_column("processing_attempts")
