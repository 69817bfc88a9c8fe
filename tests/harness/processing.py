"""The processing tier as tests assemble it: the real upload workflow and pipeline, with
jobs recorded instead of run, so a test decides when (and how often) a job runs."""

from __future__ import annotations

import uuid
from datetime import timedelta

from imageshare.images.budget import MemoryBudget
from imageshare.images.pipeline import ImagePipeline, Sessions
from imageshare.images.tier import ProcessingTier
from imageshare.images.uploads import Uploads
from imageshare.jobs import Jobs
from imageshare.storage import Storage


class RecordingJobs(Jobs):
    """Jobs kept in a list: `enqueued` holds every image id, in order."""

    runs_here = True

    def __init__(self) -> None:
        self.enqueued: list[uuid.UUID] = []

    def enqueue(self, image_id: uuid.UUID) -> None:
        self.enqueued.append(image_id)

    def close(self) -> None:
        pass


def recording_tier(
    storage: Storage,
    sessions: Sessions,
    *,
    max_pixels: int = 60_000_000,
    budget_bytes: int = 4 * 1024**3,
    lease: timedelta = timedelta(seconds=60),
) -> ProcessingTier:
    jobs = RecordingJobs()
    pipeline = ImagePipeline(
        storage=storage,
        max_pixels=max_pixels,
        budget=MemoryBudget(total_bytes=budget_bytes, max_jobs=4),
        lease=lease,
        sessions=sessions,
    )
    uploads = Uploads(storage=storage, max_pixels=max_pixels, jobs=jobs, sessions=sessions)
    return ProcessingTier(uploads=uploads, pipeline=pipeline, jobs=jobs, sessions=sessions)
