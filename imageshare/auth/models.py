from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from imageshare.columns import timestamp


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored,
    so a leaked database does not hand out live sessions."""

    __tablename__ = "web_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    created_at: datetime = timestamp()
    # Sliding expiry: pushed forward as the session is used; expired rows are purged.
    expires_at: datetime = timestamp(index=True)
    last_seen_at: datetime = timestamp()
