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


class AccessToken(SQLModel, table=True):
    """A personal access token for the API, made on the settings page.

    The secret is shown once, when it is made; only its SHA-256 is stored, like a
    session's id. A few of its first characters are kept in the clear so the list can
    show which token is which (`isk_AbCd1234…`) without being enough to use it.
    """

    __tablename__ = "access_token"
    # SQLite would otherwise hand a revoked token's id to the next new one, and a tab
    # still listing the old token would revoke the new one in its place.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    # The 8 characters after the `isk_` prefix.
    display_prefix: str = Field(max_length=8)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = timestamp()
    # Recorded at most once a minute (see access_tokens.TOUCH_AFTER); None until used.
    last_used_at: datetime | None = timestamp(nullable=True)
    # Chosen when it is made (access_tokens.LIFETIMES); None: it never expires.
    expires_at: datetime | None = timestamp(nullable=True)
