"""Alembic migrations build the schema on SQLite and Postgres, and match the models."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel

from imageshare.db import create_db_engine
from imageshare.images.models import Image, ImageTag, Rendition, RenditionName, Tag
from imageshare.models import include_in_autogenerate  # also fills SQLModel.metadata
from imageshare.users.models import User
from tests.harness.database import alembic

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_url")
    engine = create_db_engine(url)
    yield engine
    engine.dispose()


def test_upgrade_builds_exactly_the_models(engine):
    alembic(engine, "upgrade", "head")
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_in_autogenerate}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], "models and migrations disagree: run alembic revision --autogenerate"

    tables = set(sa.inspect(engine).get_table_names())
    assert {"user", "image", "rendition", "tag", "image_tag", "comment", "web_session"} <= tables
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("image")}
    assert {"ix_image_gallery", "ix_image_owner_created"} <= indexes


def test_downgrade_to_nothing_and_back(engine):
    alembic(engine, "upgrade", "head")
    alembic(engine, "downgrade", "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    alembic(engine, "upgrade", "head")
    assert "image" in sa.inspect(engine).get_table_names()


def test_constraints_hold_in_the_database(engine):
    alembic(engine, "upgrade", "head")
    with Session(engine) as session:
        owner = User(auth_subject="auth0|1", username="ada", display_name="Ada")
        session.add(owner)
        session.commit()
        image = Image(
            owner_id=owner.id, title="Harbour", original_key="originals/x",
            content_type="image/jpeg", byte_size=10, sha256="0" * 64,
        )  # fmt: skip
        tag = Tag(name="sea")
        session.add_all([image, tag])
        session.commit()
        session.add_all(
            [
                ImageTag(image_id=image.id, tag_id=tag.id),
                Rendition(
                    image_id=image.id,
                    name=RenditionName.THUMB,
                    key="k",
                    width=3,
                    height=2,
                    byte_size=1,
                ),
            ]
        )
        session.commit()
        assert len(image.share_code) == 8

        # A visibility outside the three is refused by the database itself.
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as connection:
                connection.execute(
                    sa.text("UPDATE image SET visibility = 'secret' WHERE owner_id = :o"),
                    {"o": owner.id},
                )

        # Share codes and usernames are unique.
        session.add(User(auth_subject="auth0|2", username="ada", display_name="Another"))
        with pytest.raises(sa.exc.IntegrityError):
            session.commit()
        session.rollback()

        # Deleting a person deletes their images, and with them renditions and tag links.
        session.delete(session.get(User, owner.id))
        session.commit()
        for table in (Image, Rendition, ImageTag):
            assert session.scalar(sa.select(sa.func.count()).select_from(table)) == 0
        assert session.get(Tag, tag.id) is not None  # tags outlive their images
