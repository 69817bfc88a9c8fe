"""Rows for service tests: people, and images as the pipeline leaves them (no pixels)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from imageshare.auth.viewer import Viewer
from imageshare.db import create_db_engine
from imageshare.images import keys, records
from imageshare.images.kinds import RenditionName, Status, Visibility
from imageshare.images.models import Image, Rendition
from imageshare.users.models import User
from tests.harness.database import upgrade

START = datetime(2026, 1, 1, tzinfo=UTC)
_CLOCK = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    """An engine on a migrated database of each kind: SQLite, then Postgres."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'browse.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_url")
    upgrade(url)
    engine = create_db_engine(url)
    yield engine
    engine.dispose()


def person(db: Session, username: str) -> Viewer:
    user = User(auth_subject=f"test|{username}", username=username, display_name=username.title())
    db.add(user)
    db.flush()
    return Viewer.of(user)


def image(
    db: Session,
    owner: Viewer,
    title: str,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    status: Status = Status.READY,
    tags: tuple[str, ...] = (),
    description: str = "",
    location: str = "",
) -> Image:
    """A ready image with three renditions; each one newer than the last."""
    image_id = uuid.uuid4()
    row = Image(
        id=image_id, owner_id=owner.user_id, title=title, description=description,
        location=location, visibility=visibility, status=status,
        original_key=keys.original_key(image_id), content_type="image/jpeg", byte_size=1,
        sha256=image_id.hex * 2, width=3000, height=2000,
        created_at=START + timedelta(minutes=next(_CLOCK)),
    )  # fmt: skip
    db.add(row)
    db.flush()
    for name, width in ((RenditionName.THUMB, 300), (RenditionName.MEDIUM, 1024),
                        (RenditionName.LARGE, 2048)):  # fmt: skip
        db.add(Rendition(image_id=image_id, name=name, key=keys.rendition_key(image_id, name),
                         width=width, height=width * 2 // 3, byte_size=1))  # fmt: skip
    records.set_tags(db, image_id=image_id, tags=tags)
    return row
