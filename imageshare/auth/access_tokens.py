"""Personal access tokens: long-lived secrets a person makes for scripts using the API.

A token is `isk_` and 43 random URL-safe characters. It is shown once, when made; only
its SHA-256 is stored, so a leaked database does not hand out working tokens. The
prefix makes a token recognisable wherever it turns up (logs, a pasted config, a
secret scanner) and tells the API to look it up here rather than verify it as a JWT.
Each person has at most MAX_PER_PERSON, named, and revokes them one by one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TypeGuard

import sqlalchemy as sa
from sqlmodel import Session, col, select

from imageshare import text
from imageshare.auth.models import AccessToken
from imageshare.auth.viewer import Viewer
from imageshare.db import get_by_id, utcnow
from imageshare.errors import InvalidInput, NotAllowed, NotFound
from imageshare.users.models import User

PREFIX = "isk_"
DISPLAY_LENGTH = 8
MAX_NAME_LENGTH = 100
MAX_PER_PERSON = 20
# How long a new token works, as the settings page offers it (days; None: no expiry).
# A token that never expires is offered with a warning: a leaked one works until revoked.
LIFETIMES: dict[str, int | None] = {"30": 30, "90": 90, "365": 365, "never": None}
DEFAULT_LIFETIME = "90"
# last_used_at is recorded at most this often, so API calls do not each write a row.
TOUCH_AFTER = timedelta(minutes=1)
# Longer than any secret we make; anything longer is refused before it is hashed.
_MAX_SECRET_LENGTH = 100


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_access_token(value: str | None) -> TypeGuard[str]:
    """Whether a bearer value is meant as one of ours (the rest are Auth0's JWTs)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def shown_as(token: AccessToken) -> str:
    """How a list names a token without showing it: `isk_AbCd1234…`."""
    return f"{PREFIX}{token.display_prefix}…"


def clean_name(name: str | None) -> str:
    name = text.one_line(name)
    if not name:
        raise InvalidInput("Give the token a name, so you can tell later what uses it.")
    return text.at_most(name, MAX_NAME_LENGTH, "A token name")


def lifetime_of(choice: str) -> timedelta | None:
    """A lifetime offered on the settings page ("30", "90", "365" days, or "never"), or
    InvalidInput for anything else."""
    if choice not in LIFETIMES:
        raise InvalidInput("Choose how long the token works: 30, 90 or 365 days, or no expiry.")
    days = LIFETIMES[choice]
    return None if days is None else timedelta(days=days)


def create(
    db: Session, *, viewer: Viewer, name: str, lifetime: str = DEFAULT_LIFETIME
) -> tuple[AccessToken, str]:
    """A new token for the viewer, working for `lifetime` (see lifetime_of); returns the
    row and the secret (never stored)."""
    if viewer.user_id is None:
        raise NotAllowed("Sign in to create an access token.")
    name, works_for = clean_name(name), lifetime_of(lifetime)
    # Locks the person's row (Postgres), so two creations at once cannot both pass the limit.
    db.exec(select(User.id).where(User.id == viewer.user_id).with_for_update()).first()
    count = db.exec(
        select(sa.func.count())
        .select_from(AccessToken)
        .where(AccessToken.user_id == viewer.user_id)
    ).one()
    if count >= MAX_PER_PERSON:
        raise InvalidInput(
            f"You already have {MAX_PER_PERSON} access tokens, the most one person can have. "
            "Revoke one you no longer use, then create this one."
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        user_id=viewer.user_id,
        name=name,
        display_prefix=secret[len(PREFIX) : len(PREFIX) + DISPLAY_LENGTH],
        token_hash=_hash(secret),
        created_at=(now := utcnow()),
        expires_at=None if works_for is None else now + works_for,
    )
    db.add(token)
    db.flush()
    return token, secret


def list_for(db: Session, *, viewer: Viewer) -> list[AccessToken]:
    """The viewer's own tokens, newest first."""
    if viewer.is_anonymous:
        raise NotAllowed("Sign in to see your access tokens.")
    query = (
        select(AccessToken)
        .where(AccessToken.user_id == viewer.user_id)
        .order_by(col(AccessToken.created_at).desc(), col(AccessToken.id).desc())
    )
    return list(db.exec(query).all())


def revoke(db: Session, *, viewer: Viewer, token_id: int) -> None:
    """Delete one of the viewer's tokens; the API refuses it from the next request on."""
    if viewer.is_anonymous:
        raise NotAllowed("Sign in to revoke an access token.")
    token = get_by_id(db, AccessToken, token_id)
    # Someone else's token is answered as missing: its id tells nobody anything.
    if token is None or token.user_id != viewer.user_id:
        raise NotFound("That token has already been revoked.")
    db.delete(token)
    db.flush()


def viewer_for_secret(db: Session, *, secret: str | None) -> Viewer | None:
    """The person a token's secret speaks for, recording its use; None if not valid."""
    if not looks_like_access_token(secret) or len(secret) > _MAX_SECRET_LENGTH:
        return None
    found = db.exec(
        select(AccessToken, User)
        .join(User, col(User.id) == AccessToken.user_id)
        .where(col(AccessToken.token_hash) == _hash(secret))
    ).first()
    if found is None:
        return None
    token, user = found
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return None  # as if revoked: the API says it is not valid
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_AFTER:
        token.last_used_at = now
        db.add(token)
    return Viewer.of(user)
