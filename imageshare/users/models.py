from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from imageshare.columns import timestamp


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The OpenID Connect `sub` claim: the one stable identity Auth0 gives us.
    auth_subject: str = Field(max_length=255, unique=True)
    # A URL-safe slug shown in /u/{username}; unique, chosen at first sign-in.
    username: str = Field(max_length=40, unique=True)
    display_name: str = Field(max_length=100)
    avatar_url: str | None = Field(default=None, max_length=1000)
    created_at: datetime = timestamp()
