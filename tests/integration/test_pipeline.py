"""The upload pipeline on Postgres and SeaweedFS: after every success, refusal or failure
the bucket and the tables agree — no row without its objects, no object without its row."""

from __future__ import annotations

import functools
import re
import subprocess
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from imageshare.auth.viewer import Viewer
from imageshare.db import create_db_engine, session_scope
from imageshare.images import processing
from imageshare.images import service as images
from imageshare.images.kinds import Status, Visibility
from imageshare.images.pipeline import ImagePipeline
from imageshare.images.service import ImageDetails
from imageshare.images.storage import Storage, StorageError, build_storage
from imageshare.images.uploads import ReceivedFile
from imageshare.settings import load_settings
from imageshare.users.models import User
from tests import samples
from tests.harness.components import REPO_ROOT, VENV_BIN
from tests.harness.database import upgrade

LIMIT = 25 * 1024 * 1024


@pytest.fixture
def database(empty_postgres_url):
    upgrade(empty_postgres_url)
    engine = create_db_engine(empty_postgres_url)
    yield engine
    engine.dispose()


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


def make_pipeline(database, storage) -> ImagePipeline:
    return ImagePipeline(
        storage=storage, max_pixels=60_000_000, sessions=functools.partial(session_scope, database)
    )


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
            "rendition": connection.execute(
                sa.text("SELECT name FROM rendition ORDER BY width")
            ).all(),
        }


DETAILS = ImageDetails.clean(
    title="Harbour at dusk", description="Boats.", location="Honfleur", tags="Sea, boats , sea",
    visibility="unlisted",
)  # fmt: skip


def test_an_upload_becomes_a_ready_image_with_its_objects(database, bucket_storage, owner):
    pipeline = make_pipeline(database, bucket_storage)
    upload = received("harbour.jpg", samples.jpeg(2400, 1600, exif=samples.camera_exif()))
    outcome = pipeline.ingest(upload, DETAILS, owner)
    assert outcome.image_id and not outcome.refused
    assert upload.path is None  # the temporary file is gone
    assert rows(database)["image"] == [(Status.PROCESSING.value, None)]

    assert pipeline.process(outcome.image_id) == Status.READY
    image_id = outcome.image_id
    assert sorted(bucket_storage.keys()) == [
        f"originals/{image_id}",
        f"renditions/{image_id}/large.webp",
        f"renditions/{image_id}/medium.webp",
        f"renditions/{image_id}/thumb.webp",
    ]
    assert rows(database) == {
        "image": [("ready", None)],
        "rendition": [("thumb",), ("medium",), ("large",)],
    }
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


def test_the_same_bytes_again_are_a_duplicate_and_store_nothing(database, bucket_storage, owner):
    pipeline = make_pipeline(database, bucket_storage)
    data = samples.jpeg(800, 600)
    first = pipeline.ingest(received("a.jpg", data), DETAILS, owner)
    again = pipeline.ingest(received("copy of a.jpg", data), DETAILS, owner)
    assert again.duplicate_of == first.image_id and again.image_id is None
    assert "already in your images" in again.message
    assert list(bucket_storage.keys()) == [f"originals/{first.image_id}"]
    assert len(rows(database)["image"]) == 1


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
    outcome = make_pipeline(database, bucket_storage).ingest(received(name, data), DETAILS, owner)
    assert outcome.refused and re.search(reason, outcome.refused), outcome.refused
    assert outcome.message.startswith(f"{name} was not uploaded: ")
    assert list(bucket_storage.keys()) == [] and rows(database)["image"] == []


def test_an_oversized_file_is_refused_while_it_arrives(database, bucket_storage, owner):
    upload = received("big.jpg", samples.jpeg(1600, 1200), limit=50_000)
    assert upload.refused and upload.path is None and upload.size <= 50_000
    outcome = make_pipeline(database, bucket_storage).ingest(upload, DETAILS, owner)
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
    pipeline = make_pipeline(database, FailingStorage(bucket_storage, fail_put=1))
    with pytest.raises(StorageError):
        pipeline.ingest(received("a.jpg", samples.jpeg(800, 600)), DETAILS, owner)
    assert list(bucket_storage.keys()) == [] and rows(database)["image"] == []


def test_storage_refusing_the_third_write_fails_the_image_cleanly(database, bucket_storage, owner):
    pipeline = make_pipeline(database, FailingStorage(bucket_storage, fail_put=3))
    outcome = pipeline.ingest(received("a.jpg", samples.jpeg(2400, 1600)), DETAILS, owner)
    assert pipeline.process(outcome.image_id) == Status.FAILED
    # Writes: the original, the thumb, then the medium rendition fails.
    assert list(bucket_storage.keys()) == [f"originals/{outcome.image_id}"]
    assert rows(database) == {
        "image": [("failed", "Processing failed because of an error on our side.")],
        "rendition": [],
    }


def test_database_failing_after_the_objects_are_written(
    database, bucket_storage, owner, monkeypatch
):
    pipeline = make_pipeline(database, bucket_storage)
    outcome = pipeline.ingest(received("a.jpg", samples.jpeg(1600, 1200)), DETAILS, owner)

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE image", {}, Exception("server closed the connection"))

    monkeypatch.setattr(images, "mark_ready", database_down)
    monkeypatch.setattr(images, "mark_failed", database_down)
    assert pipeline.process(outcome.image_id) == Status.FAILED
    # The renditions are gone again; the row could not be marked and stays processing...
    assert list(bucket_storage.keys()) == [f"originals/{outcome.image_id}"]
    assert rows(database) == {"image": [("processing", None)], "rendition": []}

    # ...until recovery, once the database is back, finishes the job.
    monkeypatch.undo()
    assert pipeline.recover_stalled(older_than=timedelta(0)) == [outcome.image_id]
    assert rows(database)["image"] == [("ready", None)]
    assert len(list(bucket_storage.keys())) == 4


def test_processing_that_raises_marks_the_image_failed(
    database, bucket_storage, owner, monkeypatch
):
    pipeline = make_pipeline(database, bucket_storage)
    outcome = pipeline.ingest(received("a.jpg", samples.jpeg(1600, 1200)), DETAILS, owner)

    def broken_encoder(path, **kwargs):
        raise MemoryError("encoder ran out of memory")

    monkeypatch.setattr(processing, "render", broken_encoder)
    assert pipeline.process(outcome.image_id) == Status.FAILED
    assert rows(database) == {
        "image": [("failed", "Processing failed because of an error on our side.")],
        "rendition": [],
    }
    assert list(bucket_storage.keys()) == [f"originals/{outcome.image_id}"]


def test_a_row_without_its_original_is_removed_by_recovery(database, bucket_storage, owner):
    # A crash between writing the row and the original.
    pipeline = make_pipeline(database, bucket_storage)
    outcome = pipeline.ingest(received("a.jpg", samples.jpeg(800, 600)), DETAILS, owner)
    bucket_storage.delete(f"originals/{outcome.image_id}")
    assert pipeline.recover_stalled(older_than=timedelta(0)) == []
    assert rows(database)["image"] == [] and list(bucket_storage.keys()) == []


CRASHING_WORKER = textwrap.dedent(
    """
    import functools, sys, time
    from imageshare.auth.viewer import Viewer
    from imageshare.db import create_db_engine, session_scope
    from imageshare.images import processing
    from imageshare.images.pipeline import ImagePipeline
    from imageshare.images.service import ImageDetails
    from imageshare.images.storage import build_storage
    from imageshare.images.uploads import ReceivedFile
    from imageshare.settings import get_settings

    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    pipeline = ImagePipeline(storage=build_storage(settings), max_pixels=60_000_000,
                             sessions=functools.partial(session_scope, engine))
    upload = ReceivedFile(filename="slow.jpg", limit=10**8)
    upload.write(open(sys.argv[1], "rb").read())
    upload.finish()
    outcome = pipeline.ingest(upload, ImageDetails.clean(title="slow"), Viewer(user_id=int(sys.argv[2])))
    real_render = processing.render
    def render_then_hang(path, **kw):
        real_render(path, **kw)
        print("RENDERING", outcome.image_id, flush=True)
        time.sleep(600)
    processing.render = render_then_hang
    pipeline.process(outcome.image_id)
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

    pipeline = make_pipeline(database, bucket_storage)
    # Within the grace period a processing image belongs to its worker and is left alone.
    assert pipeline.recover_stalled() == []
    time.sleep(0.01)
    [recovered] = pipeline.recover_stalled(older_than=timedelta(0))
    assert rows(database) == {
        "image": [("ready", None)],
        "rendition": [("thumb",), ("medium",), ("large",)],
    }
    assert len(list(bucket_storage.keys(f"renditions/{recovered}/"))) == 3


def test_simultaneous_uploads_with_the_same_new_tags(database, bucket_storage, owner):
    pipeline = make_pipeline(database, bucket_storage)
    details = ImageDetails.clean(title="t", tags="brand, new, tags")
    uploads = [received(f"{n}.jpg", samples.jpeg(300 + n, 200)) for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda upload: pipeline.ingest(upload, details, owner), uploads))
    assert all(o.image_id for o in outcomes), [o.message for o in outcomes]
    with database.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM tag")).scalar_one() == 3
        assert connection.execute(sa.text("SELECT count(*) FROM image_tag")).scalar_one() == 18
