"""Deleting images on Postgres and SeaweedFS: rows and objects both go, a refused request
deletes nothing, and a failure half-way is finished by recovery — then the bucket and
the tables are listed to show it."""

from __future__ import annotations

import functools
import uuid

import pytest
import sqlalchemy as sa

from imageshare.comments import service as comments
from imageshare.db import create_db_engine, session_scope
from imageshare.errors import NotAllowed, NotFound
from imageshare.images import detail, listing, removal
from imageshare.images import service as images
from imageshare.images.kinds import Status
from imageshare.images.pipeline import ImagePipeline
from imageshare.images.service import ImageDetails
from imageshare.images.storage import StorageError, build_storage
from imageshare.images.uploads import ReceivedFile
from imageshare.settings import load_settings
from tests import samples
from tests.harness.database import upgrade
from tests.harness.rows import person

TABLES = ("image", "rendition", "image_tag", "comment")


@pytest.fixture
def database(empty_postgres_url):
    upgrade(empty_postgres_url)
    engine = create_db_engine(empty_postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def storage(s3_credentials, s3_bucket):
    return build_storage(load_settings(s3_credentials.env(s3_bucket)))


@pytest.fixture
def sessions(database):
    return functools.partial(session_scope, database)


@pytest.fixture
def people(sessions):
    with sessions() as db:
        return person(db, "owner"), person(db, "other")


def upload(storage, sessions, owner, title: str, *, process: bool = True):
    pipeline = ImagePipeline(storage=storage, max_pixels=10**8, sessions=sessions)
    file = ReceivedFile(filename=f"{title}.jpg", limit=10**8)
    file.write(samples.jpeg(1600, 1200 + len(title)))  # a size of its own: never a duplicate
    file.finish()
    outcome = pipeline.ingest(file, ImageDetails.clean(title=title, tags="a, b"), owner)
    if process:
        assert pipeline.process(outcome.image_id) == Status.READY
    return outcome.image_id, pipeline


def counts(database) -> dict[str, int]:
    with database.connect() as connection:
        return {
            table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in TABLES
        }


def keys_of(storage, image_id) -> list[str]:
    return [key for key in storage.keys() if str(image_id) in key]


def test_deleting_removes_rows_and_objects_and_leaves_the_rest(database, storage, sessions, people):
    owner, other = people
    first, _ = upload(storage, sessions, owner, "first")
    second, _ = upload(storage, sessions, owner, "second")
    kept, _ = upload(storage, sessions, owner, "kept")
    with sessions() as db:
        comments.add_comment(db, viewer=other, image_id=first, body="nice")
    assert len(keys_of(storage, first)) == 4  # the original and three renditions

    assert removal.remove_images(owner, [first, second], storage=storage, sessions=sessions) == [
        first,
        second,
    ]
    assert keys_of(storage, first) == [] and keys_of(storage, second) == []
    assert len(keys_of(storage, kept)) == 4
    assert counts(database) == {"image": 1, "rendition": 3, "image_tag": 2, "comment": 0}


@pytest.mark.parametrize("refusal", ["someone else's", "unknown"])
def test_a_request_with_one_image_not_yours_deletes_nothing(
    database, storage, sessions, people, refusal
):
    owner, other = people
    mine, _ = upload(storage, sessions, owner, "mine")
    theirs, _ = upload(storage, sessions, other, "theirs")
    before = counts(database), sorted(storage.keys())
    target = theirs if refusal == "someone else's" else uuid.uuid4()
    expected = NotAllowed if refusal == "someone else's" else NotFound
    with pytest.raises(expected):
        removal.remove_images(owner, [mine, target], storage=storage, sessions=sessions)
    assert (counts(database), sorted(storage.keys())) == before
    with sessions() as db:
        assert detail.get_detail(db, viewer=owner, image_id=mine).image.status == Status.READY


class RefusingDeletes:
    """The bucket, refusing to delete anything (an outage, a permissions mistake)."""

    def __init__(self, storage):
        self._storage = storage

    def delete(self, key):
        raise StorageError(f"could not delete {key!r}: AccessDenied")

    def __getattr__(self, name):
        return getattr(self._storage, name)


def test_a_storage_failure_hides_the_image_at_once_and_recovery_finishes(
    database, storage, sessions, people
):
    owner, other = people
    doomed, _ = upload(storage, sessions, owner, "doomed")
    removal.remove_images(owner, [doomed], storage=RefusingDeletes(storage), sessions=sessions)

    # Gone for everyone already; rows and objects are still there, marked deleting.
    with sessions() as db:
        for viewer in (owner, other):
            with pytest.raises(NotFound):
                detail.get_detail(db, viewer=viewer, image_id=doomed)
        assert listing.gallery(db, viewer=other).items == []
        owner_row = listing.owner_by_username(db, username="owner")
        assert listing.of_owner(db, viewer=owner, owner=owner_row).items == []
    assert len(keys_of(storage, doomed)) == 4 and counts(database)["image"] == 1

    assert removal.finish_pending(storage=storage, sessions=sessions) == 1
    assert keys_of(storage, doomed) == []
    assert counts(database) == dict.fromkeys(TABLES, 0)


def test_an_image_deleted_while_processing_does_not_come_back(database, storage, sessions, people):
    owner, _ = people
    image_id, pipeline = upload(storage, sessions, owner, "racing", process=False)
    with sessions() as db:
        images.begin_deletion(db, viewer=owner, image_ids=[image_id])
    # The worker was already processing: it finishes, finds the image going, cleans up.
    assert pipeline.process(image_id) == Status.FAILED
    assert keys_of(storage, image_id) == [f"originals/{image_id}"]
    with sessions() as db:
        assert images.pending_deletions(db) == [image_id]
    removal.finish_pending(storage=storage, sessions=sessions)
    assert keys_of(storage, image_id) == [] and counts(database)["image"] == 0
