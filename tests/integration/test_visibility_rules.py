"""Each visibility rule has a Python form (one image in hand) and an SQL form (a list
filtered in the database): both, run over the same rows, must pick the same images,
for every viewer, visibility and status, on SQLite and Postgres."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.images import visibility
from imageshare.images.kinds import Status, Visibility
from imageshare.images.models import Image
from tests.harness.rows import engine, image, person  # noqa: F401  (engine: a fixture)

pytestmark = pytest.mark.integration


@pytest.fixture
def every_kind_of_image(engine):  # noqa: F811
    """Two owners, each with an image of every visibility × status."""
    with Session(engine) as db:
        owners = [person(db, "ada"), person(db, "bo")]
        for owner, shown, status in itertools.product(owners, Visibility, Status):
            image(db, owner, f"{owner.user_id} {shown} {status}", visibility=shown, status=status)
        db.commit()
    return owners


def _compare(
    engine,  # noqa: F811
    python: Callable[[Image], bool],
    sql: list[ColumnElement[bool]],
) -> set[str]:
    with Session(engine) as db:
        rows = db.exec(select(Image)).all()
        assert len(rows) == 2 * len(Visibility) * len(Status)
        by_python = {row.title for row in rows if python(row)}
        by_sql = set(db.exec(select(Image.title).where(*sql)).all())
    assert by_python == by_sql
    return by_python


def test_listed_means_the_same_in_python_and_sql(engine, every_kind_of_image):  # noqa: F811
    listed = _compare(engine, visibility.is_listed, visibility.listed())
    ada, bo = every_kind_of_image
    assert listed == {f"{ada.user_id} public ready", f"{bo.user_id} public ready"}


@pytest.mark.parametrize("who", ["anonymous", "ada", "bo"])
def test_viewable_by_id_means_the_same_in_python_and_sql(engine, every_kind_of_image, who):  # noqa: F811
    viewer = _viewer(who, every_kind_of_image)
    shown = _compare(
        engine, lambda row: visibility.can_view(viewer, row), visibility.viewable(viewer)
    )
    # Nobody sees an image being deleted; only its owner sees a private one.
    assert not any(title.endswith(" deleting") for title in shown)
    private = {t for t in shown if " private " in t}
    assert all(t.startswith(f"{viewer.user_id} ") for t in private)
    assert bool(private) == (not viewer.is_anonymous)


@pytest.mark.parametrize("who", ["anonymous", "ada", "bo"])
@pytest.mark.parametrize("profile", [0, 1])
def test_shown_on_a_profile_means_the_same_in_python_and_sql(
    engine,  # noqa: F811
    every_kind_of_image,
    who,
    profile,
):
    viewer, owner = _viewer(who, every_kind_of_image), every_kind_of_image[profile]

    def on_this_profile(row: Image) -> bool:
        return row.owner_id == owner.user_id and visibility.on_profile(viewer, row)

    shown = _compare(engine, on_this_profile, visibility.shown_on_profile(viewer, owner.user_id))
    if visibility.owns(viewer, owner.user_id):
        # Every image but those being deleted: 3 visibilities × 3 other statuses.
        assert len(shown) == len(Visibility) * (len(Status) - 1)
    else:
        assert shown == {f"{owner.user_id} public ready"}


def test_ownership_needs_a_signed_in_viewer(every_kind_of_image):
    ada, bo = every_kind_of_image
    assert visibility.owns(ada, ada.user_id) and not visibility.owns(ada, bo.user_id)
    assert not visibility.owns(ANONYMOUS, None)
    assert not visibility.owns(ANONYMOUS, ada.user_id)


def _viewer(who: str, owners: list[Viewer]) -> Viewer:
    return {"anonymous": ANONYMOUS, "ada": owners[0], "bo": owners[1]}[who]
