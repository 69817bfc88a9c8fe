"""The upload workflow, one for the upload page and the API: check, store, enqueue.

`submit` takes a received file (received.py) and what the uploader said, and leaves
either nothing (refused, or already uploaded) or a row in processing with its original
stored and a processing job enqueued. The order of writes keeps the database and
storage in step whatever fails:

1. the file is checked: the size while it arrived; then whether this person already
   uploaded these bytes (before anything is decoded); then the header and the file's
   structure, without decoding its pixels — decoding is the workers' job, under their
   memory budget (pipeline.py). Refused: nothing is stored;
2. the row is written (status processing), then the original object; if storing the
   original fails, the row is removed again;
3. the job is enqueued. Should that fail, the row waits for the recovery sweep, which
   enqueues it again: the upload itself has succeeded.

Blocking (SQL, storage, the queue): async callers run it in a worker thread.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from imageshare.auth.viewer import Viewer
from imageshare.db import Sessions
from imageshare.errors import InvalidInput, NotAllowed
from imageshare.images import inspection, records
from imageshare.images import service as images
from imageshare.images.inspection import RejectedImage
from imageshare.images.keys import original_key
from imageshare.images.kinds import Visibility
from imageshare.images.received import ReceivedFile
from imageshare.images.service import ImageDetails
from imageshare.jobs import Jobs
from imageshare.storage import Storage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadDetails:
    """What the uploader typed. A blank title becomes the file's name."""

    title: str | None = None
    description: str = ""
    location: str = ""
    tags: str | Iterable[str] = ()
    visibility: str = Visibility.PUBLIC

    def cleaned(self, received: ReceivedFile) -> ImageDetails:
        """Checked details (InvalidInput otherwise) under the file's own title."""
        return ImageDetails.clean(
            title=received.title_or_default(self.title), description=self.description,
            location=self.location, tags=self.tags, visibility=self.visibility,
        )  # fmt: skip


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one uploaded file; `message` is for the person."""

    filename: str
    image_id: uuid.UUID | None = None
    duplicate_of: uuid.UUID | None = None
    refused: str | None = None

    @property
    def message(self) -> str:
        if self.refused:
            return f"{self.filename} was not uploaded: {self.refused}."
        if self.duplicate_of:
            return f"{self.filename} is already in your images; nothing new was stored."
        return f"{self.filename} was uploaded and is being processed."


def check_may_upload(viewer: Viewer) -> None:
    """Who may upload: anyone signed in. Adapters ask before reading any bytes."""
    if viewer.is_anonymous:
        raise NotAllowed("Sign in to upload images.")


class Uploads:
    def __init__(self, *, storage: Storage, max_pixels: int, jobs: Jobs, sessions: Sessions):
        self.storage = storage
        self.max_pixels = max_pixels
        self.jobs = jobs
        self._sessions = sessions

    def submit(self, received: ReceivedFile, given: UploadDetails, viewer: Viewer) -> UploadOutcome:
        """Store the file as a new image in processing and enqueue its processing.

        Always consumes `received`: its temporary file is gone afterwards. Raises
        NotAllowed for an anonymous viewer; other refusals are in the outcome.
        """
        try:
            check_may_upload(viewer)
            outcome = self._store(received, given, viewer)
        finally:
            received.discard()
        if outcome.image_id is not None:
            self._enqueue(outcome.image_id)
        return outcome

    def _store(self, received: ReceivedFile, given: UploadDetails, viewer: Viewer) -> UploadOutcome:
        name = received.filename
        if received.refused:
            return UploadOutcome(name, refused=received.refused)
        try:
            details = given.cleaned(received)
        except InvalidInput as invalid:
            return UploadOutcome(name, refused=_clause(str(invalid)))
        assert viewer.user_id is not None  # submit() checked check_may_upload
        with self._sessions() as db:
            duplicate = records.find_duplicate(db, owner_id=viewer.user_id, sha256=received.sha256)
        if duplicate is not None:
            return UploadOutcome(name, duplicate_of=duplicate.id)
        assert received.path is not None
        try:
            header = inspection.inspect(received.path, max_pixels=self.max_pixels)
        except RejectedImage as rejection:
            return UploadOutcome(name, refused=str(rejection))
        image_id = uuid.uuid4()
        with self._sessions() as db:
            images.create_processing(
                db, viewer=viewer, image_id=image_id, details=details, inspection=header,
                byte_size=received.size, sha256=received.sha256,
            )  # fmt: skip
        try:
            with received.path.open("rb") as original:
                self.storage.put(original_key(image_id), original, content_type=header.content_type)
        except BaseException:
            # No row without its original. Should this fail too, the sweep removes it.
            with self._sessions() as db:
                records.remove_row(db, image_id=image_id)
            raise
        return UploadOutcome(name, image_id=image_id)

    def _enqueue(self, image_id: uuid.UUID) -> None:
        try:
            self.jobs.enqueue(image_id)
        except Exception:
            logger.exception("could not enqueue image %s; the recovery sweep will", image_id)


def _clause(sentence: str) -> str:
    """ "The title is too long." → "the title is too long", to follow "was not uploaded: "."""
    sentence = sentence.rstrip(".")
    return sentence[:1].lower() + sentence[1:]
