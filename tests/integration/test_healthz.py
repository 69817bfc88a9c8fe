"""GET /healthz on a real server: 200 when everything answers, 503 naming what does not."""

import subprocess

from tests.harness.app_server import VENV_BIN, app_env, run_app
from tests.harness.components import REPO_ROOT


def test_healthy_app_answers_200(app_server):
    response = app_server.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "storage": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_missing_bucket_is_503_naming_storage(app_settings):
    settings = {**app_settings, "S3_BUCKET": "bucket-that-does-not-exist"}
    with run_app(settings, name="healthz-no-bucket", backend_only=True) as server:
        response = server.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "storage": "error"}


def test_unreachable_database_is_503_naming_database(app_settings):
    settings = {**app_settings, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"}
    with run_app(settings, name="healthz-no-database", backend_only=True) as server:
        response = server.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "storage": "ok"}


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
