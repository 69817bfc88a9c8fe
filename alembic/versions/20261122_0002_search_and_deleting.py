"""free-text search column and index (Postgres); images can be 'deleting'

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

# Postgres only (see imageshare/images/search.py): a stored vector and its GIN index.
SEARCH_COLUMN = (
    "ALTER TABLE image ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, title || ' ' || description || ' ' || location)) STORED"
)
SEARCH_INDEX = "CREATE INDEX ix_image_search ON image USING gin (search_vector)"


def _status_check(values: tuple[str, ...]) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode rebuilds the table there.
    with op.batch_alter_table("image") as batch:
        batch.drop_constraint(op.f("ck_image_status"), type_="check")
        batch.create_check_constraint(op.f("ck_image_status"), sa.column("status").in_(values))


def upgrade() -> None:
    _status_check(("processing", "ready", "failed", "deleting"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEARCH_COLUMN)
        op.execute(SEARCH_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_image_search")
        op.execute("ALTER TABLE image DROP COLUMN search_vector")
    op.execute("DELETE FROM image WHERE status = 'deleting'")
    _status_check(("processing", "ready", "failed"))
