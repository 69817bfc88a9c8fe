from pathlib import Path

import pytest

from imageshare import machine
from imageshare.settings import DEV_SECRET_KEY, SettingsError, load_settings

GOOD_SECRET = "s" * 40
PRODUCTION = {
    "IMAGESHARE_ENV": "production",
    "SECRET_KEY": GOOD_SECRET,
    "PUBLIC_URL": "https://images.example.com",
    "DATABASE_URL": "postgresql+psycopg://app@db.internal/imageshare",
    "STORAGE_BACKEND": "s3",
    "S3_BUCKET": "media",
    "AUTH0_DOMAIN": "example.eu.auth0.com",
    "AUTH0_CLIENT_ID": "client",
    "AUTH0_CLIENT_SECRET": "secret",
    "AUTH0_AUDIENCE": "https://api.example.com",
}


def test_defaults_are_the_embedded_development_setup():
    s = load_settings({})
    assert s.env == "development" and not s.is_production
    assert s.port == 3000
    assert s.public_url == "http://localhost:3000"
    assert s.secret_key == DEV_SECRET_KEY
    assert s.database_url == "sqlite:///data/imageshare.db"
    assert s.storage_backend == "local"
    assert s.media_root == Path("data/media")
    assert s.max_upload_bytes == 25 * 1024 * 1024
    assert s.max_image_pixels == 60_000_000
    assert s.max_query_cost == 10_000
    assert not s.auth0_enabled and s.auth0_issuer is None
    assert s.redis_url is None and s.cdn_base_url is None
    # Processing runs in the app itself, sized from this machine.
    assert s.jobs_backend == "inline" and s.sqs_queue_url is None
    assert s.worker_concurrency == machine.cores()
    assert s.worker_memory_budget == machine.memory_bytes() // 2
    assert (s.job_lease_seconds, s.worker_shutdown_seconds) == (60, 20)
    assert (s.max_subscriptions_per_socket, s.max_sockets_per_address) == (10, 20)


def test_the_sqs_backend_takes_the_queue_and_the_worker_bounds():
    s = load_settings(
        {
            "JOBS_BACKEND": "SQS",
            "SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/imageshare-jobs",
            "WORKER_CONCURRENCY": "3",
            "WORKER_MEMORY_BUDGET": "1_073_741_824",
            "JOB_LEASE_SECONDS": "90",
        }
    )
    assert s.jobs_backend == "sqs"
    assert s.sqs_queue_url.endswith("/imageshare-jobs")
    assert (s.worker_concurrency, s.worker_memory_budget, s.job_lease_seconds) == (3, 2**30, 90)


def test_values_are_read_and_normalised():
    s = load_settings(
        {
            "PORT": "8080",
            "PUBLIC_URL": "https://images.example.com/",
            "DATABASE_URL": "postgres://u:p@db/imageshare",
            "STORAGE_BACKEND": "S3",
            "S3_BUCKET": "media",
            "S3_ENDPOINT_URL": "http://127.0.0.1:8333",
            "MAX_UPLOAD_BYTES": "1_000_000",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "AUTH0_DOMAIN": "example.eu.auth0.com",
            "AUTH0_CLIENT_ID": "id",
            "AUTH0_CLIENT_SECRET": "secret",
        }
    )
    assert s.port == 8080
    assert s.public_url == "https://images.example.com"
    assert load_settings({"PORT": "8080"}).public_url == "http://localhost:8080"
    # Hosting providers' postgres:// URLs get the driver SQLAlchemy needs.
    assert s.database_url == "postgresql+psycopg://u:p@db/imageshare"
    assert s.storage_backend == "s3"
    assert s.max_upload_bytes == 1_000_000
    assert s.auth0_enabled
    assert s.auth0_issuer == "https://example.eu.auth0.com/"


def test_issuer_override_keeps_its_trailing_slash():
    s = load_settings(
        {
            "AUTH0_DOMAIN": "example.eu.auth0.com",
            "AUTH0_CLIENT_ID": "id",
            "AUTH0_CLIENT_SECRET": "secret",
            "AUTH0_ISSUER": "http://127.0.0.1:9000/",
        }
    )
    assert s.auth0_issuer == "http://127.0.0.1:9000/"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND"),
        ({"IMAGESHARE_ENV": "staging"}, "IMAGESHARE_ENV"),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"PUBLIC_URL": "localhost:3000"}, "PUBLIC_URL"),
        ({"PUBLIC_URL": "ftp://example.com"}, "PUBLIC_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql+psycopg://u@host"}, "DATABASE_URL"),
        ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET"),
        ({"S3_ENDPOINT_URL": "127.0.0.1:8333"}, "S3_ENDPOINT_URL"),
        ({"CDN_BASE_URL": "cdn.example.com"}, "CDN_BASE_URL"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"MAX_UPLOAD_BYTES": "25MB"}, "MAX_UPLOAD_BYTES"),
        ({"MAX_IMAGE_PIXELS": "0"}, "MAX_IMAGE_PIXELS"),
        ({"MAX_QUERY_COST": "0"}, "MAX_QUERY_COST"),
        ({"MAX_QUERY_COST": "lots"}, "MAX_QUERY_COST"),
        ({"MAX_SUBSCRIPTIONS_PER_SOCKET": "0"}, "MAX_SUBSCRIPTIONS_PER_SOCKET"),
        ({"MAX_SUBSCRIPTIONS_PER_SOCKET": "ten"}, "MAX_SUBSCRIPTIONS_PER_SOCKET"),
        ({"MAX_SOCKETS_PER_ADDRESS": "0"}, "MAX_SOCKETS_PER_ADDRESS"),
        ({"JOBS_BACKEND": "celery"}, "JOBS_BACKEND"),
        ({"JOBS_BACKEND": "sqs"}, "SQS_QUEUE_URL"),
        ({"JOBS_BACKEND": "sqs", "SQS_QUEUE_URL": "jobs"}, "SQS_QUEUE_URL"),
        ({"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY"),
        ({"WORKER_MEMORY_BUDGET": "1GB"}, "WORKER_MEMORY_BUDGET"),
        ({"WORKER_MEMORY_BUDGET": "1000"}, "WORKER_MEMORY_BUDGET"),
        ({"JOB_LEASE_SECONDS": "1"}, "JOB_LEASE_SECONDS"),
        ({"WORKER_SHUTDOWN_SECONDS": "-1"}, "WORKER_SHUTDOWN_SECONDS"),
        ({"AUTH0_DOMAIN": "https://example.auth0.com"}, "AUTH0_DOMAIN"),
        ({"AUTH0_DOMAIN": "example.auth0.com", "AUTH0_CLIENT_ID": "id"}, "AUTH0_CLIENT_SECRET"),
        ({"AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "s"}, "AUTH0_DOMAIN"),
        ({"CLOUDFRONT_KEY_PAIR_ID": "K123"}, "CLOUDFRONT_PRIVATE_KEY"),
        (
            {"CLOUDFRONT_KEY_PAIR_ID": "K123", "CLOUDFRONT_PRIVATE_KEY": "pem"},
            "CDN_BASE_URL",
        ),
    ],
)
def test_a_wrong_value_is_one_sentence_naming_the_variable(environ, variable):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    message = str(caught.value)
    assert message.startswith(variable + " "), message
    assert message.endswith(".") and "\n" not in message


def test_production_accepts_a_safe_configuration():
    assert load_settings(PRODUCTION).is_production


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"AUTH0_DOMAIN": "", "AUTH0_CLIENT_ID": "", "AUTH0_CLIENT_SECRET": ""}, "AUTH0_DOMAIN"),
        ({"AUTH0_AUDIENCE": ""}, "AUTH0_AUDIENCE"),
        ({"STORAGE_BACKEND": "local"}, "STORAGE_BACKEND"),
    ],
)
def test_production_refuses_unsafe_settings(change, variable):
    with pytest.raises(SettingsError, match=f"^{variable} "):
        load_settings({**PRODUCTION, **change})
