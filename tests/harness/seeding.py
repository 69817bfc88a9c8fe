"""Images put straight into the app under test (its Postgres and bucket) through the
real pipeline, so browser tests can start from a known gallery without clicking
through dozens of uploads. The people are the ones development sign-in creates."""

from __future__ import annotations

import functools
import io
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from imageshare.auth.viewer import Viewer
from imageshare.db import create_db_engine, session_scope
from imageshare.images.received import ReceivedFile
from imageshare.images.tier import ProcessingTier
from imageshare.images.uploads import UploadDetails
from imageshare.jobs import JobResult
from imageshare.settings import load_settings
from imageshare.storage import S3Storage
from imageshare.users import service as users
from tests import samples
from tests.harness.processing import recording_tier

_SHAPES = itertools.cycle([(480, 320), (320, 480), (400, 400), (640, 360)])
_NUMBERS = itertools.count(1)


@dataclass
class Seeder:
    tier: ProcessingTier
    sessions: functools.partial

    def person(self, username: str) -> Viewer:
        """The person development sign-in makes of `username` (created if new)."""
        claims = {"sub": f"dev|{username}", "nickname": username, "name": username}
        with self.sessions() as db:
            return Viewer.of(users.sign_in_from_claims(db, claims=claims))

    def image(
        self, owner: Viewer, title: str, *, size: tuple[int, int] | None = None, **details
    ) -> uuid.UUID:
        """A ready image with these details (tags, visibility, location, description).

        Small by default (quick); a `size` over 1024 pixels gets all three renditions.
        """
        width, height = size or next(_SHAPES)
        number = next(_NUMBERS)
        picture = samples.photo(width, height).rotate(number * 37 % 360)
        # A mark of its own, so no two seeded pictures are refused as duplicates.
        picture.paste((number % 256, number // 256 % 256, 200), (0, 0, 24, 24))
        out = io.BytesIO()
        picture.save(out, "JPEG")
        received = ReceivedFile(filename=f"{title}.jpg", limit=10**8)
        received.write(out.getvalue())
        received.finish()
        outcome = self.tier.uploads.submit(received, UploadDetails(title=title, **details), owner)
        assert outcome.image_id, outcome.message
        result = self.tier.pipeline.process(outcome.image_id)
        assert result == JobResult.READY, f"seeding {title!r}: {result}"
        return outcome.image_id


@pytest.fixture(scope="session")
def seeder(app_settings, s3_server) -> Iterator[Seeder]:
    settings = load_settings(app_settings)
    engine = create_db_engine(settings.database_url)
    # The app's bucket, with the server's keys (this process has none in its environment).
    storage = S3Storage(
        bucket=settings.s3_bucket,
        region=settings.s3_region,
        endpoint_url=settings.s3_endpoint_url,
        client=s3_server.client(),
    )
    sessions = functools.partial(session_scope, engine)
    tier = recording_tier(storage, sessions, max_pixels=settings.max_image_pixels)
    yield Seeder(tier, sessions)
    engine.dispose()
