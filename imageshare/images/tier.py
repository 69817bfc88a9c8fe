"""The processing tier, assembled from settings (once per app, by wiring.py): the upload workflow, the pipeline
that processes jobs, where jobs go, and the recovery sweep that finds lost work.

Whichever process runs jobs also runs the sweep: the app itself with the inline
backend, the workers (worker.py) with SQS, so the web tier never decodes in production.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from imageshare.db import Sessions
from imageshare.images import removal
from imageshare.images.budget import MemoryBudget
from imageshare.images.pipeline import ImagePipeline
from imageshare.images.uploads import Uploads
from imageshare.jobs import Jobs, build_jobs
from imageshare.settings import Settings
from imageshare.storage import Storage

logger = logging.getLogger(__name__)


@dataclass
class ProcessingTier:
    uploads: Uploads
    pipeline: ImagePipeline
    jobs: Jobs
    sessions: Sessions

    def recover(self) -> None:
        """One round: enqueue processing that lost its job, finish interrupted deletions."""
        for image_id in self.pipeline.sweep():
            logger.info("enqueueing image %s again: its processing was interrupted", image_id)
            self.jobs.enqueue(image_id)
        removal.finish_pending(storage=self.pipeline.storage, sessions=self.sessions)

    async def recover_forever(self) -> None:
        """Lifespan task: a round now and then once a lease (JOB_LEASE_SECONDS)."""
        while True:
            try:
                await asyncio.to_thread(self.recover)
            except Exception:
                logger.exception("recovering interrupted work failed")
            await asyncio.sleep(self.pipeline.lease.total_seconds())


def build_tier(settings: Settings, *, storage: Storage, sessions: Sessions) -> ProcessingTier:
    budget = MemoryBudget(
        total_bytes=settings.worker_memory_budget, max_jobs=settings.worker_concurrency
    )
    pipeline = ImagePipeline(
        storage=storage,
        max_pixels=settings.max_image_pixels,
        budget=budget,
        lease=timedelta(seconds=settings.job_lease_seconds),
        sessions=sessions,
    )
    jobs = build_jobs(settings, handler=pipeline.process)
    uploads = Uploads(
        storage=storage, max_pixels=settings.max_image_pixels, jobs=jobs, sessions=sessions
    )
    return ProcessingTier(uploads=uploads, pipeline=pipeline, jobs=jobs, sessions=sessions)
