"""`python -m imageshare.worker` (`make worker`, the container's `worker` command): takes
processing jobs from SQS and processes them, WORKER_CONCURRENCY at a time.

For each message it long-polls, it asks for a lease of JOB_LEASE_SECONDS and keeps
extending it with the pipeline's heartbeat while a large image is still working. A job
that ends (ready, failed, nothing to do) is deleted; one whose attempt failed comes
back after a short pause; one whose worker died comes back when its lease runs out,
and after three receives SQS's redrive policy moves it to the dead-letter queue (the
row has counted the same attempts and is failed by the sweep).

SIGTERM (ECS stopping the task) stops receiving, lets the jobs under way finish for
up to WORKER_SHUTDOWN_SECONDS, and releases the rest to other workers at once without
spending their attempt. The same process runs the recovery sweep once a lease.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor

from imageshare import models  # noqa: F401  (every table, before the first query)
from imageshare.images.tier import ProcessingTier
from imageshare.jobs import RETRY_PAUSE_SECONDS, JobResult, Message, SqsJobs, SqsQueue
from imageshare.settings import SettingsError, load_settings
from imageshare.wiring import build_wiring

logger = logging.getLogger("imageshare.worker")


class SqsWorker:
    def __init__(
        self, *, queue: SqsQueue, tier: ProcessingTier, concurrency: int, shutdown_seconds: int
    ):
        self.queue = queue
        self.tier = tier
        self.concurrency = concurrency
        self.shutdown_seconds = shutdown_seconds
        self.lease_seconds = int(tier.pipeline.lease.total_seconds())
        self._stopping = threading.Event()
        self._running: dict[Future[JobResult], Message] = {}

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> bool:
        """Process jobs until stop() is called; then finish or release what is under way.

        Returns False when jobs were released unfinished: their threads are still running
        (a decode cannot be interrupted), so the caller must end the process at once,
        before one of them records a result for an image that is someone else's now."""
        recovery = threading.Thread(target=self._recover_forever, name="imageshare-recovery")
        recovery.start()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="imageshare-job")
        try:
            while not self._stopping.is_set():
                self._reap()
                free = self.concurrency - len(self._running)
                if free <= 0:
                    futures.wait(self._running, timeout=1, return_when=futures.FIRST_COMPLETED)
                    continue
                for message in self._receive(free):
                    self._start(pool, message)
            return self._drain()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            recovery.join()

    def _receive(self, free: int) -> list[Message]:
        # A short poll when the lease is short (tests), so a stop is noticed soon.
        wait = min(SqsQueue.MAX_WAIT_SECONDS, max(1, self.lease_seconds // 3))
        try:
            return self.queue.receive(
                max_messages=free, wait_seconds=wait, lease_seconds=self.lease_seconds
            )
        except Exception:
            logger.exception("receiving jobs failed; trying again shortly")
            self._stopping.wait(5)
            return []

    def _start(self, pool: ThreadPoolExecutor, message: Message) -> None:
        if self._stopping.is_set():
            self._quietly(self.queue.hide_for, message, 0)  # someone else's now
            return
        if message.image_id is None:
            logger.warning("deleting a job message that names no image")
            self._quietly(self.queue.delete, message)
            return
        keep_alive = functools.partial(self.queue.hide_for, message, self.lease_seconds)
        future = pool.submit(self.tier.pipeline.process, message.image_id, keep_alive=keep_alive)
        self._running[future] = message

    def _reap(self) -> None:
        for future in [f for f in self._running if f.done()]:
            message = self._running.pop(future)
            try:
                result = future.result()
            except Exception:
                logger.exception("job for image %s raised", message.image_id)
                result = JobResult.RETRY
            if result is JobResult.RETRY:
                pause = min(self.lease_seconds, RETRY_PAUSE_SECONDS * message.receive_count)
                self._quietly(self.queue.hide_for, message, pause)
            else:
                logger.info("image %s: %s", message.image_id, result.value)
                self._quietly(self.queue.delete, message)

    def _drain(self) -> bool:
        if self._running:
            logger.info("stopping: waiting up to %ss for %s job(s)",
                        self.shutdown_seconds, len(self._running))  # fmt: skip
            futures.wait(self._running, timeout=self.shutdown_seconds)
        self._reap()
        for message in self._running.values():
            logger.info("stopping: releasing image %s to another worker", message.image_id)
            assert message.image_id is not None
            self._quietly(self.tier.pipeline.release, message.image_id)
            self._quietly(self.queue.hide_for, message, 0)
        finished = not self._running
        self._running.clear()
        return finished

    def _recover_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tier.recover()
            except Exception:
                logger.exception("recovering interrupted work failed")
            self._stopping.wait(self.lease_seconds)

    @staticmethod
    def _quietly(call: Callable[..., object], *args: object) -> None:
        """A queue call whose failure only delays things (the lease runs out instead)."""
        try:
            call(*args)
        except Exception:
            logger.exception("%s failed", getattr(call, "__name__", call))


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"imageshare worker: {error}", file=sys.stderr)
        return 2
    # The same wiring the app builds; nothing in this process reaches it but through
    # `tier` (it has no pages), so it needs no install().
    tier = build_wiring(settings).tier
    if not isinstance(tier.jobs, SqsJobs):
        print(
            "imageshare worker: takes its jobs from SQS: set JOBS_BACKEND=sqs and SQS_QUEUE_URL "
            "(with the default JOBS_BACKEND=inline the app processes images itself).",
            file=sys.stderr,
        )
        return 2
    worker = SqsWorker(
        queue=tier.jobs.queue,
        tier=tier,
        concurrency=settings.worker_concurrency,
        shutdown_seconds=settings.worker_shutdown_seconds,
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())
    logger.info(
        "taking jobs from %s: %s at once, %s MiB of decode memory, %ss lease",
        settings.sqs_queue_url, settings.worker_concurrency,
        settings.worker_memory_budget // 2**20, settings.job_lease_seconds,
    )  # fmt: skip
    if not worker.run():
        logger.info("stopped, leaving unfinished work to others")
        logging.shutdown()
        os._exit(0)  # the abandoned decode threads must not outlive the release
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
