"""Personal access tokens on SQLite and Postgres: made once and stored only as a hash,
found by their secret (recording use at most once a minute), limited per person, and
revoked only by their owner."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from imageshare.auth import access_tokens
from imageshare.auth.models import AccessToken
from imageshare.auth.viewer import ANONYMOUS
from imageshare.db import utcnow
from imageshare.errors import InvalidInput, NotAllowed, NotFound
from tests.harness.rows import person

pytestmark = pytest.mark.integration


def rows(db) -> list[AccessToken]:
    """What is stored, straight from the table."""
    db.expire_all()
    return list(db.exec(select(AccessToken).order_by(AccessToken.id)).all())


@pytest.fixture
def people(engine):
    with Session(engine) as db:
        owner, other = person(db, "owner"), person(db, "other")
        db.commit()
        return owner, other


def test_a_new_token_is_shown_once_and_stored_only_as_its_hash(engine, people):
    owner, _ = people
    with Session(engine) as db:
        token, secret = access_tokens.create(db, viewer=owner, name="  my \n  script ")
        db.commit()

        assert secret.startswith("isk_") and len(secret) == len("isk_") + 43
        assert access_tokens.looks_like_access_token(secret)
        (stored,) = rows(db)
        assert stored.id == token.id and stored.user_id == owner.user_id
        assert stored.name == "my script"  # trimmed, inner whitespace collapsed
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert stored.display_prefix == secret[4:12]
        assert access_tokens.shown_as(stored) == f"{secret[:12]}…"
        assert stored.last_used_at is None
        # The secret itself is in no column of the table.
        dumped = db.connection().execute(sa.text("SELECT * FROM access_token")).all()
        assert not any(secret in str(value) or secret[4:] in str(value) for value in dumped[0])

        # A second token is another secret altogether.
        _, second = access_tokens.create(db, viewer=owner, name="backup")
        db.commit()
        assert second != secret
        assert [t.name for t in access_tokens.list_for(db, viewer=owner)] == ["backup", "my script"]


def test_the_secret_finds_its_person_and_records_use_at_most_once_a_minute(engine, people):
    owner, other = people
    with Session(engine) as db:
        token, secret = access_tokens.create(db, viewer=owner, name="ci")
        access_tokens.create(db, viewer=other, name="theirs")
        db.commit()

        assert access_tokens.viewer_for_secret(db, secret=secret) == owner
        db.commit()
        (first_use,) = [t.last_used_at for t in rows(db) if t.id == token.id]
        assert first_use is not None and utcnow() - first_use < timedelta(seconds=30)

        # Used again within the minute: found, and nothing is written.
        writes = []

        def record(_connection, _cursor, statement, *_rest):
            writes.append(statement)

        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            assert access_tokens.viewer_for_secret(db, secret=secret) == owner
            db.commit()
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        assert [sql for sql in writes if sql.lstrip().upper().startswith("UPDATE")] == []
        assert db.get(AccessToken, token.id).last_used_at == first_use

        # Over a minute later it is recorded again.
        stored = db.get(AccessToken, token.id)
        stored.last_used_at = first_use - timedelta(minutes=2)
        db.commit()
        assert access_tokens.viewer_for_secret(db, secret=secret) == owner
        db.commit()
        db.expire_all()
        assert db.get(AccessToken, token.id).last_used_at > first_use


def test_wrong_garbage_and_revoked_secrets_find_nobody(engine, people):
    owner, _ = people
    with Session(engine) as db:
        token, secret = access_tokens.create(db, viewer=owner, name="short-lived")
        db.commit()
        for wrong in (
            secret[:-1],
            secret + "x",
            secret.upper(),
            secret[4:],  # without the prefix
            "isk_",
            "",
            None,
            "Bearer " + secret,
            "isk_" + "a" * 5000,
            "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",  # a JWT is not ours
        ):
            assert access_tokens.viewer_for_secret(db, secret=wrong) is None, wrong
        assert not access_tokens.looks_like_access_token("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
        assert not access_tokens.looks_like_access_token(None)

        access_tokens.revoke(db, viewer=owner, token_id=token.id)
        db.commit()
        assert rows(db) == []
        assert access_tokens.viewer_for_secret(db, secret=secret) is None
        with pytest.raises(NotFound, match="already been revoked"):
            access_tokens.revoke(db, viewer=owner, token_id=token.id)


def test_only_the_owner_sees_and_revokes_a_token(engine, people):
    owner, other = people
    with Session(engine) as db:
        token, secret = access_tokens.create(db, viewer=owner, name="mine")
        db.commit()

        assert access_tokens.list_for(db, viewer=other) == []
        with pytest.raises(NotFound, match="That token has already been revoked."):
            access_tokens.revoke(db, viewer=other, token_id=token.id)
        with pytest.raises(NotAllowed):
            access_tokens.revoke(db, viewer=ANONYMOUS, token_id=token.id)
        with pytest.raises(NotAllowed):
            access_tokens.list_for(db, viewer=ANONYMOUS)
        db.commit()
        assert [t.id for t in rows(db)] == [token.id]
        assert access_tokens.viewer_for_secret(db, secret=secret) == owner


def test_a_stale_revoke_never_hits_a_newer_token(engine, people):
    # A tab that still lists a revoked token must not revoke the one made after it: ids
    # are never handed out twice, on SQLite either.
    owner, _ = people
    with Session(engine) as db:
        old, _ = access_tokens.create(db, viewer=owner, name="old")
        db.commit()
        access_tokens.revoke(db, viewer=owner, token_id=old.id)
        db.commit()
        new, secret = access_tokens.create(db, viewer=owner, name="new")
        db.commit()
        assert new.id != old.id
        with pytest.raises(NotFound):
            access_tokens.revoke(db, viewer=owner, token_id=old.id)
        db.commit()
        assert access_tokens.viewer_for_secret(db, secret=secret) == owner


def test_names_are_checked_and_refused_ones_leave_nothing(engine, people):
    owner, _ = people
    with Session(engine) as db:
        with pytest.raises(NotAllowed, match="Sign in to create an access token."):
            access_tokens.create(db, viewer=ANONYMOUS, name="anything")
        for empty in ("", "   ", "\n\t", None):
            with pytest.raises(InvalidInput, match="Give the token a name"):
                access_tokens.create(db, viewer=owner, name=empty)
        with pytest.raises(InvalidInput) as refusal:
            access_tokens.create(db, viewer=owner, name="n" * 101)
        assert "100" in str(refusal.value) and "101" in str(refusal.value)
        db.commit()
        assert rows(db) == []

        access_tokens.create(db, viewer=owner, name=" " + "é" * 100 + " ")
        db.commit()
        assert rows(db)[0].name == "é" * 100


def test_a_person_has_at_most_twenty_tokens(engine, people):
    owner, other = people
    with Session(engine) as db:
        for n in range(access_tokens.MAX_PER_PERSON):
            access_tokens.create(db, viewer=owner, name=f"token {n}")
        db.commit()
        with pytest.raises(InvalidInput, match="Revoke one"):
            access_tokens.create(db, viewer=owner, name="one too many")
        db.commit()
        assert len(rows(db)) == 20

        # The limit is per person, and revoking one makes room again.
        access_tokens.create(db, viewer=other, name="theirs")
        oldest = access_tokens.list_for(db, viewer=owner)[-1]
        assert oldest.name == "token 0"
        access_tokens.revoke(db, viewer=owner, token_id=oldest.id)
        access_tokens.create(db, viewer=owner, name="one too many")
        db.commit()
        assert len(access_tokens.list_for(db, viewer=owner)) == 20


def test_deleting_a_person_deletes_their_tokens(engine, people):
    owner, _ = people
    with Session(engine) as db:
        _, secret = access_tokens.create(db, viewer=owner, name="gone with them")
        db.commit()
        db.execute(sa.text('DELETE FROM "user" WHERE id = :id'), {"id": owner.user_id})
        db.commit()
        assert rows(db) == []
        assert access_tokens.viewer_for_secret(db, secret=secret) is None


def test_a_token_works_for_the_lifetime_chosen_and_then_is_refused(engine, people):
    owner, _ = people
    with Session(engine) as db:
        made = {
            choice: access_tokens.create(db, viewer=owner, name=choice, lifetime=choice)
            for choice in ("30", "90", "365", "never")
        }
        db.commit()
        now = utcnow()
        for choice, days in (("30", 30), ("90", 90), ("365", 365)):
            expires = made[choice][0].expires_at
            assert expires is not None
            assert abs(expires - (now + timedelta(days=days))) < timedelta(minutes=1)
        assert made["never"][0].expires_at is None
        # The default is 90 days: a token made without a choice still ends.
        default, _ = access_tokens.create(db, viewer=owner, name="default")
        assert default.expires_at is not None and default.expires_at - now > timedelta(days=89)

        month_token, month_secret = made["30"]
        assert access_tokens.viewer_for_secret(db, secret=month_secret) == owner
        month_token.expires_at = utcnow() - timedelta(seconds=1)  # its 30 days are over
        db.add(month_token)
        db.commit()
        assert access_tokens.viewer_for_secret(db, secret=month_secret) is None
        assert access_tokens.viewer_for_secret(db, secret=made["never"][1]) == owner


def test_a_lifetime_not_offered_is_refused_and_makes_nothing(engine, people):
    owner, _ = people
    with Session(engine) as db:
        for wrong in ("7", "forever", "", "90 days"):
            with pytest.raises(InvalidInput, match="30, 90 or 365 days"):
                access_tokens.create(db, viewer=owner, name="x", lifetime=wrong)
        assert rows(db) == []
