"""The users and sessions services on a real (SQLite) database."""

from datetime import timedelta

import pytest
from sqlmodel import select

from imageshare.auth import sessions
from imageshare.auth.models import WebSession
from imageshare.auth.routes import safe_next
from imageshare.db import utcnow
from imageshare.users import service as users
from imageshare.wiring import installed


def sign_in(**claims):
    with installed().session() as db:
        user = users.sign_in_from_claims(db, claims=claims)
        return user.id, user.username, user.display_name, user.avatar_url


def test_first_sign_in_creates_a_user_and_later_ones_refresh_the_profile(app_db):
    first = sign_in(
        sub="auth0|1", nickname="Ada L.", name="Ada Lovelace", picture="https://cdn/a.png"
    )
    assert first[1:] == ("ada-l", "Ada Lovelace", "https://cdn/a.png")
    again = sign_in(
        sub="auth0|1", nickname="other", name="Countess Ada", picture="https://cdn/b.png"
    )
    assert again == (first[0], "ada-l", "Countess Ada", "https://cdn/b.png")  # username stays


def test_usernames_are_made_unique_with_a_suffix(app_db):
    names = [sign_in(sub=f"auth0|{n}", email="sam@example.com")[1] for n in range(3)]
    assert names == ["sam", "sam-2", "sam-3"]
    # The email's local part stands in for a missing nickname; an email is not shown as a name.
    assert sign_in(sub="auth0|9", email="jo.doe@example.com", name="jo.doe@example.com")[1:3] == (
        "jo-doe", "jo.doe",
    )  # fmt: skip


def test_claims_without_a_subject_are_refused(app_db):
    with pytest.raises(ValueError, match="sub"):
        sign_in(nickname="nobody")


def test_session_lifecycle(app_db):
    user_id = sign_in(sub="auth0|s", nickname="s")[0]
    with installed().session() as db:
        token = sessions.start(db, user=users.get_by_subject(db, auth_subject="auth0|s"))
    with installed().session() as db:
        assert sessions.user_for_token(db, token=token).id == user_id
        assert sessions.user_for_token(db, token=token + "x") is None
        assert sessions.user_for_token(db, token=None) is None
        # Only the hash is stored.
        assert db.get(WebSession, token) is None

    # Sliding: a session last used over an hour ago is pushed 14 days past now.
    with installed().session() as db:
        row = db.exec(select(WebSession)).one()
        row.last_seen_at = utcnow() - timedelta(hours=2)
        row.expires_at = utcnow() + timedelta(days=1)
    with installed().session() as db:
        sessions.user_for_token(db, token=token)
    with installed().session() as db:
        row = db.exec(select(WebSession)).one()
        assert row.expires_at > utcnow() + timedelta(days=13)

    # Expired: anonymous, and purged at the next sign-in.
    with installed().session() as db:
        row = db.exec(select(WebSession)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
    with installed().session() as db:
        assert sessions.user_for_token(db, token=token) is None
        assert sessions.purge_expired(db) == 1

    with installed().session() as db:
        token = sessions.start(db, user=users.get_by_subject(db, auth_subject="auth0|s"))
        sessions.end(db, token=token)
        assert sessions.user_for_token(db, token=token) is None


def test_cookie_header_parsing_tolerates_other_cookies():
    header = 'theme=dark; broken"cookie; imageshare_session=abc123; other=1'
    assert sessions.token_from_cookie_header(header) == "abc123"
    assert sessions.token_from_cookie_header("theme=dark") is None
    assert sessions.token_from_cookie_header(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/i/abc?x=1", "/i/abc?x=1"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
    ],
)
def test_next_is_always_a_path_on_this_site(value, expected):
    assert safe_next(value) == expected
