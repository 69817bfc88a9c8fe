"""Upload benchmark: does a burst of uploads cost what its processing costs, and does a
storm of decompression bombs stay inside the decode-memory budget?

1. Throughput. Twenty photo-like 12-megapixel JPEGs (about 6 MB each at quality 92,
   deterministic, cached in the temporary folder) are uploaded at once (20 simultaneous
   GraphQL multipart requests, `uploadImage` with a bearer token) to the real app server
   (`reflex run --env prod`, Postgres, SeaweedFS), once with JOBS_BACKEND=inline (the app
   processes them on its own pool) and once with JOBS_BACKEND=sqs (moto's SQS server and
   exactly one `python -m imageshare.worker`, same settings). Measured: the wall time
   from the first request to all twenty READY (the database polled every 50 ms), and
   how long each request took to be answered. The reference, measured in the same run
   between the bursts: the twenty files rendered one after the other with
   imageshare.images.processing.render in this process, divided by the cores
   (imageshare.machine.cores()); beside it, the same renders as many at once as there
   are cores in this process (processing alone, nothing received or stored). Each burst
   also counts the CPU seconds spent meanwhile by the app, the worker, SeaweedFS,
   Postgres, this client and the rest of the machine (other work on a shared machine
   shows up there, and explains a wall time longer than the CPU the bench used). Printed
   per backend: medians over the rounds of the wall time, the reference and their ratio
   (target: wall ÷ reference ≤ 1.3), and the CPU the processing tier took ÷ the
   reference's CPU.
2. Memory storm. The app with JOBS_BACKEND=inline and Redis (REDIS_URL and
   REFLEX_REDIS_URL: Reflex then serves with several worker processes, counted and
   listed), WORKER_MEMORY_BUDGET=1 GiB, MAX_IMAGE_PIXELS at its default of 60 MP. Eight
   tiny files that each declare about 60 MP are uploaded at once, two distinct files of
   each: lossless WebP, PNG, progressive JPEG and animated GIF (tests/samples.py). The
   proportional set size (Pss, from /proc/PID/smaps_rollup) of every process of the
   server's process group is summed every 50 ms from before the storm until all eight
   are READY or FAILED; printed: baseline, peak, peak − baseline, the budget and the
   margin peak − baseline − budget, with the claim checked (peak − baseline ≤ budget +
   STORM_SLACK), plus what the budget's ledger said was reserved. Meanwhile a prober
   sends GET /healthz and an anonymous `images(first: 10)` query every 100 ms: count,
   errors and latency percentiles. Each image's final status and reason is printed.
   With --compare the storm runs twice more: with WORKER_CONCURRENCY=1 (one decode at a
   time across the group) and with no effective bound (a 64 GiB budget, 8 at once), to
   show what the budget holds back.

    .venv/bin/python bench/uploads.py [--rounds 3] [--only throughput|storm] [--compare]

Every server is started here on 127.0.0.1 and stopped at the end, Ctrl-C included;
each run makes its own Postgres databases (dropped afterwards; TEST_DATABASE_URL's
server, as for the tests), buckets and queues. Logs: test-artifacts/bench-uploads-*.log.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from PIL import Image  # noqa: E402

from imageshare import machine, models  # noqa: E402, F401  (models: every table first)
from imageshare.auth import access_tokens  # noqa: E402
from imageshare.auth.viewer import Viewer  # noqa: E402
from imageshare.db import create_db_engine, session_scope  # noqa: E402
from imageshare.images import processing  # noqa: E402
from imageshare.users import service as users  # noqa: E402
from tests import samples  # noqa: E402
from tests.harness.app_server import AppServer, app_env, migrate, run_app  # noqa: E402
from tests.harness.components import (  # noqa: E402
    ARTIFACTS,
    VENV_BIN,
    start_process,
    stop_process,
    tail,
)
from tests.harness.postgres import new_database  # noqa: E402
from tests.harness.seaweedfs import S3Server, running_seaweedfs  # noqa: E402
from tests.harness.sqs import SqsServer, create_queue, running_sqs  # noqa: E402

PHOTOS = 20
PHOTO_SIZE = (4240, 2832)  # 12 MP
PHOTO_QUALITY = 92
TARGET_RATIO = 1.3
POLL_SECONDS = 0.05
PROBE_SECONDS = 0.1
BURST_TIMEOUT = 300
STORM_BUDGET = 1024**3
UNBOUNDED = 64 * 1024**3  # --compare: a budget nothing reaches
# What the app may hold beyond the decode budget while it decodes: encoded renditions in
# flight, the upload path's buffers, allocator slack. The claim checked in the storm.
STORM_SLACK = 256 * 1024**2
REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"
LEASE_SECONDS = 60

UPLOAD = (
    "mutation($file: Upload!, $input: UploadImageInput) "
    "{ uploadImage(file: $file, input: $input) { id status } }"
)
GALLERY = "{ images(first: 10) { edges { node { id title status } } } }"


# -- samples ---------------------------------------------------------------------------


def photo_like(seed: int) -> bytes:
    """A 12 MP JPEG with a camera's texture and grain: about 6 MB at quality 92.

    A fractal, gradients and blotches give it shapes; per-pixel noise gives it the grain
    a sensor has, which is what makes a camera JPEG large and slow to entropy-decode.
    Deterministic: random.Random(seed) makes every byte of noise.
    """
    width, height = PHOTO_SIZE
    rng = random.Random(seed)
    cx, cy, span = rng.uniform(-0.9, -0.5), rng.uniform(-0.3, 0.3), rng.uniform(1.2, 2.4)
    extent = (cx - span, cy - span * height / width, cx + span, cy + span * height / width)
    detail = Image.effect_mandelbrot((width, height), extent, 80)
    across = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270)))
    around = Image.radial_gradient("L")
    base = Image.merge(
        "RGB", (detail, across.resize((width, height)), around.resize((width, height)))
    )
    small = (width // 16, height // 16)
    blotches = Image.frombytes("RGB", small, rng.randbytes(3 * small[0] * small[1]))
    base = Image.blend(base, blotches.resize((width, height), Image.Resampling.BICUBIC), 0.35)
    grain = Image.frombytes("RGB", (width, height), rng.randbytes(3 * width * height))
    out = io.BytesIO()
    Image.blend(base, grain, 0.2).save(
        out, "JPEG", quality=PHOTO_QUALITY, exif=samples.camera_exif(gps=False)
    )
    return out.getvalue()


def cached_photos() -> list[Path]:
    """The twenty photos, made once and kept in the temporary folder."""
    folder = Path(tempfile.gettempdir()) / "imageshare-bench-uploads-v1"
    folder.mkdir(exist_ok=True)
    paths = []
    for number in range(PHOTOS):
        path = folder / f"photo-{number:02}.jpg"
        if not path.exists():
            partial = path.with_suffix(".part")
            partial.write_bytes(photo_like(20261201 + number))
            partial.rename(path)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class Bomb:
    name: str
    data: bytes
    content_type: str

    @property
    def size(self) -> tuple[int, int]:
        with Image.open(io.BytesIO(self.data)) as image:
            return image.size


def bombs() -> list[Bomb]:
    """Two distinct files of each kind of ~60 MP bomb: the second is one row shorter."""
    kinds = [
        ("webp", samples.webp_bomb, (16383, 3662), "image/webp"),
        ("png", samples.png_bomb, (7745, 7745), "image/png"),
        ("jpeg", samples.progressive_jpeg_bomb, (9000, 6600), "image/jpeg"),
        ("gif", samples.gif_bomb, (7745, 7745), "image/gif"),
    ]
    result = []
    for label, make, (width, height), content_type in kinds:
        for variant in range(2):
            data = make(width, height - variant)
            result.append(Bomb(f"{label}-{variant}.{label}", data, content_type))
    return result


# -- the app under test ----------------------------------------------------------------


@dataclass(frozen=True)
class Components:
    s3: S3Server
    sqs: SqsServer


@dataclass
class App:
    name: str
    server: AppServer
    engine: sa.Engine
    worker_pgid: int | None = None

    @property
    def pgid(self) -> int:
        return server_group(int(self.server.url.rsplit(":", 1)[1]))

    def person(self, username: str) -> tuple[Viewer, str]:
        """Someone signed in through development sign-in, with a personal access token."""
        claims = {"sub": f"dev|{username}", "nickname": username, "name": username}
        with session_scope(self.engine) as db:
            viewer = Viewer.of(users.sign_in_from_claims(db, claims=claims))
            _, token = access_tokens.create(db, viewer=viewer, name="bench")
        return viewer, token

    def statuses(self, owner: Viewer) -> list[sa.Row]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    sa.text(
                        "SELECT id, title, status, failure_reason, processing_attempts, "
                        "width, height FROM image WHERE owner_id = :owner ORDER BY title"
                    ),
                    {"owner": owner.user_id},
                )
            )


@contextmanager
def running_components() -> Iterator[Components]:
    with (
        running_seaweedfs(log=ARTIFACTS / "bench-uploads-seaweedfs.log") as s3,
        running_sqs(log=ARTIFACTS / "bench-uploads-sqs.log") as sqs,
    ):
        yield Components(s3=s3, sqs=sqs)


@contextmanager
def app_under_test(
    components: Components, name: str, extra: dict[str, str], *, with_worker: bool = False
) -> Iterator[App]:
    """A fresh database and bucket, the app server on them, and for SQS a queue and one
    worker process with the same settings."""
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    components.s3.client().create_bucket(Bucket=bucket)
    with ExitStack() as stack:
        database_url = stack.enter_context(new_database())
        settings = {
            "IMAGESHARE_ENV": "development",
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            **extra,
        }
        if with_worker:
            queue = create_queue(components.sqs, lease_seconds=LEASE_SECONDS)
            settings.update(queue.env())
        # After the queue's: SeaweedFS checks the keys' signatures, moto takes any keys.
        settings.update(components.s3.env(bucket))
        migrate(app_env(settings))
        engine = create_db_engine(database_url)
        stack.callback(engine.dispose)
        server = stack.enter_context(
            run_app(settings, name=f"bench-uploads-{name}", backend_only=True)
        )
        worker_pgid = None
        if with_worker:
            log = ARTIFACTS / f"bench-uploads-{name}-worker.log"
            worker_pgid = stack.enter_context(worker_process(server.env, log))
        yield App(name=name, server=server, engine=engine, worker_pgid=worker_pgid)


@contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[int]:
    """One `python -m imageshare.worker`, ready to take jobs; yields its process group."""
    command = [str(VENV_BIN / "python"), "-m", "imageshare.worker"]
    process = start_process(command, env=env, log=log)
    try:
        deadline = time.monotonic() + 60
        while "taking jobs from" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start; last lines of {log}:\n{tail(log)}")
            time.sleep(0.2)
        yield process.pid  # the leader of a session of its own
    finally:
        stop_process(process, timeout=40)


# -- uploading -------------------------------------------------------------------------


def multipart(filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    """A GraphQL multipart request body for uploadImage, encoded up front so the client
    spends no CPU on it during the burst."""
    boundary = uuid.uuid4().hex
    operations = json.dumps({"query": UPLOAD, "variables": {"file": None, "input": None}})
    fields = {"operations": operations, "map": json.dumps({"0": ["variables.file"]})}
    body = bytearray()
    for name, value in fields.items():
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    body += data
    body += f"\r\n--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


@dataclass
class Answer:
    filename: str
    seconds: float
    image_id: str | None = None
    error: str | None = None


def upload_all(
    app: App, files: list[tuple[str, str, bytes, str]], *, meter: CpuMeter | None = None
) -> tuple[float, list[threading.Thread], list[Answer]]:
    """Start every upload (token, filename, data, type) at once, one thread and
    connection each; returns the start time, the threads (still running) and their
    answers as they come. `meter` starts counting just before the first request."""
    bodies = [(token, name, *multipart(name, data, kind)) for token, name, data, kind in files]
    answers: list[Answer] = []
    start = threading.Barrier(len(bodies) + 1)
    t0 = [0.0]

    def send(token: str, filename: str, body: bytes, content_type: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        with httpx.Client(base_url=app.server.url, timeout=BURST_TIMEOUT) as client:
            client.get("/healthz")  # the connection is open before the burst
            start.wait()
            try:
                response = client.post("/graphql", content=body, headers=headers)
                seconds = time.perf_counter() - t0[0]
                payload = response.json()
                found = (payload.get("data") or {}).get("uploadImage")
                if found:
                    answers.append(Answer(filename, seconds, image_id=found["id"]))
                else:
                    errors = payload.get("errors") or [{"message": response.text[:200]}]
                    answers.append(Answer(filename, seconds, error=errors[0]["message"]))
            except Exception as error:
                answers.append(Answer(filename, time.perf_counter() - t0[0], error=repr(error)))

    threads = [threading.Thread(target=send, args=body, daemon=True) for body in bodies]
    for thread in threads:
        thread.start()
    if meter is not None:
        meter.start()
    t0[0] = time.perf_counter()
    start.wait()
    return t0[0], threads, answers


def wait_done(app: App, owner: Viewer, expected: int, t0: float) -> tuple[float, float | None]:
    """Poll every 50 ms until `expected` images of the owner are READY or FAILED; returns
    the seconds since t0 then, and since t0 to the first READY."""
    query = sa.text(
        "SELECT count(*) FILTER (WHERE status IN ('ready', 'failed')), "
        "count(*) FILTER (WHERE status = 'ready') FROM image WHERE owner_id = :owner"
    )
    first_ready = None
    with app.engine.connect() as connection:
        while True:
            done, ready = connection.execute(query, {"owner": owner.user_id}).one()
            connection.rollback()  # a fresh snapshot for the next look
            now = time.perf_counter() - t0
            if ready and first_ready is None:
                first_ready = now
            if done >= expected:
                return now, first_ready
            if now > BURST_TIMEOUT:
                raise RuntimeError(f"{app.name}: only {done} of {expected} done after {now:.0f}s")
            time.sleep(POLL_SECONDS)


def warm_up(app: App, count: int = 1) -> None:
    """Small uploads processed to the end: imports, clients and pools are ready."""
    owner, token = app.person(f"warm-{uuid.uuid4().hex[:8]}")
    files = [
        (token, f"warm-{n}.jpg", samples.jpeg(640 + n, 480), "image/jpeg") for n in range(count)
    ]
    t0, threads, answers = upload_all(app, files)
    for thread in threads:
        thread.join()
    failed = [a for a in answers if a.error]
    if failed:
        raise RuntimeError(f"{app.name}: warm-up upload refused: {failed[0].error}")
    wait_done(app, owner, count, t0)


# -- where the CPU went -------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_by_process() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, process group, CPU seconds so far) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()  # from field 3, the state
        found[int(entry.name)] = (comm, int(fields[2]), (int(fields[11]) + int(fields[12])) / _TICK)
    return found


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / _TICK


class CpuMeter:
    """CPU seconds spent between start() and stop(), by who spent them: the processes of
    the named process groups, this benchmark (the client), SeaweedFS, Postgres, and all
    the rest of the machine (other work on a shared machine shows up there)."""

    def __init__(self, groups: dict[int, str]):
        self.groups = groups

    def _who(self, pid: int, comm: str, pgid: int) -> str:
        if pid == os.getpid():
            return "client"
        if pgid in self.groups:
            return self.groups[pgid]
        if comm == "weed":
            return "SeaweedFS"
        if comm.startswith("postgres"):
            return "Postgres"
        return "rest"

    def start(self) -> None:
        self._before, self._busy = _cpu_by_process(), _machine_busy()

    def stop(self) -> dict[str, float]:
        after, busy = _cpu_by_process(), _machine_busy()
        spent: dict[str, float] = dict.fromkeys(
            [*self.groups.values(), "SeaweedFS", "Postgres", "client"], 0.0
        )
        for pid, (comm, pgid, seconds) in after.items():
            who = self._who(pid, comm, pgid)
            if who != "rest":
                earlier = self._before.get(pid)
                spent[who] += seconds - (earlier[2] if earlier and earlier[0] == comm else 0.0)
        # The rest: every other process, those that ended meanwhile, and the kernel.
        spent["rest"] = max(0.0, busy - self._busy - sum(spent.values()))
        spent["machine"] = busy - self._busy
        return spent


def cpu_line(spent: dict[str, float], wall: float) -> str:
    parts = [f"{who} {seconds:.1f}" for who, seconds in spent.items() if who != "machine"]
    return (
        f"CPU s: {' · '.join(parts)}; machine {spent['machine']:.1f} of "
        f"{machine.cores()} × {wall:.1f}s = {machine.cores() * wall:.1f}"
    )


# -- part 1: throughput ------------------------------------------------------------------


@dataclass
class Burst:
    wall: float
    first_ready: float | None
    answered: list[float]
    errors: list[str]
    cpu: dict[str, float]
    stored_sizes: set[tuple[int, int]]  # width × height on the READY rows


def burst(app: App, photos: list[Path], label: str) -> Burst:
    owner, token = app.person(label)
    files = [(token, path.name, path.read_bytes(), "image/jpeg") for path in photos]
    groups = {app.pgid: "app"}
    if app.worker_pgid is not None:
        groups[app.worker_pgid] = "worker"
    meter = CpuMeter(groups)
    t0, threads, answers = upload_all(app, files, meter=meter)
    wall, first_ready = wait_done(app, owner, len(files), t0)
    cpu = meter.stop()
    for thread in threads:
        thread.join()
    rows = app.statuses(owner)
    failed = [
        f"{row.title}: {row.status} {row.failure_reason}" for row in rows if row.status != "ready"
    ]
    return Burst(
        wall=wall,
        first_ready=first_ready,
        answered=sorted(a.seconds for a in answers),
        errors=[f"{a.filename}: {a.error}" for a in answers if a.error] + failed,
        cpu=cpu,
        stored_sizes={(row.width, row.height) for row in rows if row.status == "ready"},
    )


def reference(photos: list[Path]) -> tuple[float, float]:
    """The pure processing time: sequential renders, divided by the cores; and the CPU
    seconds they took (render itself uses a second thread for part of the work)."""
    start, cpu = time.perf_counter(), time.process_time()
    for path in photos:
        processing.render(path)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall / machine.cores(), cpu


def pooled(photos: list[Path]) -> tuple[float, float]:
    """The same renders, as many at once as there are cores, in this process: the
    processing alone, without receiving, storing or the database. (wall, CPU) seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=machine.cores()) as pool:
        list(pool.map(processing.render, photos))
    return time.perf_counter() - start, time.process_time() - cpu


def throughput(components: Components, rounds: int) -> None:
    started = time.perf_counter()
    photos = cached_photos()
    megabytes = sum(p.stat().st_size for p in photos) / len(photos) / 1e6
    cores = machine.cores()
    print(
        f"\n== 1. upload throughput: {len(photos)} JPEGs of {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} "
        f"(mean {megabytes:.1f} MB, q{PHOTO_QUALITY}) uploaded at once; {cores} cores; "
        f"{rounds} rounds"
    )
    processing.render(photos[0])  # warm: imports, the encoder's first call
    backends = {
        "inline": ({"JOBS_BACKEND": "inline"}, False),
        "sqs": ({"JOBS_BACKEND": "sqs"}, True),
    }
    results: dict[str, list[Burst]] = {name: [] for name in backends}
    references: list[tuple[float, float]] = []
    renders_only: list[float] = []
    with ExitStack() as stack:
        apps = {
            name: stack.enter_context(
                app_under_test(components, name, extra, with_worker=with_worker)
            )
            for name, (extra, with_worker) in backends.items()
        }
        for app in apps.values():
            warm_up(app)
        processes = ", ".join(f"{n} {len(group_members(a.pgid))}" for n, a in apps.items())
        print(
            f"   (servers up and warm after {time.perf_counter() - started:.0f}s; processes in "
            f"each app server's group, without Redis: {processes})"
        )
        for number in range(rounds):
            meter = CpuMeter({})
            meter.start()
            references.append(reference(photos))
            ref, ref_cpu = references[-1]
            rest = meter.stop()["rest"]
            print(
                f"   round {number + 1}: reference {ref:.2f}s (sequential {ref * cores:.2f}s, "
                f"CPU {ref_cpu:.1f}s; the rest of the machine meanwhile {rest:.1f} CPU s)"
            )
            wall, cpu = pooled(photos)
            renders_only.append(wall)
            print(
                f"     renders only, {cores} at once in this process: wall {wall:.2f}s  ratio "
                f"{wall / ref:4.2f}  (CPU {cpu:.1f}s)"
            )
            order = list(apps) if number % 2 == 0 else list(reversed(apps))
            for name in order:
                time.sleep(1)  # let the last round's stragglers (logs, sweeps) settle
                result = burst(apps[name], photos, f"{name}-{number}-{uuid.uuid4().hex[:6]}")
                results[name].append(result)
                print(
                    f"     {name:7} wall {result.wall:6.2f}s  ratio {result.wall / ref:4.2f}  "
                    f"first READY {result.first_ready or 0:5.2f}s  uploadImage answered p50 "
                    f"{statistics.median(result.answered):.2f}s max {max(result.answered):.2f}s"
                    f"  errors {len(result.errors)}"
                )
                print(f"             {cpu_line(result.cpu, result.wall)}")
                for error in result.errors[:3]:
                    print(f"             {error}")
    ref = statistics.median(r for r, _ in references)
    ref_cpu = statistics.median(c for _, c in references)
    print(
        f"   reference: sum of sequential render() over the {len(photos)} files ÷ {cores} "
        f"cores: median {ref:.2f}s (CPU {ref_cpu:.1f}s)"
    )
    print(
        f"   {'backend':7} {'wall (median)':>14} {'reference':>10} {'ratio':>6} {'target':>7}"
        f" {'app+worker CPU':>15} {'÷ reference CPU':>16}"
    )
    only = statistics.median(renders_only)
    print(f"   {'renders':7} {only:13.2f}s {ref:9.2f}s {only / ref:6.2f}   (no upload, no storage)")
    for name, bursts in results.items():
        wall = statistics.median(b.wall for b in bursts)
        tier = statistics.median(b.cpu["app"] + b.cpu.get("worker", 0.0) for b in bursts)
        print(
            f"   {name:7} {wall:13.2f}s {ref:9.2f}s {wall / ref:6.2f} {'≤ ' + str(TARGET_RATIO):>7}"
            f" {tier:14.1f}s {tier / ref_cpu:16.2f}"
            f"  {'met' if wall / ref <= TARGET_RATIO else 'MISSED'}"
        )
    stored = {size for bursts in results.values() for b in bursts for size in b.stored_sizes}
    print(
        f"   the READY rows record {', '.join(f'{w}×{h}' for w, h in sorted(stored))} for "
        f"originals of {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]}"
    )
    print("   uploadImage answered (s after the first request; all rounds):")
    for name, bursts in results.items():
        answered = sorted(s for b in bursts for s in b.answered)
        print(
            f"   {name:7} p50 {percentile(answered, 50):.2f}  p90 {percentile(answered, 90):.2f}"
            f"  max {answered[-1]:.2f}   (first READY at median "
            f"{statistics.median(b.first_ready or 0 for b in bursts):.2f}s)"
        )
    print(f"   part 1 took {time.perf_counter() - started:.0f}s")


# -- part 2: memory storm ----------------------------------------------------------------


def server_group(port: int) -> int:
    """The process group of the app server listening on `port`: its `reflex run` leader
    was started in a session of its own (tests/harness/components.py)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"run" in argv and str(port).encode() in argv and any(b"reflex" in a for a in argv):
            return os.getpgid(int(entry.name))
    raise RuntimeError(f"no reflex process found for port {port}")


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:
            members.append(int(entry.name))
    return sorted(members)


def parent_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def describe(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "(gone)"
    text = " ".join(a.decode(errors="replace") for a in argv if a)
    return text if len(text) < 110 else text[:107] + "..."


def memory_of(pid: int) -> tuple[int, int]:
    """(Pss, Rss) in bytes, from smaps_rollup; zeros for a process that is gone."""
    pss = rss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
            elif line.startswith("Rss:"):
                rss = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return pss, rss


@dataclass
class MemorySample:
    at: float
    pss: int
    rss: int
    processes: int
    reserved: int  # bytes the budget's ledger held
    jobs: int  # reservations in the ledger
    by_pid: dict[int, int]  # each process's Pss


class Sampler:
    """Sums the memory of the server's process group every 50 ms, in a thread."""

    def __init__(self, pgid: int, ledger: Path):
        self.pgid, self.ledger = pgid, ledger
        self.samples: list[MemorySample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.perf_counter()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            at = time.perf_counter() - self.t0
            members = group_members(self.pgid)
            rss, by_pid = 0, {}
            for pid in members:
                by_pid[pid], one_rss = memory_of(pid)
                rss += one_rss
            reserved, jobs = self._ledger()
            self.samples.append(
                MemorySample(at, sum(by_pid.values()), rss, len(members), reserved, jobs, by_pid)
            )
            self._stop.wait(POLL_SECONDS)

    def _ledger(self) -> tuple[int, int]:
        try:
            entries = json.loads(self.ledger.read_text() or "{}")
            return sum(int(v) for v in entries.values()), len(entries)
        except (OSError, ValueError, AttributeError):
            return 0, 0  # absent, or read half-written: the next look sees it


@dataclass
class Probe:
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"healthz": [], "gallery": []}
    )
    errors: dict[str, list[str]] = field(default_factory=lambda: {"healthz": [], "gallery": []})


class Prober:
    """GET /healthz and an anonymous gallery query, every 100 ms, in a thread."""

    def __init__(self, url: str):
        self.url = url
        self.result = Probe()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        calls: dict[str, Callable[[httpx.Client], httpx.Response]] = {
            "healthz": lambda c: c.get("/healthz"),
            "gallery": lambda c: c.post("/graphql", json={"query": GALLERY}),
        }
        with httpx.Client(base_url=self.url, timeout=30) as client:
            due = time.perf_counter()
            while not self._stop.is_set():
                for name, call in calls.items():
                    start = time.perf_counter()
                    try:
                        response = call(client)
                        body = response.json()
                        ok = response.status_code == 200 and not body.get("errors")
                        problem = None if ok else f"{response.status_code} {response.text[:120]}"
                    except Exception as error:
                        problem = repr(error)
                    self.result.latencies[name].append(time.perf_counter() - start)
                    if problem:
                        self.result.errors[name].append(problem)
                due += PROBE_SECONDS
                self._stop.wait(max(0.0, due - time.perf_counter()))


def storm(components: Components, *, label: str, budget: int, concurrency: int | None) -> None:
    """The eight bombs at once against the app with Redis; `budget` is WORKER_MEMORY_BUDGET
    and `concurrency` WORKER_CONCURRENCY (None: its default, the cores)."""
    started = time.perf_counter()
    extra = {
        "JOBS_BACKEND": "inline",
        "REDIS_URL": REDIS_URL,
        "REFLEX_REDIS_URL": REDIS_URL,
        "WORKER_MEMORY_BUDGET": str(budget),
    }
    if concurrency is not None:
        extra["WORKER_CONCURRENCY"] = str(concurrency)
    files = bombs()
    check_redis()
    with app_under_test(components, f"storm-{label}", extra) as app:
        pgid = app.pgid
        ledger = Path(tempfile.gettempdir()) / f"imageshare-budget-{os.getuid()}-{pgid}.json"
        warm_up(app, count=10)  # likely every server worker has handled an upload
        members = group_members(pgid)
        print(
            f"\n== 2. memory storm ({label}): JOBS_BACKEND=inline, Redis, "
            f"WORKER_MEMORY_BUDGET={budget} ({mib(budget)}), WORKER_CONCURRENCY="
            f"{concurrency or f'default ({machine.cores()})'}, MAX_IMAGE_PIXELS default"
        )
        print(f"   the server's process group ({pgid}) has {len(members)} processes:")
        for pid in members:
            print(f"     {pid:>7} (parent {parent_of(pid):>7})  {describe(pid)}")
        owners = [app.person(f"storm-{label}-{n}-{uuid.uuid4().hex[:6]}") for n in range(2)]
        with Sampler(pgid, ledger) as sampler:
            time.sleep(2)
            before = list(sampler.samples)
            baseline = statistics.median(s.pss for s in before)
            baseline_rss = statistics.median(s.rss for s in before)
            with Prober(app.server.url) as prober:
                # Each person uploads one file of each kind: all eight at once.
                uploads = [
                    (owners[index % 2][1], bomb.name, bomb.data, bomb.content_type)
                    for index, bomb in enumerate(files)
                ]
                storm_t0, threads, answers = upload_all(app, uploads)
                for thread in threads:
                    thread.join()
                for index, (owner, _) in enumerate(owners):
                    mine = {b.name for b in files[index::2]}
                    accepted = sum(1 for a in answers if a.image_id and a.filename in mine)
                    wait_done(app, owner, accepted, storm_t0)
                duration = time.perf_counter() - storm_t0
            time.sleep(0.5)
        during = [s for s in sampler.samples if s.at >= storm_t0 - sampler.t0]
        peak = max(during, key=lambda s: s.pss)
        peak_rss = max(s.rss for s in during)
        print(
            f"   {len(files)} uploads at once ({', '.join(b.name for b in files)}); "
            f"all done after {duration:.1f}s; {len(sampler.samples)} memory samples"
        )
        over = peak.pss - baseline - budget
        print(
            f"   Pss of the group: baseline {mib(baseline)}, peak {mib(peak.pss)} "
            f"(at {peak.at - (storm_t0 - sampler.t0):.1f}s), peak − baseline "
            f"{mib(peak.pss - baseline)}, budget {mib(budget)}, margin (peak − baseline − "
            f"budget) {'+' if over >= 0 else '−'}{mib(abs(over))}"
        )
        holds = peak.pss - baseline <= budget + STORM_SLACK
        if budget < UNBOUNDED:
            print(
                f"   claim peak ≤ baseline + budget + {mib(STORM_SLACK)}: "
                f"{'holds' if holds else 'DOES NOT HOLD'}"
            )
        print(
            f"   (Rss summed, which counts a page shared by several processes in each: "
            f"baseline {mib(baseline_rss)}, peak {mib(peak_rss)})"
        )
        print(
            f"   the budget's ledger ({ledger.name}): at most {mib(max(s.reserved for s in during))}"
            f" reserved, {max(s.jobs for s in during)} jobs at once"
        )
        growth = []
        for pid in members:
            start = statistics.median(s.by_pid.get(pid, 0) for s in before)
            top = max(s.by_pid.get(pid, 0) for s in during)
            growth.append(f"{pid} {mib(start)} → {mib(top)}")
        print(f"   each process's Pss, baseline → peak: {'; '.join(growth)}")
        for name in ("healthz", "gallery"):
            latencies = sorted(prober.result.latencies[name])
            errors = prober.result.errors[name]
            print(
                f"   {name:8} during the storm: {len(latencies)} requests, {len(errors)} errors,"
                f" p50 {percentile(latencies, 50) * 1000:.0f} ms, p99 "
                f"{percentile(latencies, 99) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
            )
            for error in errors[:3]:
                print(f"            {error}")
        print("   images:")
        sizes = {b.name.rsplit(".", 1)[0]: b.size for b in files}  # the title is the stem
        for owner, _ in owners:
            for row in app.statuses(owner):
                width, height = sizes.get(row.title, (0, 0))
                print(
                    f"     {row.title:7} {width:>5}×{height:<5} {row.status:7} "
                    f"attempts {row.processing_attempts}  (row says {row.width}×{row.height})  "
                    f"{row.failure_reason or ''}"
                )
        for answer in answers:
            if answer.error:
                print(f"     {answer.filename:12} refused at upload: {answer.error}")
        answered = sorted(answers, key=lambda a: a.filename)
        print(
            "   uploadImage answered after: "
            + ", ".join(f"{a.filename} {a.seconds:.2f}s" for a in answered)
        )
    print(f"   storm ({label}) took {time.perf_counter() - started:.0f}s")


def check_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        raise SystemExit(f"the storm needs Redis at {REDIS_URL}: {error}") from None


# -- main ------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def mib(size: float) -> str:
    return f"{size / 1024**2:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="bursts per backend")
    parser.add_argument("--only", choices=("throughput", "storm"))
    parser.add_argument(
        "--compare", action="store_true", help="also storms one at a time and unbounded"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    with running_components() as components:
        if args.only in (None, "throughput"):
            throughput(components, args.rounds)
        if args.only in (None, "storm"):
            storm(components, label="as deployed", budget=STORM_BUDGET, concurrency=None)
            if args.compare:
                storm(components, label="one at a time", budget=STORM_BUDGET, concurrency=1)
                # No effective bound: how much the budget is holding back.
                storm(components, label="unbounded", budget=UNBOUNDED, concurrency=8)
    print(f"\nbench/uploads.py took {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
