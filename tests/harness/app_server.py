"""The app under test: a real `reflex run --env prod` process on a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.harness.components import (
    ARTIFACTS,
    REPO_ROOT,
    VENV_BIN,
    free_port,
    start_process,
    stop_process,
    wait_until,
)

# Every variable of the settings contract: the app under test gets only what we set.
SETTINGS_NAMES = (
    "IMAGESHARE_ENV PORT PUBLIC_URL SECRET_KEY DATABASE_URL STORAGE_BACKEND MEDIA_ROOT "
    "S3_BUCKET S3_REGION S3_ENDPOINT_URL CDN_BASE_URL CLOUDFRONT_KEY_PAIR_ID "
    "CLOUDFRONT_PRIVATE_KEY AUTH0_DOMAIN AUTH0_CLIENT_ID AUTH0_CLIENT_SECRET AUTH0_AUDIENCE "
    "AUTH0_ISSUER REDIS_URL REFLEX_REDIS_URL MAX_UPLOAD_BYTES MAX_IMAGE_PIXELS "
    "JOBS_BACKEND SQS_QUEUE_URL WORKER_CONCURRENCY WORKER_MEMORY_BUDGET JOB_LEASE_SECONDS "
    "WORKER_SHUTDOWN_SECONDS"
).split()

APP_BUCKET = "imageshare-app"
# A full production build of the frontend runs first (npm install on a cold cache).
START_TIMEOUT = 600


@dataclass(frozen=True)
class AppServer:
    url: str
    env: dict[str, str]

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)


def app_env(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without any of our settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_NAMES}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    env["REFLEX_USE_NPM"] = "1"
    env.update(settings)
    return env


# What a private copy of the app leaves out: build output, environments, data.
_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", ".web", "data", "test-artifacts", "node_modules", "__pycache__", "tests"
)


@contextmanager
def run_app(
    settings: dict[str, str], *, name: str, backend_only: bool = False, workdir: Path = REPO_ROOT
) -> Iterator[AppServer]:
    """Start, wait for /healthz to answer (any status), yield, stop.

    backend_only skips the frontend build: enough for the HTTP routes, and quick.
    A second full server needs its own `workdir`: the built frontend has its port
    baked in, so two servers cannot share one .web folder.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = app_env({"PUBLIC_URL": url, "PORT": str(port), **settings})
    command = [str(VENV_BIN / "reflex"), "run", "--env", "prod", "--backend-host", "127.0.0.1"]
    if backend_only:
        command += ["--backend-only", "--backend-port", str(port)]
    else:
        command += ["--frontend-port", str(port), "--backend-port", str(port)]
    log = ARTIFACTS / f"{name}.log"
    process = start_process(command, env=env, log=log, cwd=workdir)
    server = AppServer(url=url, env=env)
    try:
        wait_until(
            lambda: server.get("/healthz").status_code in (200, 503),
            timeout=START_TIMEOUT,
            process=process,
            what=f"the app server ({name})",
            log=log,
        )
        yield server
    finally:
        stop_process(process)


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "alembic"), "upgrade", "head"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"alembic upgrade head failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def app_settings(postgres_url, s3_server) -> dict[str, str]:
    """The settings of the app under test: Postgres and SeaweedFS, development sign-in."""
    s3_server.client().create_bucket(Bucket=APP_BUCKET)
    settings = {
        "IMAGESHARE_ENV": "development",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": postgres_url,
        **s3_server.env(APP_BUCKET),
    }
    migrate(app_env(settings))
    return settings


@pytest.fixture(scope="session")
def app_server(app_settings) -> Iterator[AppServer]:
    """The app, built and served once for the whole session."""
    with run_app(app_settings, name="app-server") as server:
        yield server


@pytest.fixture(scope="session")
def auth0_app_server(app_settings, oidc_provider, tmp_path_factory) -> Iterator[AppServer]:
    """The app in production mode, signing in through the Auth0-like provider."""
    settings = {**app_settings, **oidc_provider.app_settings(), "IMAGESHARE_ENV": "production"}
    workdir = tmp_path_factory.mktemp("auth0-app") / "app"
    shutil.copytree(REPO_ROOT, workdir, ignore=_NOT_COPIED)
    with run_app(settings, name="auth0-app-server", workdir=workdir) as server:
        yield server
