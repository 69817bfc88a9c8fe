"""The HTTP routes served beside the Reflex app, on the same port."""

import asyncio

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from imageshare import health
from imageshare.auth.cookies import RenewSessionCookie
from imageshare.auth.routes import build_auth_app
from imageshare.graphql.view import graphql_routes
from imageshare.images.media import serve_media
from imageshare.security_headers import SecurityHeaders
from imageshare.sharing.routes import follow_share_link
from imageshare.wiring import Wiring


def build_api(app: Wiring) -> Starlette:
    """A Starlette app for our routes; Reflex mounts itself inside it, so these match first.
    Every route gets what it needs from `app`, the wiring the app was assembled with."""
    settings = app.settings

    # Storage is built on first use, which may block (credentials): in a thread.
    async def media(request: Request) -> Response:
        storage = await asyncio.to_thread(lambda: app.storage)
        return await serve_media(request, storage=storage, sessions=app.session)

    async def share_link(request: Request) -> Response:
        urls = await asyncio.to_thread(lambda: app.media)
        return await follow_share_link(request, db_sessions=app.session, media=urls)

    return Starlette(
        routes=[
            *health.routes(health.checks(app.engine, lambda: app.storage)),
            Mount(
                "/auth",
                app=build_auth_app(settings, run=app.run, oidc_client=app.oidc_client),
            ),
            Route("/media/{key:path}", media, methods=["GET", "HEAD"]),
            Route("/s/{code}", share_link, methods=["GET", "HEAD"]),
            *graphql_routes(app),
        ],
        middleware=[
            Middleware(SecurityHeaders, settings=settings),
            Middleware(RenewSessionCookie, settings=settings),
        ],
    )
