"""free-text search index; images can be 'deleting'

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_INDEX = (
    "CREATE INDEX ix_image_search ON image USING gin "
    "(to_tsvector('simple'::regconfig, title || ' ' || description || ' ' || location))"
)


def _status_check(values: tuple[str, ...]) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode rebuilds the table there.
    with op.batch_alter_table("image") as batch:
        batch.drop_constraint(op.f("ck_image_status"), type_="check")
        batch.create_check_constraint(op.f("ck_image_status"), sa.column("status").in_(values))


def upgrade() -> None:
    _status_check(("processing", "ready", "failed", "deleting"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEARCH_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_image_search")
    op.execute("DELETE FROM image WHERE status = 'deleting'")
    _status_check(("processing", "ready", "failed"))
