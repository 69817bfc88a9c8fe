"""GET /healthz: can this instance serve? Used by the load balancer and the container."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from imageshare.db import get_engine
from imageshare.storage import get_storage

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 5


def check_database() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def check_storage() -> None:
    get_storage().check()


CHECKS: dict[str, Callable[[], None]] = {"database": check_database, "storage": check_storage}


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


async def healthz(_request: Request) -> JSONResponse:
    results = await asyncio.gather(*(_run(name, check) for name, check in CHECKS.items()))
    body = dict(zip(CHECKS, results, strict=True))
    healthy = all(result == "ok" for result in results)
    return JSONResponse(
        {"status": "ok" if healthy else "error", **body},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )
