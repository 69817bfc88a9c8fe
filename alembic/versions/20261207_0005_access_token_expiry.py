"""personal access tokens expire: each gets an expiry chosen when it is made

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 19:10:00

Tokens made before keep working as they did (no expiry, shown as "never expires"),
so nothing that uses one breaks on upgrade; their owners see it on the settings page.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
