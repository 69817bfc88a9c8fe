"""The owner's partial update (images.service.update_image with an ImagePatch), the one
rule the edit dialog and the API's updateImage both send: fields left out keep their
value, so two edits of different fields do not undo each other."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from imageshare.errors import InvalidInput, NotAllowed
from imageshare.images import records
from imageshare.images import service as images
from imageshare.images.kinds import Visibility
from imageshare.images.models import Image
from imageshare.images.service import ImagePatch
from tests.harness.rows import engine, image, person  # noqa: F401  (engine: a fixture)

pytestmark = pytest.mark.integration


@pytest.fixture
def owned(engine):  # noqa: F811
    with Session(engine) as db:
        owner, other = person(db, "ada"), person(db, "bo")
        row = image(
            db, owner, "Harbour", description="Boats.", location="Porto", tags=("sea", "boats")
        )
        db.commit()
        return owner, other, row.id


def _state(engine, image_id):  # noqa: F811
    with Session(engine) as db:
        row = db.get(Image, image_id)
        tags = records.tags_by_image(db, image_ids=[image_id])[image_id]
        return row.title, row.description, row.location, tags, row.visibility


def test_two_edits_of_different_fields_both_stay(engine, owned):  # noqa: F811
    owner, _, image_id = owned
    with Session(engine) as db:  # one tab changes the title ...
        images.update_image(db, viewer=owner, image_id=image_id, patch=ImagePatch(title="Dusk"))
        db.commit()
    with Session(engine) as db:  # ... another, opened before, the place
        images.update_image(
            db, viewer=owner, image_id=image_id, patch=ImagePatch(location=" Lisbon ")
        )
        db.commit()
    assert _state(engine, image_id) == ("Dusk", "Boats.", "Lisbon", ["boats", "sea"], "public")


def test_tags_left_out_stay_and_an_empty_list_clears_them(engine, owned):  # noqa: F811
    owner, _, image_id = owned
    with Session(engine) as db:
        images.update_image(
            db, viewer=owner, image_id=image_id, patch=ImagePatch(visibility="Unlisted")
        )
        db.commit()
    assert _state(engine, image_id)[3:] == (["boats", "sea"], Visibility.UNLISTED)
    with Session(engine) as db:
        images.update_image(db, viewer=owner, image_id=image_id, patch=ImagePatch(tags=[]))
        db.commit()
    assert _state(engine, image_id)[3] == []


def test_one_bad_field_refuses_the_whole_patch_and_changes_nothing(engine, owned):  # noqa: F811
    owner, _, image_id = owned
    before = _state(engine, image_id)
    for patch in (
        ImagePatch(title="New", description="x" * 5001),
        ImagePatch(title="   "),
        ImagePatch(location="Faro", visibility="friends"),
        ImagePatch(title="New", tags=[f"t{n}" for n in range(11)]),
    ):
        with Session(engine) as db, pytest.raises(InvalidInput):
            images.update_image(db, viewer=owner, image_id=image_id, patch=patch)
        assert _state(engine, image_id) == before


def test_only_the_owner_may_patch(engine, owned):  # noqa: F811
    _, other, image_id = owned
    before = _state(engine, image_id)
    with Session(engine) as db, pytest.raises(NotAllowed):
        images.update_image(db, viewer=other, image_id=image_id, patch=ImagePatch(title="Mine"))
    assert _state(engine, image_id) == before
