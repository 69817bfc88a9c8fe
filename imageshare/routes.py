"""The HTTP routes served beside the Reflex app, on the same port."""

from starlette.applications import Starlette
from starlette.routing import Route

from imageshare.health import healthz


def build_api() -> Starlette:
    """A Starlette app for our routes; Reflex mounts itself inside it, so these match first."""
    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"])])
