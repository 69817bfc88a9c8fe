"""Deleting images on Postgres and SeaweedFS, beyond test_removal.py: a bulk delete where
the bucket refuses one image, recovery that must not stall behind an image it cannot
delete yet, the pipeline's recovery step, and deletions racing the processing of the
same image to the end. Afterwards the bucket and the tables are listed."""

from __future__ import annotations

import functools
import logging
import uuid

import pytest
import sqlalchemy as sa

from imageshare.auth.viewer import ANONYMOUS
from imageshare.comments import service as comments
from imageshare.db import session_scope
from imageshare.errors import NotAllowed, NotFound
from imageshare.images import detail, listing, records, removal
from imageshare.images import service as images
from imageshare.images.kinds import Status
from imageshare.images.listing import Filters
from imageshare.images.received import ReceivedFile
from imageshare.images.tier import ProcessingTier
from imageshare.images.uploads import UploadDetails
from imageshare.jobs import JobResult
from imageshare.settings import load_settings
from imageshare.sharing import service as sharing
from imageshare.storage import StorageError, build_storage
from imageshare.users import service as users
from tests import samples
from tests.harness.processing import recording_tier
from tests.harness.rows import person

pytestmark = pytest.mark.integration

TABLES = ("image", "rendition", "image_tag", "comment")
_SIZES = iter(range(1000, 2000))  # every upload a size of its own: never a duplicate


@pytest.fixture
def database(postgres_engine):
    return postgres_engine


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


def tier_for(storage, sessions) -> ProcessingTier:
    return recording_tier(storage, sessions, max_pixels=10**8)


def upload(storage, sessions, owner, title: str, *, process: bool = True) -> uuid.UUID:
    """An image as the upload page leaves it: through the real pipeline."""
    tier = tier_for(storage, sessions)
    file = ReceivedFile(filename=f"{title}.jpg", limit=10**8)
    file.write(samples.jpeg(1400, next(_SIZES)))
    file.finish()
    outcome = tier.uploads.submit(file, UploadDetails(title=title, tags="harbour, sea"), owner)
    assert outcome.image_id, outcome.message
    if process:
        assert tier.pipeline.process(outcome.image_id) == JobResult.READY
    return outcome.image_id


def counts(database) -> dict[str, int]:
    with database.connect() as connection:
        return {
            table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in TABLES
        }


def statuses(database) -> dict[uuid.UUID, str]:
    with database.connect() as connection:
        return dict(connection.execute(sa.text("SELECT id, status FROM image")).all())


def keys_of(storage, image_id) -> list[str]:
    return sorted(key for key in storage.keys() if str(image_id) in key)


class Refusing:
    """The bucket, refusing to delete the objects of some images (an outage, a policy
    mistake); everything else works."""

    def __init__(self, storage, *image_ids: uuid.UUID):
        self._storage = storage
        self.refused = {str(i) for i in image_ids}

    def delete(self, key: str) -> None:
        if any(image_id in key for image_id in self.refused):
            raise StorageError(f"could not delete {key!r}: AccessDenied")
        self._storage.delete(key)

    def __getattr__(self, name):
        return getattr(self._storage, name)


def assert_gone_for_everyone(sessions, owner, other, image_id, share_code: str) -> None:
    with sessions() as db:
        for viewer in (owner, other, ANONYMOUS):
            with pytest.raises(NotFound):
                detail.get_detail(db, viewer=viewer, image_id=image_id)
            with pytest.raises(NotFound):
                sharing.image_for_code(db, viewer=viewer, code=share_code)
            with pytest.raises(NotFound):
                comments.list_comments(db, viewer=viewer, image_id=image_id)
            listed = listing.gallery(db, viewer=viewer, filters=Filters.clean(tag="sea"))
            assert image_id not in [item.image.id for item in listed.items]
            profile = users.by_username(db, username="owner")
            mine = listing.of_owner(db, viewer=viewer, owner=profile)
            assert image_id not in [item.image.id for item in mine.items]


def test_a_bulk_delete_finishes_the_images_it_can_and_hides_the_one_it_cannot(
    database, storage, sessions, people
):
    owner, other = people
    stuck, fine, kept = (upload(storage, sessions, owner, t) for t in ("stuck", "fine", "kept"))
    with sessions() as db:
        for image_id in (stuck, fine, kept):
            comments.add_comment(db, viewer=other, image_id=image_id, body="nice")
        code = db.get(images.Image, stuck).share_code
        assert (
            listing.count_of_owner(db, viewer=owner, owner=users.by_username(db, username="owner"))
            == 3
        )
    stuck_keys = keys_of(storage, stuck)
    assert len(stuck_keys) >= 2  # the original and its renditions

    deleted = removal.remove_images(
        owner, [stuck, fine], storage=Refusing(storage, stuck), sessions=sessions
    )
    assert set(deleted) == {stuck, fine}
    # The one the bucket let go is gone entirely; the other is hidden, waiting.
    assert keys_of(storage, fine) == []
    assert keys_of(storage, stuck) == stuck_keys
    assert statuses(database) == {stuck: Status.DELETING, kept: Status.READY}
    assert_gone_for_everyone(sessions, owner, other, stuck, code)
    with sessions() as db:
        profile = users.by_username(db, username="owner")
        assert listing.count_of_owner(db, viewer=owner, owner=profile) == 1
        assert listing.count_of_owner(db, viewer=other, owner=profile) == 1

    # The bucket recovers: the next recovery round finishes it.
    assert removal.finish_pending(storage=storage, sessions=sessions) == 1
    assert keys_of(storage, stuck) == []
    assert sorted(storage.keys()) == keys_of(storage, kept)
    assert counts(database) == {
        "image": 1,
        "rendition": len(keys_of(storage, kept)) - 1,
        "image_tag": 2,
        "comment": 1,
    }
    assert removal.finish_pending(storage=storage, sessions=sessions) == 0


@pytest.mark.parametrize("stuck_index", [0, 1, 2])
def test_recovery_does_not_stall_behind_an_image_it_cannot_delete_yet(
    database, storage, sessions, people, caplog, stuck_index
):
    """Three deletions left pending by an outage; the bucket comes back but still
    refuses one of them. Recovery finishes the other two whatever order it finds them
    in, says which one it could not do, and finishes that one once it can."""
    owner, other = people
    ids = [upload(storage, sessions, owner, f"pending {n}") for n in range(3)]
    removal.remove_images(owner, ids, storage=Refusing(storage, *ids), sessions=sessions)
    with sessions() as db:
        assert sorted(records.pending_deletions(db)) == sorted(ids)
    stuck = ids[stuck_index]

    raised = None
    with caplog.at_level(logging.ERROR, logger="imageshare"):
        try:
            removal.finish_pending(storage=Refusing(storage, stuck), sessions=sessions)
        except StorageError as error:
            raised = error
    for image_id in ids:
        if image_id != stuck:
            assert keys_of(storage, image_id) == [], "recovery stopped at the stuck image"
    assert statuses(database) == {stuck: Status.DELETING}
    assert raised is not None or str(stuck) in caplog.text, "the failure went unreported"

    assert removal.finish_pending(storage=storage, sessions=sessions) == 1
    assert list(storage.keys()) == [] and counts(database) == dict.fromkeys(TABLES, 0)


def test_the_pipelines_recovery_step_finishes_interrupted_deletions(
    database, storage, sessions, people
):
    owner, _ = people
    image_id = upload(storage, sessions, owner, "interrupted")
    removal.remove_images(owner, [image_id], storage=Refusing(storage, image_id), sessions=sessions)
    assert statuses(database) == {image_id: Status.DELETING}
    tier_for(storage, sessions).recover()  # what the app's lifespan task runs
    assert list(storage.keys()) == [] and counts(database) == dict.fromkeys(TABLES, 0)


def test_refused_requests_delete_nothing_and_repeats_are_harmless(
    database, storage, sessions, people
):
    owner, other = people
    mine = upload(storage, sessions, owner, "mine")
    before = counts(database), sorted(storage.keys())
    for viewer, refusal in ((ANONYMOUS, NotAllowed), (other, NotAllowed)):
        with pytest.raises(refusal):
            removal.remove_images(viewer, [mine], storage=storage, sessions=sessions)
    assert (counts(database), sorted(storage.keys())) == before

    assert removal.remove_images(owner, [mine, mine], storage=storage, sessions=sessions) == [mine]
    assert list(storage.keys()) == [] and counts(database) == dict.fromkeys(TABLES, 0)
    with pytest.raises(NotFound):  # once gone, gone
        removal.remove_images(owner, [mine], storage=storage, sessions=sessions)


def test_an_image_that_failed_or_never_got_processed_can_be_deleted(
    database, storage, sessions, people
):
    owner, _ = people
    waiting = upload(storage, sessions, owner, "waiting", process=False)
    broken = upload(storage, sessions, owner, "broken", process=False)
    with sessions() as db:
        records.mark_failed(db, image_id=broken, reason="The image could not be processed.")
    assert statuses(database) == {waiting: Status.PROCESSING, broken: Status.FAILED}
    ids = [waiting, broken]
    assert removal.remove_images(owner, ids, storage=storage, sessions=sessions) == ids
    assert list(storage.keys()) == [] and counts(database) == dict.fromkeys(TABLES, 0)
    # A worker that picks the upload up afterwards finds nothing and leaves nothing.
    assert tier_for(storage, sessions).pipeline.process(waiting) == JobResult.SKIPPED
    assert list(storage.keys()) == [] and counts(database) == dict.fromkeys(TABLES, 0)


class DeletedMidway:
    """The bucket, where the owner's delete request runs to its end just as processing
    writes its `nth` rendition."""

    def __init__(self, storage, nth: int, delete):
        self._storage, self._nth, self._delete = storage, nth, delete
        self.renditions_written = 0

    def put(self, key, data, *, content_type):
        if key.startswith("renditions/"):
            self.renditions_written += 1
            if self.renditions_written == self._nth:
                self._delete()
        self._storage.put(key, data, content_type=content_type)

    def __getattr__(self, name):
        return getattr(self._storage, name)


@pytest.mark.parametrize("nth", [1, 3], ids=["before-the-first-rendition", "before-the-last"])
def test_an_image_deleted_while_it_is_processed_leaves_nothing_behind(
    database, storage, sessions, people, nth
):
    owner, other = people
    image_id = upload(storage, sessions, owner, "racing", process=False)
    with sessions() as db:
        code = db.get(images.Image, image_id).share_code

    def delete_now():
        assert removal.remove_images(owner, [image_id], storage=storage, sessions=sessions) == [
            image_id
        ]
        assert counts(database)["image"] == 0

    racing = DeletedMidway(storage, nth, delete_now)
    result = tier_for(racing, sessions).pipeline.process(image_id)
    assert racing.renditions_written >= nth
    assert result == JobResult.SKIPPED  # not ready: there is nothing to be ready
    assert list(storage.keys()) == [], "renditions outlived their image"
    assert counts(database) == dict.fromkeys(TABLES, 0), "the image came back"
    assert_gone_for_everyone(sessions, owner, other, image_id, code)
    assert removal.finish_pending(storage=storage, sessions=sessions) == 0
