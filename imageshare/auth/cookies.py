"""The session cookie: set at sign-in, cleared at sign-out, renewed on page loads."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imageshare.auth.sessions import COOKIE_NAME, LIFETIME, token_from_cookie_header
from imageshare.settings import Settings

MAX_AGE = int(LIFETIME.total_seconds())


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        # Secure in production (HTTPS only); development runs on plain http://localhost.
        secure=settings.is_production,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, secure=settings.is_production, samesite="lax"
    )


class RenewSessionCookie:
    """On every full page load, send the session cookie back with a fresh Max-Age.

    The session slides in the database as it is used; this keeps the browser's copy
    from expiring 14 days after sign-in while the person is still active. It costs
    no query: a cookie whose session has ended is refused wherever it is read.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_page_load(scope):
            await self.app(scope, receive, send)
            return
        cookie_header = _header(scope, b"cookie")
        token = token_from_cookie_header(cookie_header)
        if token is None:
            await self.app(scope, receive, send)
            return

        async def renew(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                response = Response()
                set_session_cookie(response, token, self.settings)
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", response.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, renew)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _is_page_load(scope: Scope) -> bool:
    # A top-level navigation, not an asset, API call or the sign-in routes themselves.
    return (
        scope["method"] == "GET"
        and _header(scope, b"sec-fetch-dest") == "document"
        and not scope["path"].startswith("/auth/")
    )
