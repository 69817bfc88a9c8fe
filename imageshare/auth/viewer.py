"""Viewer: who is asking. Every service call receives one, explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from imageshare.users.models import User


@dataclass(frozen=True)
class Viewer:
    """An anonymous visitor (user_id None) or a signed-in person."""

    user_id: int | None = None
    username: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user_id=user.id, username=user.username)


ANONYMOUS = Viewer()
