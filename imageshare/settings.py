"""One Settings object, read from the environment and validated at start.

The names and defaults are the settings contract in the README. A wrong value
stops the app with one sentence naming the variable (SettingsError); production
mode additionally refuses configurations that are unsafe on the internet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from imageshare import machine

# Known to everyone who reads this file, hence refused in production.
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
MIN_SECRET_KEY_LENGTH = 32

DEFAULT_DATA_DIR = Path("data")

# Nodes one GraphQL operation may ask for, counted as imageshare/graphql/cost.py does:
# 100 pages of the largest size (or a page of 100 with 99 nested pages of 100).
DEFAULT_MAX_QUERY_COST = 10_000

# Below this no ordinary photo could be processed at all.
MIN_MEMORY_BUDGET = 64 * 1024 * 1024


class SettingsError(ValueError):
    """A setting is missing or wrong; the message is one sentence for a person."""


@dataclass(frozen=True)
class Settings:
    env: Literal["development", "production"]
    port: int
    public_url: str
    secret_key: str
    database_url: str
    storage_backend: Literal["local", "s3"]
    media_root: Path
    s3_bucket: str | None
    s3_region: str | None
    s3_endpoint_url: str | None
    cdn_base_url: str | None
    cloudfront_key_pair_id: str | None
    cloudfront_private_key: str | None
    auth0_domain: str | None
    auth0_client_id: str | None
    auth0_client_secret: str | None
    auth0_audience: str | None
    auth0_issuer: str | None
    redis_url: str | None
    max_subscriptions_per_socket: int
    max_sockets_per_address: int
    trusted_proxy_hops: int
    max_upload_bytes: int
    max_image_pixels: int
    max_query_cost: int
    jobs_backend: Literal["inline", "sqs"]
    sqs_queue_url: str | None
    worker_concurrency: int
    worker_memory_budget: int
    job_lease_seconds: int
    worker_shutdown_seconds: int
    session_recheck_seconds: int

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def auth0_enabled(self) -> bool:
        return self.auth0_domain is not None


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def page_origins(public_url: str) -> list[str]:
    """The origins whose pages may open the /_event websocket (Reflex's CORS list).

    PUBLIC_URL's own origin; when that is a loopback address (a development machine),
    every loopback spelling of it too, so the page opens at http://localhost:3000 and
    at http://127.0.0.1:3000 alike (the built page connects to its own host name).
    """
    parts = urlsplit(public_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if f"[{parts.hostname}]" not in LOOPBACK_HOSTS and parts.hostname not in LOOPBACK_HOSTS:
        return [origin]
    port = f":{parts.port}" if parts.port else ""
    spellings = [f"{parts.scheme}://{host}{port}" for host in LOOPBACK_HOSTS]
    return [origin] + [spelling for spelling in spellings if spelling != origin]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `environ` (default: os.environ) or raise SettingsError."""
    env = _Reader(os.environ if environ is None else environ)

    imageshare_env = env.choice("IMAGESHARE_ENV", ("development", "production"), "development")
    storage_backend = env.choice("STORAGE_BACKEND", ("local", "s3"), "local")
    auth0_domain = env.optional("AUTH0_DOMAIN")

    port = env.integer("PORT", 3000, minimum=1, maximum=65535)
    settings = Settings(
        env=imageshare_env,
        port=port,
        public_url=env.http_url("PUBLIC_URL", f"http://localhost:{port}"),
        secret_key=env.optional("SECRET_KEY") or DEV_SECRET_KEY,
        database_url=env.database_url("DATABASE_URL"),
        storage_backend=storage_backend,
        media_root=Path(env.optional("MEDIA_ROOT") or DEFAULT_DATA_DIR / "media"),
        s3_bucket=env.optional("S3_BUCKET"),
        s3_region=env.optional("S3_REGION"),
        s3_endpoint_url=env.optional_http_url("S3_ENDPOINT_URL"),
        cdn_base_url=env.optional_http_url("CDN_BASE_URL"),
        cloudfront_key_pair_id=env.optional("CLOUDFRONT_KEY_PAIR_ID"),
        cloudfront_private_key=env.optional("CLOUDFRONT_PRIVATE_KEY"),
        auth0_domain=auth0_domain,
        auth0_client_id=env.optional("AUTH0_CLIENT_ID"),
        auth0_client_secret=env.optional("AUTH0_CLIENT_SECRET"),
        auth0_audience=env.optional("AUTH0_AUDIENCE"),
        # An issuer is compared to the token's `iss` to the letter: keep its slash.
        auth0_issuer=env.optional_http_url("AUTH0_ISSUER", strip_slash=False)
        or (f"https://{auth0_domain}/" if auth0_domain else None),
        redis_url=env.optional_url("REDIS_URL", ("redis", "rediss")),
        # Live connections are admitted in bounded numbers: each subscription holds a
        # task and an inbox, each socket or event stream a connection.
        max_subscriptions_per_socket=env.integer(
            "MAX_SUBSCRIPTIONS_PER_SOCKET", 10, minimum=1, maximum=1000
        ),
        max_sockets_per_address=env.integer(
            "MAX_SOCKETS_PER_ADDRESS", 20, minimum=1, maximum=100_000
        ),
        # Proxies of ours in front of the app, whose X-Forwarded-For entries are believed
        # (imageshare/addresses.py): 0 when clients connect directly, 2 behind CloudFront
        # and the load balancer.
        trusted_proxy_hops=env.integer("TRUSTED_PROXY_HOPS", 0, minimum=0, maximum=5),
        max_upload_bytes=env.integer("MAX_UPLOAD_BYTES", 25 * 1024 * 1024, minimum=1),
        max_image_pixels=env.integer("MAX_IMAGE_PIXELS", 60_000_000, minimum=1),
        # Nodes one GraphQL operation may ask for (imageshare/graphql/cost.py).
        max_query_cost=env.integer("MAX_QUERY_COST", DEFAULT_MAX_QUERY_COST, minimum=1),
        jobs_backend=env.choice("JOBS_BACKEND", ("inline", "sqs"), "inline"),
        sqs_queue_url=env.optional_http_url("SQS_QUEUE_URL"),
        worker_concurrency=env.integer(
            "WORKER_CONCURRENCY", machine.cores(), minimum=1, maximum=64
        ),
        worker_memory_budget=env.integer(
            "WORKER_MEMORY_BUDGET", machine.default_memory_budget(), minimum=MIN_MEMORY_BUDGET
        ),
        # Long enough that a heartbeat every third of it never misses; short enough that
        # a crashed worker's job is retried soon.
        job_lease_seconds=env.integer("JOB_LEASE_SECONDS", 60, minimum=3, maximum=43_200),
        # Within the orchestrator's stop timeout (ECS: stopTimeout, infra/terraform/worker.tf).
        worker_shutdown_seconds=env.integer("WORKER_SHUTDOWN_SECONDS", 20, minimum=0),
        # How old a page's proof of its session may be when it changes something: signing
        # out elsewhere (or the session expiring) ends an open tab's powers this soon.
        session_recheck_seconds=env.integer("SESSION_RECHECK_SECONDS", 30, minimum=0, maximum=300),
    )
    _check_consistency(settings)
    if settings.is_production:
        _check_production(settings)
    return settings


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    """The RSA key of CLOUDFRONT_PRIVATE_KEY, or ValueError with a sentence. Line breaks
    may come escaped (`\\n`), as a secret pasted into one line often has them.

    Here, not beside the signer (images/cdn.py), because validating the settings needs
    it and settings import no domain."""
    try:
        key = serialization.load_pem_private_key(pem.replace("\\n", "\n").encode(), None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError(
            "CLOUDFRONT_PRIVATE_KEY must be an unencrypted RSA private key in PEM form "
            "(-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("CLOUDFRONT_PRIVATE_KEY must be an RSA key: CloudFront signs with RSA.")
    return key


def _check_consistency(s: Settings) -> None:
    if s.storage_backend == "s3" and not s.s3_bucket:
        raise SettingsError("S3_BUCKET is required when STORAGE_BACKEND is s3.")
    if s.jobs_backend == "sqs" and not s.sqs_queue_url:
        raise SettingsError("SQS_QUEUE_URL is required when JOBS_BACKEND is sqs.")
    if s.auth0_domain and "/" in s.auth0_domain:
        raise SettingsError(
            "AUTH0_DOMAIN must be a host name such as example.eu.auth0.com, not a URL."
        )
    auth0 = {
        "AUTH0_DOMAIN": s.auth0_domain,
        "AUTH0_CLIENT_ID": s.auth0_client_id,
        "AUTH0_CLIENT_SECRET": s.auth0_client_secret,
    }
    if any(auth0.values()):
        for name, value in auth0.items():
            if not value:
                others = ", ".join(n for n in auth0 if n != name)
                raise SettingsError(f"{name} is required when {others} are set.")
    signing = {
        "CLOUDFRONT_KEY_PAIR_ID": s.cloudfront_key_pair_id,
        "CLOUDFRONT_PRIVATE_KEY": s.cloudfront_private_key,
    }
    if any(signing.values()):
        for name, value in signing.items():
            if not value:
                raise SettingsError(
                    f"{name} is required: CloudFront signing needs both "
                    "CLOUDFRONT_KEY_PAIR_ID and CLOUDFRONT_PRIVATE_KEY."
                )
        if not s.cdn_base_url:
            raise SettingsError("CDN_BASE_URL is required when CloudFront signing keys are set.")
        assert s.cloudfront_private_key  # checked just above
        try:
            load_private_key(s.cloudfront_private_key)
        except ValueError as error:
            raise SettingsError(str(error)) from None


def _check_production(s: Settings) -> None:
    if s.secret_key == DEV_SECRET_KEY or len(s.secret_key) < MIN_SECRET_KEY_LENGTH:
        raise SettingsError(
            f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
            "characters in production."
        )
    for name, value in (
        ("AUTH0_DOMAIN", s.auth0_domain),
        ("AUTH0_AUDIENCE", s.auth0_audience),
    ):
        if not value:
            raise SettingsError(f"{name} is required in production (sign-in uses Auth0).")
    if s.storage_backend != "s3":
        raise SettingsError(
            "STORAGE_BACKEND must be s3 in production: local storage is lost when a task stops."
        )


class _Reader:
    """Typed reads of environment variables; every error names the variable."""

    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ

    def optional(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    # Any: the value is one of `allowed`, the Literal its Settings field declares.
    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> Any:
        value = (self.optional(name) or default).lower()
        if value not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise SettingsError(f"{name} must be at least {minimum}{upper}, not {value}.")
        return value

    def optional_url(self, name: str, schemes: tuple[str, ...]) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.hostname:
            wanted = " or ".join(f"{s}://" for s in schemes)
            raise SettingsError(f"{name} must be a URL starting with {wanted}, not {raw!r}.")
        return raw

    def optional_http_url(self, name: str, *, strip_slash: bool = True) -> str | None:
        url = self.optional_url(name, ("http", "https"))
        return url.rstrip("/") if url and strip_slash else url

    def http_url(self, name: str, default: str) -> str:
        return self.optional_http_url(name) or default

    def database_url(self, name: str) -> str:
        raw = self.optional(name)
        if raw is None:
            return f"sqlite:///{DEFAULT_DATA_DIR / 'imageshare.db'}"
        # Hosting providers hand out postgres:// URLs; SQLAlchemy needs a driver name.
        for prefix in ("postgres://", "postgresql://"):
            if raw.startswith(prefix):
                raw = "postgresql+psycopg://" + raw[len(prefix) :]
        try:
            url = make_url(raw)
        except ArgumentError:
            raise SettingsError(
                f"{name} must be a database URL such as postgresql+psycopg://user@host/db "
                "or sqlite:///path.db."
            ) from None
        if url.drivername not in ("sqlite", "postgresql+psycopg"):
            raise SettingsError(
                f"{name} must use postgresql+psycopg:// or sqlite://, not {url.drivername}://."
            )
        if url.drivername == "postgresql+psycopg" and not url.database:
            raise SettingsError(f"{name} must name a database after the host.")
        return raw
