"""SQS as a real HTTP server on loopback: moto's standalone server (`moto_server`), the
stand-in for AWS's queue, which cannot run here. Queues, visibility timeouts and
dead-letter redrive behave as SQS's API says."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.harness.components import (
    ARTIFACTS,
    VENV_BIN,
    free_port,
    missing_component,
    start_process,
    stop_process,
    wait_until,
)
from tests.harness.seaweedfs import ACCESS_KEY, SECRET_KEY

REGION = "us-east-1"
# moto takes any keys; these are the ones SeaweedFS checks, because boto3 resolves the
# environment's keys once per process (its default session caches them): a test that
# set SQS-only keys first would leave every later S3 client of the session signing wrong.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
# The same count as the Terraform's redrive policy and the pipeline's MAX_ATTEMPTS.
MAX_RECEIVES = 3


@dataclass(frozen=True)
class SqsServer:
    endpoint_url: str

    def client(self):
        return boto3.client(
            "sqs",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )


@dataclass(frozen=True)
class Queue:
    url: str
    dead_letter_url: str
    server: SqsServer

    def env(self) -> dict[str, str]:
        """The app's settings for this queue. moto takes any AWS keys: the ones the app
        has for S3 do, else add CREDENTIALS."""
        return {"JOBS_BACKEND": "sqs", "SQS_QUEUE_URL": self.url}

    def depth(self, url: str | None = None) -> int:
        """Messages waiting or in flight."""
        attributes = self.server.client().get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())


@contextmanager
def running_sqs(*, log: Path = ARTIFACTS / "sqs.log") -> Iterator[SqsServer]:
    """Start moto's server on loopback, wait until it answers SQS calls, yield, stop."""
    moto = shutil.which("moto_server", path=str(VENV_BIN))
    if moto is None:
        missing_component(
            "moto's `moto_server` is not installed: `make test` installs moto[server]"
        )
    port = free_port()
    process = start_process(
        [moto, "-H", "127.0.0.1", "-p", str(port)], env={"PATH": "/usr/bin:/bin"}, log=log
    )
    server = SqsServer(f"http://127.0.0.1:{port}")
    try:
        client = server.client()
        wait_until(
            lambda: client.list_queues() is not None,
            timeout=60,
            process=process,
            what="the SQS server (moto)",
            log=log,
        )
        yield server
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def sqs_server() -> Iterator[SqsServer]:
    with running_sqs() as server:
        yield server


def create_queue(server: SqsServer, *, lease_seconds: int) -> Queue:
    """A jobs queue with its dead-letter queue, as infra/terraform makes them."""
    client = server.client()
    name = f"jobs-{secrets.token_hex(4)}"
    dead = client.create_queue(QueueName=f"{name}-dead")["QueueUrl"]
    dead_arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(MAX_RECEIVES)}
    url = client.create_queue(
        QueueName=name,
        Attributes={
            "RedrivePolicy": json.dumps(redrive),
            "VisibilityTimeout": str(lease_seconds),
        },
    )["QueueUrl"]
    return Queue(url=url, dead_letter_url=dead, server=server)
