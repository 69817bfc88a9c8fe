from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from imageshare.columns import timestamp


class Comment(SQLModel, table=True):
    # The image page lists comments oldest first, 50 at a time, by (created_at, id).
    __table_args__ = (sa.Index("ix_comment_image_created", "image_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    image_id: uuid.UUID = Field(foreign_key="image.id", ondelete="CASCADE")
    author_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = timestamp()
