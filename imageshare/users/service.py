"""People: found or created from the identity provider's claims, looked up by name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from imageshare import text
from imageshare.errors import NotFound
from imageshare.users.models import User

USERNAME_MAX = 30
_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")

# The `sub` of an Auth0 machine-to-machine application's tokens ends so.
MACHINE_SUBJECT_SUFFIX = "@clients"


def get_by_subject(db: Session, *, auth_subject: str) -> User | None:
    return db.exec(select(User).where(User.auth_subject == auth_subject)).first()


def get_many(db: Session, *, user_ids: Iterable[int]) -> dict[int, User]:
    """People by id, in one statement (what lists of their images need)."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    users = db.exec(select(User).where(col(User.id).in_(ids))).all()
    # Stored rows all have an id; the test only narrows `int | None` for the checker.
    return {user.id: user for user in users if user.id is not None}


def by_username(db: Session, *, username: str) -> User:
    """The person behind /u/{username} (usernames are public, as are profiles); NotFound
    when nobody has that name. Case and surrounding space do not matter."""
    user = db.exec(select(User).where(User.username == text.one_line(username).lower())).first()
    if user is None:
        raise NotFound("There is no one with that name here.")
    return user


def sign_in_from_claims(db: Session, *, claims: Mapping[str, Any]) -> User:
    """The User for an OpenID Connect identity: created at first sign-in, refreshed later.

    `sub` is the identity; nickname (or the email's local part) proposes a username,
    made unique with a numeric suffix. Display name and picture follow the provider.
    """
    subject = str(claims.get("sub") or "").strip()
    if not subject:
        raise ValueError("the identity provider sent no subject (sub) claim")
    display_name = _display_name(claims)
    avatar_url = _avatar_url(claims)

    user = get_by_subject(db, auth_subject=subject)
    if user is not None:
        if (user.display_name, user.avatar_url) != (display_name, avatar_url):
            user.display_name, user.avatar_url = display_name, avatar_url
            db.add(user)
            db.flush()
        return user

    base = slugify(_username_source(claims)) or "user"
    for candidate in _candidates(db, base):
        user = User(
            auth_subject=subject,
            username=candidate,
            display_name=display_name,
            avatar_url=avatar_url,
        )
        try:
            with db.begin_nested():  # a concurrent sign-in may take the name first
                db.add(user)
                db.flush()
        except IntegrityError:
            existing = get_by_subject(db, auth_subject=subject)
            if existing is not None:  # the same person, signing in twice at once
                return existing
            continue
        return user
    raise RuntimeError(f"no free username near {base!r}")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-_")
    return slug[:USERNAME_MAX].rstrip("-_")


def _username_source(claims: Mapping[str, Any]) -> str:
    nickname = str(claims.get("nickname") or "").strip()
    if nickname:
        return nickname
    email = str(claims.get("email") or "")
    if email:
        return email.split("@", 1)[0]
    # An Auth0 machine-to-machine application: its tokens carry no profile, and their
    # subject is "CLIENT_ID@clients", so the application is named after its client.
    subject = str(claims.get("sub") or "")
    return (
        subject.removesuffix(MACHINE_SUBJECT_SUFFIX)
        if subject.endswith(MACHINE_SUBJECT_SUFFIX)
        else ""
    )


def _display_name(claims: Mapping[str, Any]) -> str:
    for key in ("name", "nickname"):
        value = str(claims.get(key) or "").strip()
        # Auth0 puts the email in `name` when it knows nothing better: show less of it.
        if value and "@" not in value:
            return value[:100]
    return (_username_source(claims) or "Someone")[:100]


def _avatar_url(claims: Mapping[str, Any]) -> str | None:
    picture = str(claims.get("picture") or "").strip()
    return picture[:1000] if picture.startswith("https://") else None


def _candidates(db: Session, base: str) -> Iterator[str]:
    taken = set(db.exec(select(User.username).where(col(User.username).startswith(base))).all())
    if base not in taken:
        yield base
    for n in range(2, 10_000):
        suffix = f"-{n}"
        candidate = base[: USERNAME_MAX - len(suffix)] + suffix
        if candidate not in taken:
            yield candidate
