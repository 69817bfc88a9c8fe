"""The worker tier for real: `python -m imageshare.worker` processes taking jobs from SQS
(moto's server), on Postgres and SeaweedFS. Workers share a queue without processing an
image twice, a killed worker's job comes back to another, a poison file is given up
after three deaths while the images behind it become ready, and SIGTERM finishes or
hands back the job under way."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from imageshare.auth import access_tokens
from imageshare.auth.viewer import Viewer
from imageshare.db import session_scope
from imageshare.images.budget import MemoryBudget, group_ledger
from imageshare.images.pipeline import GAVE_UP, MAX_ATTEMPTS
from imageshare.images.received import ReceivedFile
from imageshare.images.tier import build_tier
from imageshare.images.uploads import UploadDetails
from imageshare.settings import load_settings
from imageshare.storage import build_storage
from tests import samples
from tests.harness.app_server import run_app
from tests.harness.components import ARTIFACTS, REPO_ROOT, VENV_BIN, start_process, stop_process
from tests.harness.rows import person
from tests.harness.sqs import Queue, create_queue

LEASE_SECONDS = 3


@pytest.fixture
def database(postgres_engine):
    return postgres_engine


@pytest.fixture
def queue(sqs_server) -> Queue:
    return create_queue(sqs_server, lease_seconds=LEASE_SECONDS)


@pytest.fixture
def settings_env(database, s3_credentials, s3_bucket, queue) -> dict[str, str]:
    """The settings the web tier and the workers share."""
    return {
        "DATABASE_URL": database.url.render_as_string(hide_password=False),
        **s3_credentials.env(s3_bucket),
        **queue.env(),
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "WORKER_CONCURRENCY": "1",
    }


@pytest.fixture
def web(settings_env, database):
    """The web tier's side: the upload workflow, enqueueing to SQS."""
    settings = load_settings(settings_env)
    tier = build_tier(
        settings,
        storage=build_storage(settings),
        sessions=functools.partial(session_scope, database),
    )
    yield tier
    tier.jobs.close()


@pytest.fixture
def owner(database) -> Viewer:
    with session_scope(database) as db:
        return person(db, "worker")


_workers = iter(range(1, 1000))


@contextmanager
def worker(settings_env: dict[str, str], **extra: str) -> Iterator[subprocess.Popen]:
    """One `python -m imageshare.worker` process; stopped (SIGTERM) at the end."""
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", **settings_env, **extra}
    log = ARTIFACTS / f"worker-{os.getpid()}-{next(_workers)}.log"
    process = start_process([str(VENV_BIN / "python"), "-m", "imageshare.worker"], env=env, log=log)
    process.log = log  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        stop_process(process, timeout=40)


def upload(web, owner, name: str, data: bytes) -> uuid.UUID:
    received = ReceivedFile(filename=name, limit=10**9)
    received.write(data)
    received.finish()
    outcome = web.uploads.submit(received, UploadDetails(), owner)
    assert outcome.image_id, outcome.message
    return outcome.image_id


@functools.cache
def slow_png() -> bytes:
    """48 megapixels that compress to little: a few seconds of decoding and resizing."""
    gradient = Image.linear_gradient("L").resize((8000, 6000))
    return samples.encoded(Image.merge("RGB", (gradient, gradient.rotate(90), gradient)), "PNG")


def row(database, image_id) -> sa.Row:
    with database.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT status, processing_attempts AS attempts, failure_reason "
                "FROM image WHERE id = :id"
            ),
            {"id": image_id},
        ).one()


def wait_for(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_two_workers_share_one_queue_and_process_each_image_once(
    web, owner, database, settings_env, queue, s3_server, s3_bucket
):
    ids = [upload(web, owner, f"{n}.jpg", samples.jpeg(1200 + n, 800)) for n in range(6)]
    assert queue.depth() == 6
    with worker(settings_env), worker(settings_env):
        wait_for(
            lambda: all(row(database, i).status == "ready" for i in ids),
            timeout=90,
            what="six images ready",
        )
    assert [row(database, i).attempts for i in ids] == [1] * 6, "an image was processed twice"
    keys = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert all(f"renditions/{i}/large.webp" in keys for i in ids)
    assert queue.depth() == 0 and queue.depth(queue.dead_letter_url) == 0


def test_a_killed_workers_job_comes_back_after_its_lease_and_another_finishes_it(
    web, owner, database, settings_env, queue
):
    image_id = upload(web, owner, "slow.png", slow_png())
    with worker(settings_env) as one, worker(settings_env) as other:
        wait_for(lambda: row(database, image_id).attempts == 1, timeout=60, what="a claim")
        holder = next(w for w in (one, other) if f"processing image {image_id}" in log_of(w))
        os.killpg(holder.pid, signal.SIGKILL)  # mid-image: no cleanup of any kind runs
        holder.wait()
        killed_at = time.monotonic()
        assert tuple(row(database, image_id)) == ("processing", 1, None)
        survivor = other if holder is one else one
        wait_for(
            lambda: f"image {image_id}: ready" in log_of(survivor),
            timeout=120,
            what="the surviving worker to finish it",
        )
        # Not before the dead worker's lease ran out.
        assert time.monotonic() - killed_at >= LEASE_SECONDS * 2 / 3
        assert row(database, image_id).status == "ready"
    assert row(database, image_id).attempts == 2
    assert queue.depth() == 0


def test_a_storm_of_decompression_bombs_stays_within_the_memory_budget(
    web, owner, database, settings_env, queue
):
    """Eight tiny files declaring about 60 megapixels each, four jobs at once: the worker
    holds no more than its budget for decoding, and each image ends ready or failed."""
    bombs = {
        "webp": [samples.webp_bomb(), samples.webp_bomb(16383, 3661)],
        "png": [samples.png_bomb(), samples.png_bomb(7745, 7744)],
        "jpeg": [samples.progressive_jpeg_bomb(), samples.progressive_jpeg_bomb(9000, 6599)],
        "gif": [samples.gif_bomb(), samples.gif_bomb(7745, 7744)],
    }
    ids = [upload(web, owner, f"bomb-{n}.{kind}", data)
           for kind, files in bombs.items() for n, data in enumerate(files)]  # fmt: skip
    budget = 1200 * 1024 * 1024
    with worker(settings_env, WORKER_CONCURRENCY="4", WORKER_MEMORY_BUDGET=str(budget)) as w:
        wait_for(lambda: "taking jobs" in log_of(w), timeout=60, what="the worker to start")
        baseline = memory_of(w.pid, "VmRSS")
        wait_for(
            lambda: all(row(database, i).status in ("ready", "failed") for i in ids),
            timeout=240,
            what="every bomb ready or failed",
        )
        peak = memory_of(w.pid, "VmHWM")
    margin = 150 * 1024 * 1024  # the renditions in flight, the interpreter's own growth
    print(f"storm: baseline {baseline >> 20} MiB, peak {peak >> 20} MiB, budget {budget >> 20} MiB")
    assert peak - baseline <= budget + margin, (
        f"peak {peak >> 20} MiB over a baseline of {baseline >> 20} MiB, budget {budget >> 20} MiB"
    )
    # Two 1-GiB WebP decodes beside two others would have taken 2.5 GiB: the budget
    # made them wait, and every one was processed in the end.
    assert [tuple(row(database, i)) for i in ids] == [("ready", 1, None)] * len(ids)


def log_of(process: subprocess.Popen) -> str:
    return process.log.read_text(errors="replace")  # type: ignore[attr-defined]


def memory_of(pid: int, field: str) -> int:
    """A figure of /proc/PID/status, in bytes."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def test_a_poison_file_is_given_up_after_three_deaths_and_the_images_behind_it_are_ready(
    web, owner, database, settings_env, queue
):
    poison = upload(web, owner, "poison.png", slow_png())
    behind = [upload(web, owner, f"b{n}.jpg", samples.jpeg(900 + n, 600)) for n in range(2)]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        # Each time a worker takes the poison file up, it dies in the middle of it.
        with worker(settings_env) as doomed:
            wait_for(
                lambda attempt=attempt: row(database, poison).attempts == attempt,
                timeout=60,
                what=f"claim number {attempt}",
            )
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait()
    assert tuple(row(database, poison)) == ("processing", MAX_ATTEMPTS, None)
    with worker(settings_env):
        wait_for(
            lambda: (
                row(database, poison).status == "failed"
                and all(row(database, i).status == "ready" for i in behind)
            ),
            timeout=120,
            what="the poison file failed and the others ready",
        )
    assert tuple(row(database, poison)) == ("failed", MAX_ATTEMPTS, GAVE_UP)
    # SQS counted the same deliveries: the message went to the dead-letter queue.
    assert queue.depth() == 0 and queue.depth(queue.dead_letter_url) == 1


@contextmanager
def budget_spent(process: subprocess.Popen) -> Iterator[threading.Event]:
    """This test holds the worker's whole memory budget (its group's ledger counts live
    processes of any group), so a job it takes up waits inside its attempt, mid-job,
    until the event returned is set."""
    hog = MemoryBudget(total_bytes=WHOLE_BUDGET, max_jobs=64, ledger=group_ledger(process.pid))
    held, let_go = threading.Event(), threading.Event()

    def hold() -> None:
        with hog.reserve(WHOLE_BUDGET):
            held.set()
            let_go.wait(120)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        yield let_go
    finally:
        let_go.set()
        holder.join()


WHOLE_BUDGET = 512 * 1024 * 1024


def test_sigterm_lets_the_job_under_way_finish(web, owner, database, settings_env, queue):
    image_id = upload(web, owner, "slow.png", slow_png())
    with (
        worker(settings_env, WORKER_MEMORY_BUDGET=str(WHOLE_BUDGET)) as running,
        budget_spent(running) as let_go,
    ):
        wait_for(lambda: row(database, image_id).attempts == 1, timeout=60, what="a claim")
        running.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert running.poll() is None, "it stopped without finishing its job"
        let_go.set()  # the job goes on, within WORKER_SHUTDOWN_SECONDS (20)
        assert running.wait(timeout=40) == 0
    assert tuple(row(database, image_id)) == ("ready", 1, None)
    assert queue.depth() == 0


def test_sigterm_past_the_grace_period_hands_the_job_back_unspent(
    web, owner, database, settings_env, queue
):
    image_id = upload(web, owner, "slow.png", slow_png())
    settings = {"WORKER_MEMORY_BUDGET": str(WHOLE_BUDGET), "WORKER_SHUTDOWN_SECONDS": "1"}
    with worker(settings_env, **settings) as impatient, budget_spent(impatient):
        wait_for(lambda: row(database, image_id).attempts == 1, timeout=60, what="a claim")
        impatient.send_signal(signal.SIGTERM)
        assert impatient.wait(timeout=40) == 0
        # Released: the attempt is given back and the message is visible again at once;
        # the job's thread died with its process (it would have waited on the budget).
        assert tuple(row(database, image_id)) == ("processing", 0, None)
        assert "releasing image" in log_of(impatient)
    with worker(settings_env):
        wait_for(lambda: row(database, image_id).status == "ready", timeout=60, what="ready")
    assert row(database, image_id).attempts == 1


def test_with_no_worker_an_upload_waits_in_the_queue_untouched(
    web, owner, database, settings_env, queue
):
    image_id = upload(web, owner, "waiting.jpg", samples.jpeg(800, 600))
    time.sleep(LEASE_SECONDS)
    # Nobody claimed it: the web tier only enqueued.
    assert tuple(row(database, image_id)) == ("processing", 0, None)
    assert queue.depth() == 1
    with worker(settings_env):
        wait_for(lambda: row(database, image_id).status == "ready", timeout=60, what="ready")


def test_the_worker_refuses_to_start_without_a_queue(settings_env):
    env = {k: v for k, v in settings_env.items() if k not in ("JOBS_BACKEND", "SQS_QUEUE_URL")}
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "imageshare.worker"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "set JOBS_BACKEND=sqs and SQS_QUEUE_URL" in result.stderr


def test_the_web_tier_with_sqs_only_enqueues_and_a_worker_makes_the_upload_ready(
    database, settings_env, owner
):
    """The real app server with JOBS_BACKEND=sqs: `uploadImage` answers PROCESSING and
    nobody claims the image (the web process decodes nothing) until a worker runs."""
    with session_scope(database) as db:
        _, token = access_tokens.create(db, viewer=owner, name="bench")
    app = {
        **settings_env,
        "IMAGESHARE_ENV": "development",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    }
    mutation = "mutation($f: Upload!) { uploadImage(file: $f) { id status } }"
    with run_app(app, name="app-sqs", backend_only=True) as server:
        response = httpx.post(
            server.url + "/graphql",
            data={
                "operations": json.dumps({"query": mutation, "variables": {"f": None}}),
                "map": json.dumps({"0": ["variables.f"]}),
            },
            files={"0": ("harbour.jpg", samples.jpeg(1600, 1200), "image/jpeg")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        created = response.json()["data"]["uploadImage"]
        assert created["status"] == "PROCESSING"
        image_id = uuid.UUID(created["id"])
        time.sleep(LEASE_SECONDS)
        assert tuple(row(database, image_id)) == ("processing", 0, None)
        with worker(settings_env):
            wait_for(lambda: row(database, image_id).status == "ready", timeout=60, what="ready")
