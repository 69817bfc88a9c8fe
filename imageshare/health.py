"""GET /healthz: can this instance serve? Used by the load balancer and the container."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse

from imageshare.storage import Storage

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 5


def check_database(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def check_storage(storage: Storage) -> None:
    storage.check()


def checks(engine: Engine, storage: Callable[[], Storage]) -> dict[str, Callable[[], None]]:
    """What /healthz checks: this engine, and the storage `storage()` gives (the app's,
    built on first use: in the check's thread, since building it may block)."""
    return {
        "database": lambda: check_database(engine),
        "storage": lambda: check_storage(storage()),
    }


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


def healthz(
    checks: dict[str, Callable[[], None]],
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The /healthz endpoint over these checks (see `checks`)."""

    async def endpoint(_request: Request) -> JSONResponse:
        return await _answer(checks)

    return endpoint


async def _answer(checks: dict[str, Callable[[], None]]) -> JSONResponse:
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    body = dict(zip(checks, results, strict=True))
    healthy = all(result == "ok" for result in results)
    return JSONResponse(
        {"status": "ok" if healthy else "error", **body},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )
