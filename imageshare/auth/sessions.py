"""Web sessions: a random id in an HttpOnly cookie, only its hash in the database.

Sessions last 14 days from their last use (sliding). The expiry is pushed forward at
most once an hour, so an active page does not write on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from imageshare.auth.models import WebSession
from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.db import utcnow
from imageshare.users.models import User

COOKIE_NAME = "imageshare_session"
LIFETIME = timedelta(days=14)
REFRESH_AFTER = timedelta(hours=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, *, user: User) -> str:
    """A new session for the user; returns the token for the cookie (never stored)."""
    purge_expired(db)
    assert user.id is not None  # a stored person
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(
        WebSession(
            id_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
            expires_at=now + LIFETIME,
        )
    )  # fmt: skip
    db.flush()
    return token


def user_for_token(db: Session, *, token: str | None) -> User | None:
    """The signed-in user for a cookie's token, extending the session; None if not valid."""
    if not token:
        return None
    session = db.get(WebSession, _hash(token))
    now = utcnow()
    if session is None or session.expires_at <= now:
        return None
    if now - session.last_seen_at >= REFRESH_AFTER:
        session.last_seen_at = now
        session.expires_at = now + LIFETIME
        db.add(session)
    return db.get(User, session.user_id)


def began_at(db: Session, *, token: str | None) -> datetime | None:
    """When the session behind a cookie's token began (its sign-in); None if none."""
    session = db.get(WebSession, _hash(token)) if token else None
    return None if session is None else session.created_at


def viewer_for_token(db: Session, *, token: str | None) -> Viewer:
    """Who a request's session cookie says is asking: a user, or anonymous."""
    user = user_for_token(db, token=token)
    return ANONYMOUS if user is None else Viewer.of(user)


def end(db: Session, *, token: str | None) -> None:
    if token:
        db.exec(delete(WebSession).where(col(WebSession.id_hash) == _hash(token)))


def purge_expired(db: Session) -> int:
    """Delete sessions past their expiry; run at each sign-in, so the table stays small."""
    result = db.exec(delete(WebSession).where(col(WebSession.expires_at) <= utcnow()))
    return result.rowcount or 0


def token_from_cookie_header(header: str | None) -> str | None:
    """The session token in a raw Cookie header (what Reflex gives a websocket)."""
    # Parsed by hand on purpose: SimpleCookie gives up on the whole header when any
    # other cookie on the site is malformed.
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE_NAME and value:
            return value.strip('"')
    return None
