"""Health: GET /healthz (liveness) and GET /readyz (readiness).

/healthz says only that this process answers HTTP: no database, no storage, nothing
that costs anyone anything, so any caller may ask as often as it likes. The container's
HEALTHCHECK uses it (a dead or wedged process is restarted; a database outage is not
the container's fault and restarting it would not help).

/readyz runs the deep checks (a database query, the storage's check) and says whether
this instance can serve. The load balancer uses it to route around an instance that
cannot reach its database or bucket. Its answer is kept for READINESS_CACHE_SECONDS and
shared by every caller meanwhile (concurrent callers wait for the one check in flight),
so a flood of anonymous callers costs one database query and one storage call per
interval and per process, not one per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from imageshare.storage import Storage

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 5
# How long one readiness answer is reused. Short next to the load balancer's interval
# (15 s, infra/terraform/alb.tf), so a recovered database is noticed at its next probe;
# long enough that a flood of callers costs one check per interval.
READINESS_CACHE_SECONDS = 5.0


def check_database(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def check_storage(storage: Storage) -> None:
    storage.check()


def checks(engine: Engine, storage: Callable[[], Storage]) -> dict[str, Callable[[], None]]:
    """What /readyz checks: this engine, and the storage `storage()` gives (the app's,
    built on first use: in the check's thread, since building it may block)."""
    return {
        "database": lambda: check_database(engine),
        "storage": lambda: check_storage(storage()),
    }


def routes(
    checks: dict[str, Callable[[], None]], *, cache_seconds: float = READINESS_CACHE_SECONDS
) -> list[Route]:
    """The /healthz and /readyz routes, readiness over these checks (see `checks`)."""
    return [
        Route("/healthz", liveness, methods=["GET"]),
        Route("/readyz", readiness(checks, cache_seconds=cache_seconds), methods=["GET"]),
    ]


async def liveness(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def readiness(
    checks: dict[str, Callable[[], None]], *, cache_seconds: float = READINESS_CACHE_SECONDS
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The /readyz endpoint: the checks' answer, run at most once per `cache_seconds`."""
    lock = asyncio.Lock()
    cached: tuple[float, dict[str, str]] | None = None

    async def endpoint(_request: Request) -> JSONResponse:
        nonlocal cached
        async with lock:  # callers arriving during a check wait for its answer
            if cached is None or time.monotonic() - cached[0] >= cache_seconds:
                cached = (time.monotonic(), await _check_all(checks))
            body = cached[1]
        healthy = body["status"] == "ok"
        return JSONResponse(
            body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"}
        )

    return endpoint


async def _check_all(checks: dict[str, Callable[[], None]]) -> dict[str, str]:
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    healthy = all(result == "ok" for result in results)
    return {"status": "ok" if healthy else "error", **dict(zip(checks, results, strict=True))}


async def _run(name: str, check: Callable[[], None]) -> str:
    # Checks block (a socket to Postgres or S3), so they run in threads, side by side.
    try:
        await asyncio.wait_for(asyncio.to_thread(check), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        logger.warning("health check %s timed out after %ss", name, CHECK_TIMEOUT_SECONDS)
        return "error"
    except Exception:
        logger.warning("health check %s failed", name, exc_info=True)
        return "error"
    return "ok"
