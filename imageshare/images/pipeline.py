"""Processing jobs: from a stored original to a ready image, one attempt at a time.

A job names only the image; the row is the source of truth, so a job delivered twice,
late, or after the image was deleted is harmless. One attempt:

1. claims the row (records.claim_processing), counting an attempt; a job whose image is
   ready, failed, gone or under way elsewhere does nothing;
2. reads the original's header and reserves the memory its decoding will take from the
   memory budget (budget.py), waiting while the budget is spent; an image larger than
   the whole budget fails with a sentence instead of being attempted;
3. decodes once and writes the rendition objects, then marks the row ready in one
   transaction; the freed memory goes back to the system;
4. while it works, a heartbeat shows the row alive (and extends the queue message's
   lease), so nobody else claims it.

Whatever fails is undone (the renditions written so far are deleted). A damaged image
fails at once; any other error leaves the row for a retry. An image whose attempts are
used up, crashes included (a worker killed mid-decode counts), is given up: failed with
"could not be processed" and never claimed again, so a poison file cannot keep workers
crash-looping. `sweep` finds rows whose worker vanished and hands them back to the queue.

All of it is blocking (Pillow, boto3, SQL): it runs on the jobs' own threads, never on
the event loop or the threads that serve requests.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from imageshare.db import Sessions
from imageshare.images import decode_memory, inspection, processing, records
from imageshare.images.budget import MemoryBudget, TooLarge
from imageshare.images.inspection import RejectedImage
from imageshare.images.keys import original_key, rendition_key
from imageshare.images.records import Claim
from imageshare.jobs import JobResult
from imageshare.storage import Storage

logger = logging.getLogger(__name__)

# Attempts at one image, crashes included, before it is given up.
MAX_ATTEMPTS = 3
GAVE_UP = "The image could not be processed."
OUR_ERROR = "Processing failed because of an error on our side."


class ImagePipeline:
    def __init__(
        self,
        *,
        storage: Storage,
        max_pixels: int,
        budget: MemoryBudget,
        lease: timedelta = timedelta(seconds=60),
        sessions: Sessions,
    ):
        self.storage = storage
        self.max_pixels = max_pixels
        self.budget = budget
        self.lease = lease
        # An attempt beats every third of a lease; one silent for two thirds is dead. A
        # message whose worker died reappears a lease after its last beat: claimable.
        self.stale_after = lease * 2 / 3
        self._sessions = sessions

    def process(
        self, image_id: uuid.UUID, *, keep_alive: Callable[[], None] | None = None
    ) -> JobResult:
        """One attempt at the image's renditions. `keep_alive` is called with each
        heartbeat (the queue extends the message's lease)."""
        with self._sessions() as db:
            claim = records.claim_processing(
                db, image_id=image_id, stale_after=self.stale_after, max_attempts=MAX_ATTEMPTS
            )
        if claim is Claim.GIVE_UP:
            return JobResult.FAILED if self.give_up(image_id) else JobResult.SKIPPED
        if claim is not Claim.TAKEN:
            return JobResult.SKIPPED
        logger.info("processing image %s", image_id)
        with _Heartbeat(self.lease / 3, lambda: self._beat(image_id, keep_alive)):
            return self._attempt(image_id)

    def _attempt(self, image_id: uuid.UUID) -> JobResult:
        written: list[str] = []
        try:
            result = self._render(image_id)
            for rendition in result.renditions:
                key = rendition_key(image_id, rendition.name)
                self.storage.put(key, rendition.data, content_type="image/webp")
                written.append(key)
            with self._sessions() as db:
                records.mark_ready(db, image_id=image_id, processed=result)
            return JobResult.READY
        except TooLarge as too_large:
            self._undo(written)
            return self._fail(image_id, _too_large_sentence(too_large))
        except RejectedImage as rejection:
            self._undo(written)
            return self._fail(image_id, f"The image could not be processed: {rejection}.")
        except records.ImageGone:
            return self._deleted_meanwhile(image_id, written)
        except Exception:
            if not self._still_processing(image_id):
                # Its original vanished under us because its owner deleted it: no error.
                return self._deleted_meanwhile(image_id, written)
            logger.exception("processing image %s failed", image_id)
            self._undo(written)
            return self._after_error(image_id)

    def _deleted_meanwhile(self, image_id: uuid.UUID, written: list[str]) -> JobResult:
        # Nothing to record, only our objects to remove.
        logger.info("image %s was deleted while it was processed", image_id)
        self._undo(written)
        return JobResult.SKIPPED

    def _still_processing(self, image_id: uuid.UUID) -> bool:
        with self._sessions() as db:
            return records.is_processing(db, image_id=image_id)

    def _render(self, image_id: uuid.UUID) -> processing.ProcessedImage:
        with tempfile.TemporaryDirectory(prefix="imageshare-process-") as folder:
            original = Path(folder) / "original"
            with (
                self.storage.open(original_key(image_id)) as source,
                original.open("wb") as out,
            ):
                shutil.copyfileobj(source, out, length=1024 * 1024)
            header = inspection.inspect(original, max_pixels=self.max_pixels)
            with self.budget.reserve(decode_memory.render_cost(header)):
                try:
                    return processing.render(original)
                finally:
                    # Before the next job reserves what this one gave back.
                    decode_memory.return_freed_memory()

    def _after_error(self, image_id: uuid.UUID) -> JobResult:
        """An attempt failed for a reason that may pass (storage, database): retry,
        unless this was the last attempt."""
        try:
            with self._sessions() as db:
                if records.attempts_used_up(db, image_id=image_id, max_attempts=MAX_ATTEMPTS):
                    records.mark_failed(db, image_id=image_id, reason=OUR_ERROR)
                    return JobResult.FAILED
                records.release_processing(
                    db, image_id=image_id, stale_after=self.stale_after, attempt_spent=True
                )
        except Exception:
            # The row stays processing; the sweep finds it once it has shown no life.
            logger.exception("could not record the failed attempt at image %s", image_id)
        return JobResult.RETRY

    def release(self, image_id: uuid.UUID) -> None:
        """Stop working on the image without spending an attempt (a worker stopping)."""
        with self._sessions() as db:
            records.release_processing(
                db, image_id=image_id, stale_after=self.stale_after, attempt_spent=False
            )

    def give_up(self, image_id: uuid.UUID) -> bool:
        """Fail an image whose attempts are used up; its renditions go."""
        with self._sessions() as db:
            gave_up = records.give_up_processing(
                db, image_id=image_id, stale_after=self.stale_after, max_attempts=MAX_ATTEMPTS,
                reason=GAVE_UP,
            )  # fmt: skip
        if gave_up:
            logger.warning("gave up image %s after %s attempts", image_id, MAX_ATTEMPTS)
            self._undo(list(self.storage.keys(f"renditions/{image_id}/")))
        return gave_up

    def sweep(self) -> list[uuid.UUID]:
        """Rows left processing without a sign of life for two leases: their job was
        lost (a crash, a failed enqueue). Returns those to enqueue again; gives up the
        ones out of attempts and removes the ones whose original never arrived."""
        with self._sessions() as db:
            candidates = records.stalled(db, older_than=2 * self.lease)
        again = []
        for image_id in candidates:
            with self._sessions() as db:
                used_up = records.attempts_used_up(db, image_id=image_id, max_attempts=MAX_ATTEMPTS)
            if used_up:
                self.give_up(image_id)
            elif self.storage.exists(original_key(image_id)):
                again.append(image_id)
            else:
                with self._sessions() as db:
                    abandoned = records.remove_abandoned(
                        db, image_id=image_id, older_than=2 * self.lease
                    )
                if abandoned:
                    logger.info("removed image %s: its upload never completed", image_id)
                    self._undo(list(self.storage.keys(f"renditions/{image_id}/")))
        return again

    def _beat(self, image_id: uuid.UUID, keep_alive: Callable[[], None] | None) -> None:
        with self._sessions() as db:
            records.keep_processing(db, image_id=image_id)
        if keep_alive is not None:
            keep_alive()

    def _undo(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.storage.delete(key)
            except Exception:
                logger.exception("could not delete %s while cleaning up", key)

    def _fail(self, image_id: uuid.UUID, reason: str) -> JobResult:
        try:
            with self._sessions() as db:
                records.mark_failed(db, image_id=image_id, reason=reason)
        except Exception:
            # The row stays processing with its original: the sweep tries again later.
            logger.exception("could not mark image %s failed", image_id)
            return JobResult.RETRY
        return JobResult.FAILED


def _too_large_sentence(error: TooLarge) -> str:
    return (
        f"The image is too large to process: decoding it takes about "
        f"{_mib(error.needed)} of memory, more than the {_mib(error.budget)} allowed."
    )


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MiB"


class _Heartbeat:
    """Calls `beat` every `interval` in a thread of its own while the block runs.

    A beat that fails is logged and the work goes on: the next beat may succeed, and an
    attempt that misses every beat for a lease is retried elsewhere, which is harmless.
    """

    def __init__(self, interval: timedelta, beat: Callable[[], None]):
        self._interval = max(0.5, interval.total_seconds())
        self._beat = beat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imageshare-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._beat()
            except Exception:
                logger.warning("heartbeat failed", exc_info=True)
