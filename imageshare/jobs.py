"""Where processing jobs go: a small interface with two implementations, picked from
settings in one place (`build_jobs`), like storage and events.

- inline (the embedded default): a bounded pool of threads in this process, apart from
  the threads that serve requests and database work. Jobs live in memory; what a
  restart loses, the recovery sweep finds again (the row is the source of truth).
- sqs (production): this process only sends a message naming the image; workers
  (`python -m imageshare.worker`, worker.py) receive, process and delete it.

A job is an image id. Handling it is the processing pipeline's business; this module
only moves ids, so it knows nothing of images.
"""

from __future__ import annotations

import enum
import json
import logging
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from imageshare.settings import Settings

logger = logging.getLogger(__name__)


class JobResult(enum.StrEnum):
    """What one attempt at a job came to: all but RETRY end the job."""

    READY = "ready"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing to do: done, gone, or under way elsewhere
    RETRY = "retry"  # this attempt failed; the row waits for another


# Runs one attempt at a job; the pipeline's `process`, in practice.
Handler = Callable[[uuid.UUID], JobResult]
# A failed attempt is tried again after this many seconds times the attempts so far.
RETRY_PAUSE_SECONDS = 5


class Jobs(ABC):
    # Whether this process itself processes the jobs (and so runs the recovery sweep).
    runs_here: bool

    @abstractmethod
    def enqueue(self, image_id: uuid.UUID) -> None:
        """Ask for the image to be processed. Blocking (a network call for SQS)."""

    @abstractmethod
    def close(self) -> None:
        """Stop taking jobs (tests and shutdown)."""


class InlineJobs(Jobs):
    runs_here = True

    def __init__(self, handler: Handler, *, concurrency: int):
        self._handler = handler
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="imageshare-job"
        )
        self._closed = False

    def enqueue(self, image_id: uuid.UUID, *, attempt: int = 1) -> None:
        if not self._closed:
            self._pool.submit(self._run, image_id, attempt)

    def _run(self, image_id: uuid.UUID, attempt: int) -> None:
        # Nobody reads the pool's futures: whatever goes wrong is logged here.
        try:
            if self._handler(image_id) is JobResult.RETRY:
                # As SQS would bring the message back: after a pause, on a timer thread
                # rather than holding one of the pool's few threads.
                retry = threading.Timer(
                    RETRY_PAUSE_SECONDS * attempt, self.enqueue, (image_id,),
                    {"attempt": attempt + 1},
                )  # fmt: skip
                retry.daemon = True
                retry.start()
        except Exception:
            # The pipeline handles its own failures; this is a bug, and the sweep retries.
            logger.exception("processing job for image %s raised", image_id)

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class Message:
    image_id: uuid.UUID | None  # None: a body that names no image (logged, then deleted)
    receipt: str
    receive_count: int


class SqsQueue:
    """The jobs queue's SQS calls, each one small and blocking."""

    # Most an SQS long poll may wait, and most messages one receive returns.
    MAX_WAIT_SECONDS = 20
    MAX_BATCH = 10

    def __init__(self, queue_url: str, *, client: Any = None):  # boto3's: untyped
        self.url = queue_url
        self.client = client or _sqs_client(queue_url)

    def send(self, image_id: uuid.UUID) -> None:
        self.client.send_message(
            QueueUrl=self.url, MessageBody=json.dumps({"image_id": str(image_id)})
        )

    def receive(self, *, max_messages: int, wait_seconds: int, lease_seconds: int) -> list[Message]:
        answer = self.client.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max(1, min(self.MAX_BATCH, max_messages)),
            WaitTimeSeconds=max(0, min(self.MAX_WAIT_SECONDS, wait_seconds)),
            VisibilityTimeout=lease_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [
            Message(
                image_id=_image_id(raw.get("Body", "")),
                receipt=raw["ReceiptHandle"],
                receive_count=int(raw.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
            )
            for raw in answer.get("Messages", [])
        ]

    def delete(self, message: Message) -> None:
        self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt)

    def hide_for(self, message: Message, seconds: int) -> None:
        """Keep the message from other workers for `seconds` from now (0: release it)."""
        self.client.change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=message.receipt, VisibilityTimeout=seconds
        )


class SqsJobs(Jobs):
    runs_here = False

    def __init__(self, queue: SqsQueue):
        self.queue = queue

    def enqueue(self, image_id: uuid.UUID) -> None:
        self.queue.send(image_id)

    def close(self) -> None:
        self.queue.client.close()


def build_jobs(settings: Settings, *, handler: Handler) -> Jobs:
    """The one place that chooses where jobs go (JOBS_BACKEND)."""
    if settings.jobs_backend == "sqs":
        assert settings.sqs_queue_url  # settings.py requires it with sqs
        return SqsJobs(SqsQueue(settings.sqs_queue_url))
    return InlineJobs(handler, concurrency=settings.worker_concurrency)


# sqs.<region>.amazonaws.com (and .amazonaws.com.cn): the region is in the queue's URL.
_AWS_HOST = re.compile(r"^sqs\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def _sqs_client(queue_url: str) -> Any:
    """A client for the queue's own endpoint, so an SQS-compatible server's URL (the
    tests' stand-in) works like AWS's; credentials from boto3's standard chain."""
    parts = urlsplit(queue_url)
    aws = _AWS_HOST.match(parts.hostname or "")
    region = aws["region"] if aws else None
    return boto3.client(
        "sqs",
        endpoint_url=f"{parts.scheme}://{parts.netloc}",
        region_name=region or boto3.session.Session().region_name or "us-east-1",
        config=Config(
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=5,
            read_timeout=SqsQueue.MAX_WAIT_SECONDS + 10,
        ),  # fmt: skip
    )


def _image_id(body: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(json.loads(body)["image_id"]))
    except (ValueError, KeyError, TypeError):
        return None
