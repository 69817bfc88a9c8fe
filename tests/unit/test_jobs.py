"""The inline jobs backend: bounded, retries a failed attempt after a pause, and stops."""

from __future__ import annotations

import threading
import time
import uuid

from imageshare import jobs
from imageshare.jobs import InlineJobs, JobResult


def wait_for(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)
    return check()


def test_no_more_jobs_run_at_once_than_the_pool_allows():
    running, most, lock, done = 0, 0, threading.Lock(), []

    def handler(image_id):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        done.append(image_id)
        return JobResult.READY

    inline = InlineJobs(handler, concurrency=2)
    for _ in range(8):
        inline.enqueue(uuid.uuid4())
    assert wait_for(lambda: len(done) == 8)
    assert most == 2
    inline.close()


def test_a_failed_attempt_is_retried_after_a_pause(monkeypatch):
    monkeypatch.setattr(jobs, "RETRY_PAUSE_SECONDS", 0.2)
    attempts: list[float] = []

    def handler(image_id):
        attempts.append(time.monotonic())
        return JobResult.RETRY if len(attempts) < 3 else JobResult.READY

    inline = InlineJobs(handler, concurrency=1)
    inline.enqueue(uuid.uuid4())
    assert wait_for(lambda: len(attempts) == 3)
    time.sleep(0.5)
    assert len(attempts) == 3, "a finished job was run again"
    # The pause grows with the attempts: 0.2 s, then 0.4 s.
    assert attempts[1] - attempts[0] >= 0.2 and attempts[2] - attempts[1] >= 0.4
    inline.close()


def test_a_closed_pool_takes_no_more_jobs():
    ran = []
    inline = InlineJobs(lambda image_id: ran.append(image_id) or JobResult.READY, concurrency=1)
    inline.close()
    inline.enqueue(uuid.uuid4())
    time.sleep(0.1)
    assert ran == []


def test_a_message_body_names_an_image_or_nothing():
    image_id = uuid.uuid4()
    assert jobs._image_id(f'{{"image_id": "{image_id}"}}') == image_id
    for body in ("", "{}", "not json", '{"image_id": "../../etc"}', "[1]"):
        assert jobs._image_id(body) is None
