"""Health on a real server: GET /healthz (liveness) answers without any I/O; GET /readyz
(readiness) runs the deep checks, 503 naming what does not answer, and caches its answer
so a flood of callers costs one check per interval."""

import asyncio
import subprocess

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from imageshare import health
from tests.harness.app_server import VENV_BIN, app_env, run_app
from tests.harness.components import REPO_ROOT, run_async


def test_healthy_app_is_live_and_ready(app_server):
    response = app_server.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"
    response = app_server.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "storage": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_missing_bucket_is_not_ready_naming_storage(app_settings):
    settings = {**app_settings, "S3_BUCKET": "bucket-that-does-not-exist"}
    with run_app(settings, name="healthz-no-bucket", backend_only=True) as server:
        response = server.get("/readyz")
        live = server.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "storage": "error"}
    assert live.status_code == 200


def test_unreachable_database_is_not_ready_naming_database_but_live(app_settings):
    settings = {**app_settings, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"}
    with run_app(settings, name="healthz-no-database", backend_only=True) as server:
        response = server.get("/readyz")
        live = server.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "storage": "ok"}
    # Liveness never touches the database: a database outage does not restart the task.
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}


# The routes themselves, in process, over an engine that counts its statements.


class CountingChecks:
    def __init__(self, postgres_url: str):
        self.engine = sa.create_engine(postgres_url)
        self.statements = 0
        self.storage_checks = 0
        with self.engine.connect():  # the dialect's first-connect queries, before counting
            pass
        sa.event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.statements += 1

    def storage(self) -> None:
        self.storage_checks += 1

    def app(self, cache_seconds: float = health.READINESS_CACHE_SECONDS) -> Starlette:
        checks = {
            "database": lambda: health.check_database(self.engine),
            "storage": self.storage,
        }
        return Starlette(routes=health.routes(checks, cache_seconds=cache_seconds))


@pytest.fixture
def counting(postgres_url):
    checks = CountingChecks(postgres_url)
    yield checks
    checks.engine.dispose()


async def _get_many(app: Starlette, path: str, count: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await asyncio.gather(*(client.get(path) for _ in range(count)))


def test_liveness_does_no_sql_and_no_storage_call(counting):
    responses = run_async(_get_many(counting.app(), "/healthz", 20))
    assert {r.status_code for r in responses} == {200}
    assert counting.statements == 0
    assert counting.storage_checks == 0


def test_fifty_concurrent_readiness_calls_cost_one_check(counting):
    responses = run_async(_get_many(counting.app(), "/readyz", 50))
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["database"] for r in responses} == {"ok"}
    assert counting.statements == 1
    assert counting.storage_checks == 1


def test_readiness_checks_again_after_its_interval(counting):
    app = counting.app(cache_seconds=0.2)

    async def twice() -> None:
        await _get_many(app, "/readyz", 10)
        await asyncio.sleep(0.3)
        await _get_many(app, "/readyz", 10)

    run_async(twice())
    assert counting.storage_checks == 2


def test_wrong_setting_stops_the_app_with_one_sentence():
    result = subprocess.run(
        [str(VENV_BIN / "reflex"), "run", "--env", "prod"],
        cwd=REPO_ROOT,
        env=app_env({"STORAGE_BACKEND": "s3"}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "imageshare cannot start: S3_BUCKET is required when STORAGE_BACKEND is s3."
    )
