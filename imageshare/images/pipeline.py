"""From received bytes to a ready image: checks, storage and processing, in order.

The order of writes keeps the database and storage in step whatever fails:

1. the upload is checked (size while it arrives, then the header) — refused: nothing stored;
2. the row is written (status processing), then the original object;
   if storing the original fails, the row is removed again;
3. processing writes the rendition objects, then marks the row ready in one transaction;
   if anything fails, the renditions written so far are deleted and the row is marked
   failed (it keeps its original, so row and objects still agree);
4. a row left processing by a crash is found by `recover_stalled`: reprocessed when
   its original is there, removed when it never got one.

All of it is blocking (Pillow, boto3, SQL) and runs in worker threads, never on the
event loop that serves pages.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session

from imageshare.auth.viewer import Viewer
from imageshare.db import session_scope
from imageshare.images import processing, removal
from imageshare.images import service as images
from imageshare.images.kinds import Status
from imageshare.images.processing import RejectedImage
from imageshare.images.service import ImageDetails, rendition_key
from imageshare.images.storage import Storage, get_storage
from imageshare.images.uploads import ReceivedFile
from imageshare.settings import get_settings

logger = logging.getLogger(__name__)

# A row untouched for this long while processing belongs to a crashed worker.
STALLED_AFTER = timedelta(minutes=2)
RECOVERY_INTERVAL_SECONDS = 60


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


class ImagePipeline:
    def __init__(
        self,
        *,
        storage: Storage,
        max_pixels: int,
        sessions: Callable[[], AbstractContextManager[Session]] = session_scope,
        workers: int | None = None,
    ):
        self.storage = storage
        self.max_pixels = max_pixels
        self._sessions = sessions
        # Images are processed side by side up to the core count; each one encodes its
        # renditions on threads of its own (see processing.render).
        self._pool = ThreadPoolExecutor(
            max_workers=workers or os.cpu_count() or 2, thread_name_prefix="imageshare-render"
        )

    # -- the blocking steps --------------------------------------------------------

    def ingest(
        self, received: ReceivedFile, details: ImageDetails, viewer: Viewer
    ) -> UploadOutcome:
        """Check an uploaded file and store it as a new image in processing.

        Always consumes `received`: its temporary file is gone afterwards.
        """
        try:
            if received.refused:
                return UploadOutcome(received.filename, refused=received.refused)
            assert received.path is not None
            inspection = processing.inspect(received.path, max_pixels=self.max_pixels)
            with self._sessions() as db:
                duplicate = images.find_duplicate(
                    db, owner_id=viewer.user_id, sha256=received.sha256
                )
                if duplicate is not None:
                    return UploadOutcome(received.filename, duplicate_of=duplicate.id)
                image_id = uuid.uuid4()
                images.create_processing(
                    db, viewer=viewer, image_id=image_id, details=details, inspection=inspection,
                    byte_size=received.size, sha256=received.sha256,
                )  # fmt: skip
            try:
                with received.path.open("rb") as original:
                    self.storage.put(
                        images.original_key(image_id),
                        original,
                        content_type=inspection.content_type,
                    )
            except BaseException:
                # No row without its original. Should this fail too, recovery removes it.
                with self._sessions() as db:
                    images.remove_row(db, image_id=image_id)
                raise
            return UploadOutcome(received.filename, image_id=image_id)
        except RejectedImage as rejection:
            return UploadOutcome(received.filename, refused=str(rejection))
        finally:
            received.discard()

    def process(self, image_id: uuid.UUID) -> Status:
        """Make the renditions of a stored original; the row ends ready or failed."""
        written: list[str] = []
        try:
            with tempfile.TemporaryDirectory(prefix="imageshare-process-") as folder:
                original = Path(folder) / "original"
                with (
                    self.storage.open(images.original_key(image_id)) as source,
                    original.open("wb") as out,
                ):
                    shutil.copyfileobj(source, out, length=1024 * 1024)
                result = processing.render(original)
            for rendition in result.renditions:
                key = rendition_key(image_id, rendition.name)
                self.storage.put(key, rendition.data, content_type="image/webp")
                written.append(key)
            with self._sessions() as db:
                images.mark_ready(db, image_id=image_id, processed=result)
            return Status.READY
        except RejectedImage as rejection:
            self._undo(written)
            self._fail(image_id, f"The image could not be processed: {rejection}.")
        except Exception:
            logger.exception("processing image %s failed", image_id)
            self._undo(written)
            self._fail(image_id, "Processing failed because of an error on our side.")
        return Status.FAILED

    def recover_stalled(self, *, older_than: timedelta = STALLED_AFTER) -> list[uuid.UUID]:
        """Finish what a crash interrupted; returns the images it reprocessed."""
        with self._sessions() as db:
            candidates = images.stalled(db, older_than=older_than)
        recovered = []
        for image_id in candidates:
            with self._sessions() as db:
                if not images.claim_stalled(db, image_id=image_id, older_than=older_than):
                    continue  # another instance has it
            if self.storage.exists(images.original_key(image_id)):
                logger.info("reprocessing image %s left processing", image_id)
                self.process(image_id)
                recovered.append(image_id)
            else:
                logger.info("removing image %s: its upload never completed", image_id)
                self._undo(list(self.storage.keys(f"renditions/{image_id}/")))
                with self._sessions() as db:
                    images.remove_row(db, image_id=image_id)
        return recovered

    def _undo(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.storage.delete(key)
            except Exception:
                logger.exception("could not delete %s while cleaning up", key)

    def _fail(self, image_id: uuid.UUID, reason: str) -> None:
        try:
            with self._sessions() as db:
                images.mark_failed(db, image_id=image_id, reason=reason)
        except Exception:
            # The row stays processing with its original: recovery tries again later.
            logger.exception("could not mark image %s failed", image_id)

    # -- the same, from async code -----------------------------------------------------

    async def upload(
        self, received: ReceivedFile, details: ImageDetails, viewer: Viewer
    ) -> UploadOutcome:
        return await asyncio.to_thread(self.ingest, received, details, viewer)

    async def render(self, image_id: uuid.UUID) -> Status:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.process, image_id)

    def recover(self) -> None:
        """Finish whatever a crash interrupted: processing, then deletions."""
        self.recover_stalled()
        removal.finish_pending(storage=self.storage, sessions=self._sessions)

    async def recover_forever(self) -> None:
        """Lifespan task: look for interrupted work now and every minute."""
        while True:
            try:
                await asyncio.get_running_loop().run_in_executor(self._pool, self.recover)
            except Exception:
                logger.exception("recovering interrupted work failed")
            await asyncio.sleep(RECOVERY_INTERVAL_SECONDS)


@functools.cache
def get_pipeline() -> ImagePipeline:
    return ImagePipeline(storage=get_storage(), max_pixels=get_settings().max_image_pixels)
