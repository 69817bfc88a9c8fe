"""The HTTP routes served beside the Reflex app, on the same port."""

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from imageshare.auth.cookies import RenewSessionCookie
from imageshare.auth.routes import build_auth_app
from imageshare.graphql.view import graphql_routes
from imageshare.health import healthz
from imageshare.images.media import serve_media
from imageshare.settings import get_settings
from imageshare.sharing.routes import follow_share_link


def build_api() -> Starlette:
    """A Starlette app for our routes; Reflex mounts itself inside it, so these match first."""
    settings = get_settings()
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Mount("/auth", app=build_auth_app(settings)),
            Route("/media/{key:path}", serve_media, methods=["GET", "HEAD"]),
            Route("/s/{code}", follow_share_link, methods=["GET", "HEAD"]),
            *graphql_routes(settings),
        ],
        middleware=[Middleware(RenewSessionCookie, settings=settings)],
    )
