"""The upload workflow and the processing pipeline on Postgres and SeaweedFS: after every
success, refusal or failure the bucket and the tables agree — no row without its objects,
no object without its row — and a failing image is retried, then given up."""

from __future__ import annotations

import functools
import logging
import re
import subprocess
import textwrap
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.db import session_scope
from imageshare.errors import NotAllowed
from imageshare.images import inspection, processing, records, removal
from imageshare.images import service as images
from imageshare.images.kinds import Status, Visibility
from imageshare.images.pipeline import GAVE_UP, MAX_ATTEMPTS, OUR_ERROR
from imageshare.images.received import ReceivedFile
from imageshare.images.tier import ProcessingTier
from imageshare.images.uploads import UploadDetails
from imageshare.jobs import JobResult
from imageshare.settings import load_settings
from imageshare.storage import Storage, StorageError, build_storage
from imageshare.users.models import User
from tests import samples
from tests.harness.components import REPO_ROOT, VENV_BIN
from tests.harness.processing import recording_tier

LIMIT = 25 * 1024 * 1024


@pytest.fixture
def database(postgres_engine):
    return postgres_engine


@pytest.fixture
def bucket_storage(s3_credentials, s3_bucket) -> Storage:
    return build_storage(load_settings(s3_credentials.env(s3_bucket)))


@pytest.fixture
def owner(database) -> Viewer:
    with session_scope(database) as db:
        user = User(auth_subject="auth0|owner", username="owner", display_name="Owner")
        db.add(user)
        db.flush()
        return Viewer.of(user)


def make_tier(database, storage, **options) -> ProcessingTier:
    return recording_tier(storage, functools.partial(session_scope, database), **options)


# A lease of nothing: every row counts as silent at once (the sweep and retries need not wait).
NO_LEASE = {"lease": timedelta(0)}


def received(name: str, data: bytes, limit: int = LIMIT) -> ReceivedFile:
    file = ReceivedFile(filename=name, limit=limit)
    for start in range(0, len(data), 64 * 1024):
        file.write(data[start : start + 64 * 1024])
    file.finish()
    return file


def rows(database) -> dict[str, list]:
    with database.connect() as connection:
        return {
            "image": connection.execute(sa.text("SELECT status, failure_reason FROM image")).all(),
            "attempts": connection.execute(sa.text("SELECT processing_attempts FROM image"))
            .scalars()
            .all(),
            "rendition": connection.execute(
                sa.text("SELECT name FROM rendition ORDER BY width")
            ).all(),
        }


DETAILS = UploadDetails(
    title="Harbour at dusk", description="Boats.", location="Honfleur", tags="Sea, boats , sea",
    visibility="unlisted",
)  # fmt: skip


def test_an_upload_becomes_a_ready_image_with_its_objects(database, bucket_storage, owner):
    tier = make_tier(database, bucket_storage)
    upload = received("harbour.jpg", samples.jpeg(2400, 1600, exif=samples.camera_exif()))
    outcome = tier.uploads.submit(upload, DETAILS, owner)
    assert outcome.image_id and not outcome.refused
    assert upload.path is None  # the temporary file is gone
    assert rows(database)["image"] == [(Status.PROCESSING.value, None)]
    assert tier.jobs.enqueued == [outcome.image_id]  # processing is the queue's business

    assert tier.pipeline.process(outcome.image_id) == JobResult.READY
    image_id = outcome.image_id
    assert sorted(bucket_storage.keys()) == [
        f"originals/{image_id}",
        f"renditions/{image_id}/large.webp",
        f"renditions/{image_id}/medium.webp",
        f"renditions/{image_id}/thumb.webp",
    ]
    assert rows(database) == {
        "image": [("ready", None)],
        "attempts": [1],
        "rendition": [("thumb",), ("medium",), ("large",)],
    }
    # The same job delivered again does nothing: the row is the source of truth.
    assert tier.pipeline.process(image_id) == JobResult.SKIPPED
    assert rows(database)["attempts"] == [1]
    with session_scope(database) as db:
        image = images.get_for_viewer(db, viewer=owner, image_id=image_id)
        assert (image.width, image.height, image.camera_model, image.has_location) == (
            2400,
            1600,
            "X-T5",
            True,
        )
        assert image.visibility == Visibility.UNLISTED and image.location == "Honfleur"
        assert image.sha256 == upload.sha256 and image.byte_size == upload.size
        tags = db.exec(
            sa.text("SELECT t.name FROM tag t JOIN image_tag it ON it.tag_id = t.id")
        ).all()
        assert sorted(t[0] for t in tags) == ["boats", "sea"]
    # The original is kept byte for byte.
    assert bucket_storage.read(f"originals/{image_id}") == samples.jpeg(
        2400, 1600, exif=samples.camera_exif()
    )


def test_the_same_bytes_again_are_a_duplicate_found_before_any_decoding(
    database, bucket_storage, owner, monkeypatch
):
    tier = make_tier(database, bucket_storage)
    data = samples.jpeg(800, 600)
    first = tier.uploads.submit(received("a.jpg", data), DETAILS, owner)

    def no_decoding(*args, **kwargs):
        raise AssertionError("a known file was inspected again")

    monkeypatch.setattr(inspection, "inspect", no_decoding)
    again = tier.uploads.submit(received("copy of a.jpg", data), DETAILS, owner)
    assert again.duplicate_of == first.image_id and again.image_id is None
    assert "already in your images" in again.message
    assert list(bucket_storage.keys()) == [f"originals/{first.image_id}"]
    assert len(rows(database)["image"]) == 1
    assert tier.jobs.enqueued == [first.image_id]


def test_anonymous_uploads_are_refused_and_leave_nothing(database, bucket_storage):
    tier = make_tier(database, bucket_storage)
    upload = received("a.jpg", samples.jpeg(300, 200))
    with pytest.raises(NotAllowed, match="Sign in to upload images."):
        tier.uploads.submit(upload, DETAILS, ANONYMOUS)
    assert upload.path is None and list(bucket_storage.keys()) == []
    assert rows(database)["image"] == [] and tier.jobs.enqueued == []


def test_bad_details_are_refused_with_a_sentence_and_leave_nothing(database, bucket_storage, owner):
    tier = make_tier(database, bucket_storage)
    outcome = tier.uploads.submit(
        received("a.jpg", samples.jpeg(300, 200)), UploadDetails(title="x" * 201), owner
    )
    assert (
        outcome.message
        == "a.jpg was not uploaded: the title can be at most 200 characters; this one has 201."
    )
    assert list(bucket_storage.keys()) == [] and rows(database)["image"] == []


_JPEG = samples.jpeg(800, 600)
_PNG = samples.encoded(samples.photo(300, 200), "PNG")
REFUSED = {
    "empty.jpg": (b"", "the file is empty"),
    "essay.jpg": (b"words " * 100, "not an image"),
    "page.html": (b"<!doctype html><title>x</title>", "not an image"),
    "archive.jpg": (b"PK\x03\x04" + bytes(200), "not an image"),
    "logo.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "not an image"),
    "paper.pdf": (b"%PDF-1.4\n%%EOF\n", "not an image"),
    "scan.bmp": (samples.encoded(Image.new("RGB", (20, 20)), "BMP"), "BMP files are not accepted"),
    "scan.tif": (
        samples.encoded(Image.new("RGB", (20, 20)), "TIFF"),
        "TIFF files are not accepted",
    ),
    "huge.png": (samples.encoded(Image.new("L", (9000, 7000)), "PNG"), "megapixels allowed"),
    "bomb.png": (samples.png_header_only(100_000, 100_000), "more than the 60 megapixels allowed"),
    "cut.jpg": (_JPEG[: len(_JPEG) // 2], "damaged"),
    "corrupt.png": (_PNG[:120] + bytes(300) + _PNG[420:], "damaged|cannot be read"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_refused_files_leave_nothing_behind(database, bucket_storage, owner, name):
    data, reason = REFUSED[name]
    outcome = make_tier(database, bucket_storage).uploads.submit(
        received(name, data), DETAILS, owner
    )
    assert outcome.refused and re.search(reason, outcome.refused), outcome.refused
    assert outcome.message.startswith(f"{name} was not uploaded: ")
    assert list(bucket_storage.keys()) == [] and rows(database)["image"] == []


def test_an_oversized_file_is_refused_while_it_arrives(database, bucket_storage, owner):
    upload = received("big.jpg", samples.jpeg(1600, 1200), limit=50_000)
    assert upload.refused and upload.path is None and upload.size <= 50_000
    outcome = make_tier(database, bucket_storage).uploads.submit(upload, DETAILS, owner)
    assert "larger than the 0.05 MB allowed" in outcome.message
    assert list(bucket_storage.keys()) == [] and rows(database)["image"] == []


class FailingStorage(Storage):
    """The real storage, except that the n-th put fails as a broken S3 would."""

    def __init__(self, inner: Storage, *, fail_put: int):
        self.inner, self.fail_put, self.puts = inner, fail_put, 0

    def put(self, key, data, *, content_type):
        self.puts += 1
        if self.puts == self.fail_put:
            raise StorageError(f"injected failure storing {key}")
        self.inner.put(key, data, content_type=content_type)

    def open(self, key):
        return self.inner.open(key)

    def delete(self, key):
        self.inner.delete(key)

    def exists(self, key):
        return self.inner.exists(key)

    def keys(self, prefix=""):
        return self.inner.keys(prefix)

    def url(self, key, *, expires_in=None):
        return self.inner.url(key, expires_in=expires_in)

    def check(self):
        self.inner.check()


def test_storage_refusing_the_original_leaves_no_row(database, bucket_storage, owner):
    tier = make_tier(database, FailingStorage(bucket_storage, fail_put=1))
    with pytest.raises(StorageError):
        tier.uploads.submit(received("a.jpg", samples.jpeg(800, 600)), DETAILS, owner)
    assert list(bucket_storage.keys()) == [] and rows(database)["image"] == []
    assert tier.jobs.enqueued == []


def test_a_failing_write_is_undone_and_retried(database, bucket_storage, owner):
    failing = FailingStorage(bucket_storage, fail_put=3)
    tier = make_tier(database, failing)
    outcome = tier.uploads.submit(received("a.jpg", samples.jpeg(2400, 1600)), DETAILS, owner)
    assert tier.pipeline.process(outcome.image_id) == JobResult.RETRY
    # Writes: the original, the thumb, then the medium fails: the thumb goes again.
    assert list(bucket_storage.keys()) == [f"originals/{outcome.image_id}"]
    assert rows(database) == {"image": [("processing", None)], "attempts": [1], "rendition": []}
    # The storage is back: the retry (the queue's, or the sweep's) makes it ready.
    assert tier.pipeline.process(outcome.image_id) == JobResult.READY
    assert rows(database)["image"] == [("ready", None)] and rows(database)["attempts"] == [2]
    assert len(list(bucket_storage.keys())) == 4


class DeletedOnOpen(FailingStorage):
    """The real storage; the image is deleted (by its owner) just as its original is
    opened for processing, the way a delete racing a worker lands."""

    def __init__(self, inner: Storage, delete_image: Callable[[], None]):
        super().__init__(inner, fail_put=0)
        self.delete_image = delete_image

    def open(self, key):
        self.delete_image()
        return self.inner.open(key)


def test_an_image_deleted_while_it_is_processed_is_skipped_quietly(
    database, bucket_storage, owner, caplog
):
    image_id: list[uuid.UUID] = []

    def delete_image() -> None:
        sessions = functools.partial(session_scope, database)
        removal.remove_images(owner, image_id, storage=bucket_storage, sessions=sessions)

    tier = make_tier(database, DeletedOnOpen(bucket_storage, delete_image))
    outcome = tier.uploads.submit(received("a.jpg", samples.jpeg(2400, 1600)), DETAILS, owner)
    image_id.append(outcome.image_id)
    with caplog.at_level(logging.INFO, logger="imageshare"):
        assert tier.pipeline.process(outcome.image_id) == JobResult.SKIPPED
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("imageshare")]
    assert (logging.INFO, f"image {outcome.image_id} was deleted while it was processed") in said
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert list(bucket_storage.keys()) == [] and rows(database)["image"] == []


def test_database_failing_after_the_objects_are_written(
    database, bucket_storage, owner, monkeypatch
):
    tier = make_tier(database, bucket_storage)
    outcome = tier.uploads.submit(received("a.jpg", samples.jpeg(1600, 1200)), DETAILS, owner)

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE image", {}, Exception("server closed the connection"))

    monkeypatch.setattr(records, "mark_ready", database_down)
    assert tier.pipeline.process(outcome.image_id) == JobResult.RETRY
    # The renditions are gone again; the row stays processing for another attempt...
    assert list(bucket_storage.keys()) == [f"originals/{outcome.image_id}"]
    assert rows(database) == {"image": [("processing", None)], "attempts": [1], "rendition": []}

    # ...which, once the database is back, finishes the job.
    monkeypatch.undo()
    assert tier.pipeline.process(outcome.image_id) == JobResult.READY
    assert rows(database)["image"] == [("ready", None)]
    assert len(list(bucket_storage.keys())) == 4


def test_processing_that_keeps_raising_fails_on_its_last_attempt(
    database, bucket_storage, owner, monkeypatch
):
    tier = make_tier(database, bucket_storage)
    outcome = tier.uploads.submit(received("a.jpg", samples.jpeg(1600, 1200)), DETAILS, owner)

    def broken_encoder(path, **kwargs):
        raise MemoryError("encoder ran out of memory")

    monkeypatch.setattr(processing, "render", broken_encoder)
    results = [tier.pipeline.process(outcome.image_id) for _ in range(MAX_ATTEMPTS + 1)]
    assert results == [JobResult.RETRY] * (MAX_ATTEMPTS - 1) + [
        JobResult.FAILED,
        JobResult.SKIPPED,
    ]
    assert rows(database) == {
        "image": [("failed", OUR_ERROR)],
        "attempts": [MAX_ATTEMPTS],
        "rendition": [],
    }
    assert list(bucket_storage.keys()) == [f"originals/{outcome.image_id}"]


def test_a_damaged_image_fails_at_once_with_a_reason(database, bucket_storage, owner, monkeypatch):
    tier = make_tier(database, bucket_storage)
    outcome = tier.uploads.submit(received("a.jpg", samples.jpeg(1600, 1200)), DETAILS, owner)

    def damaged(path, **kwargs):
        raise inspection.RejectedImage("the image is damaged and cannot be decoded (broken data)")

    monkeypatch.setattr(processing, "render", damaged)
    assert tier.pipeline.process(outcome.image_id) == JobResult.FAILED
    [(status, reason)] = rows(database)["image"]
    assert status == "failed" and reason == (
        "The image could not be processed: the image is damaged and cannot be decoded "
        "(broken data)."
    )


def test_an_image_larger_than_the_whole_memory_budget_is_refused_not_attempted(
    database, bucket_storage, owner, monkeypatch
):
    tier = make_tier(database, bucket_storage, budget_bytes=8 * 1024 * 1024)
    outcome = tier.uploads.submit(
        received("wide.png", samples.encoded(samples.photo(3000, 2000), "PNG")), DETAILS, owner
    )

    def never(path, **kwargs):
        raise AssertionError("decoded although it cannot fit")

    monkeypatch.setattr(processing, "render", never)
    assert tier.pipeline.process(outcome.image_id) == JobResult.FAILED
    [(status, reason)] = rows(database)["image"]
    assert status == "failed"
    assert re.fullmatch(
        r"The image is too large to process: decoding it takes about [\d,]+ MiB of memory, "
        r"more than the 8 MiB allowed\.",
        reason,
    ), reason


def test_an_image_whose_worker_keeps_dying_is_given_up(database, bucket_storage, owner):
    tier = make_tier(database, bucket_storage, **NO_LEASE)
    outcome = tier.uploads.submit(received("a.jpg", samples.jpeg(1600, 1200)), DETAILS, owner)
    image_id = outcome.image_id
    # Three workers claim it and die mid-way, one leaving a rendition behind.
    for _ in range(MAX_ATTEMPTS):
        with session_scope(database) as db:
            claim = records.claim_processing(
                db, image_id=image_id, stale_after=timedelta(0), max_attempts=MAX_ATTEMPTS
            )
        assert claim is records.Claim.TAKEN
    bucket_storage.put(f"renditions/{image_id}/large.webp", b"half", content_type="image/webp")
    # The next delivery (or the sweep) gives it up: failed, renditions gone, never again.
    assert tier.pipeline.process(image_id) == JobResult.FAILED
    assert rows(database) == {"image": [("failed", GAVE_UP)], "attempts": [3], "rendition": []}
    assert list(bucket_storage.keys()) == [f"originals/{image_id}"]
    assert tier.pipeline.process(image_id) == JobResult.SKIPPED
    assert tier.pipeline.sweep() == []


def test_the_sweep_gives_up_used_up_images_and_enqueues_lost_ones(database, bucket_storage, owner):
    tier = make_tier(database, bucket_storage, **NO_LEASE)
    lost = tier.uploads.submit(received("a.jpg", samples.jpeg(800, 600)), DETAILS, owner)
    dying = tier.uploads.submit(received("b.jpg", samples.jpeg(801, 600)), DETAILS, owner)
    for _ in range(MAX_ATTEMPTS):
        with session_scope(database) as db:
            records.claim_processing(
                db, image_id=dying.image_id, stale_after=timedelta(0), max_attempts=MAX_ATTEMPTS
            )
    assert tier.pipeline.sweep() == [lost.image_id]
    with session_scope(database) as db:
        assert db.get(images.Image, dying.image_id).failure_reason == GAVE_UP
    # The recovery round enqueues the lost job again (after the upload's own).
    tier.recover()
    assert tier.jobs.enqueued == [lost.image_id, dying.image_id, lost.image_id]


def test_a_live_attempt_is_not_claimed_twice(database, bucket_storage, owner):
    tier = make_tier(database, bucket_storage)  # a lease of a minute
    outcome = tier.uploads.submit(received("a.jpg", samples.jpeg(800, 600)), DETAILS, owner)
    with session_scope(database) as db:
        assert (
            records.claim_processing(
                db, image_id=outcome.image_id, stale_after=timedelta(seconds=40), max_attempts=3
            )
            is records.Claim.TAKEN
        )
    # A duplicate delivery while the first worker is alive: nothing happens.
    assert tier.pipeline.process(outcome.image_id) == JobResult.SKIPPED
    assert rows(database)["attempts"] == [1] and tier.pipeline.sweep() == []


def test_a_row_without_its_original_is_removed_by_the_sweep(database, bucket_storage, owner):
    # A crash between writing the row and the original.
    tier = make_tier(database, bucket_storage, **NO_LEASE)
    outcome = tier.uploads.submit(received("a.jpg", samples.jpeg(800, 600)), DETAILS, owner)
    bucket_storage.delete(f"originals/{outcome.image_id}")
    assert tier.pipeline.sweep() == []
    assert rows(database)["image"] == [] and list(bucket_storage.keys()) == []


CRASHING_WORKER = textwrap.dedent(
    """
    import functools, sys, time
    from imageshare.auth.viewer import Viewer
    from imageshare.db import create_db_engine, session_scope
    from imageshare.images import inspection, processing, removal
    from imageshare.images.received import ReceivedFile
    from imageshare.storage import build_storage
    from imageshare.images.uploads import UploadDetails
    from imageshare.settings import load_settings
    from tests.harness.processing import recording_tier

    settings = load_settings()
    engine = create_db_engine(settings.database_url)
    tier = recording_tier(build_storage(settings), functools.partial(session_scope, engine))
    upload = ReceivedFile(filename="slow.jpg", limit=10**8)
    upload.write(open(sys.argv[1], "rb").read())
    upload.finish()
    outcome = tier.uploads.submit(upload, UploadDetails(title="slow"), Viewer(user_id=int(sys.argv[2])))
    real_render = processing.render
    def render_then_hang(path, **kw):
        real_render(path, **kw)
        print("RENDERING", outcome.image_id, flush=True)
        time.sleep(600)
    processing.render = render_then_hang
    tier.pipeline.process(outcome.image_id)
    """
)


def test_work_killed_midway_is_picked_up_again(
    database, bucket_storage, owner, s3_credentials, s3_bucket, tmp_path
):
    photo = tmp_path / "slow.jpg"
    photo.write_bytes(samples.jpeg(2400, 1600))
    env = {
        **s3_credentials.env(s3_bucket),
        "DATABASE_URL": database.url.render_as_string(hide_password=False),
        "PATH": "/usr/bin:/bin",
    }
    worker = subprocess.Popen(
        [str(VENV_BIN / "python"), "-c", CRASHING_WORKER, str(photo), str(owner.user_id)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = worker.stdout.readline()
    assert line.startswith("RENDERING"), line
    worker.kill()  # SIGKILL: no cleanup of any kind runs
    worker.wait()
    assert rows(database)["image"] == [("processing", None)]

    # Within its lease a processing image belongs to its worker and is left alone.
    assert make_tier(database, bucket_storage).pipeline.sweep() == []
    time.sleep(0.01)
    tier = make_tier(database, bucket_storage, **NO_LEASE)
    [lost] = tier.pipeline.sweep()
    assert tier.pipeline.process(lost) == JobResult.READY
    assert rows(database) == {
        "image": [("ready", None)],
        "attempts": [2],
        "rendition": [("thumb",), ("medium",), ("large",)],
    }
    assert len(list(bucket_storage.keys(f"renditions/{lost}/"))) == 3


def test_simultaneous_uploads_with_the_same_new_tags(database, bucket_storage, owner):
    tier = make_tier(database, bucket_storage)
    details = UploadDetails(title="t", tags="brand, new, tags")
    uploads = [received(f"{n}.jpg", samples.jpeg(300 + n, 200)) for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(
            pool.map(lambda upload: tier.uploads.submit(upload, details, owner), uploads)
        )
    assert all(o.image_id for o in outcomes), [o.message for o in outcomes]
    with database.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM tag")).scalar_one() == 3
        assert connection.execute(sa.text("SELECT count(*) FROM image_tag")).scalar_one() == 18
