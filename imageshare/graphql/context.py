"""Who is asking, per request or WebSocket connection, and the request's DataLoaders.

Identity, in order: an `Authorization: Bearer` header (HTTP) or `connection_init`
payload (WebSocket); else the browser's session cookie; else anonymous.

The cookie is sent by the browser on its own, so a page on another site could make a
signed-in visitor's browser post to us (CSRF). A cookie therefore only counts on a POST
that proves it comes from this site: an `Origin` header naming this site (browsers add
it to every POST and scripts cannot forge it). WebSocket handshakes from other sites
are refused by Strawberry's own Origin check before any of this runs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from sqlmodel import Session
from starlette.requests import HTTPConnection

from imageshare.auth import sessions
from imageshare.auth.bearer import viewer_for_authorization
from imageshare.auth.tokens import TokenRefused
from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.errors import ServiceError
from imageshare.graphql import errors
from imageshare.graphql.loaders import Loaders

if TYPE_CHECKING:
    from imageshare.wiring import Wiring

T = TypeVar("T")


class RequestRefused(Exception):
    """The request cannot be answered at all (HTTP 401/403), with a sentence why."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# A long-lived connection proves its identity again this often while events flow.
RECHECK_SECONDS = 30.0
# ... and before each operation sent over it, unless it was proved this recently.
FRESH_SECONDS = 1.0


@dataclass
class Context:
    viewer: Viewer
    # The app's dependencies (wiring.py), which the GraphQL view was built with.
    app: Wiring
    loaders: Loaders = field(init=False)
    # Set by Strawberry to the `connection_init` payload of a WebSocket connection.
    connection_params: dict[str, Any] | None = None
    # How a long-lived connection (WebSocket, server-sent events) proves who it is
    # again, so a revoked token or an ended session stops counting on it as it does
    # on the next HTTP request. None for plain requests: they prove it every time.
    prove: Callable[[], Awaitable[Viewer]] | None = None
    proved_at: float = field(default_factory=time.monotonic)
    # The proof failed once: the connection is anonymous for good.
    lost_sign_in: bool = False
    # The cost (graphql/cost.py) of the operation accepted last on this request or
    # connection, set before its resolvers run: what a per-caller rate limit charges.
    query_cost: int | None = None
    # Subscriptions running on this connection (one context per WebSocket), held to
    # MAX_SUBSCRIPTIONS_PER_SOCKET.
    open_subscriptions: int = 0

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.app.run, self.viewer)

    async def still_signed_in(self, *, max_age: float) -> bool:
        """Whether the connection still speaks for its viewer; if not, it is anonymous
        from now on. Asked again only when the last proof is older than `max_age`."""
        if self.lost_sign_in:
            return False
        if self.prove is None or self.viewer.is_anonymous:
            return True
        if time.monotonic() - self.proved_at < max_age:
            return True
        try:
            now = await self.prove()
        except (TokenRefused, RequestRefused):
            now = ANONYMOUS
        self.proved_at = time.monotonic()
        if now.user_id != self.viewer.user_id:
            self.viewer, self.lost_sign_in = ANONYMOUS, True
            self.loaders = Loaders(self.app.run, ANONYMOUS)
            return False
        return True

    async def run(self, work: Callable[[Session], T]) -> T:
        """A service call from a resolver: in a worker thread, in one transaction, with
        the services' refusals turned into the API's errors."""
        try:
            return await self.app.run(work)
        except ServiceError as error:
            raise errors.from_service(error, self.viewer) from None

    async def find(self, work: Callable[[Session], T]) -> T | None:
        """A look-up where "not there" is an answer: None instead of NOT_FOUND."""
        try:
            return await self.run(work)
        except errors.ApiError as error:
            if error.code == errors.NOT_FOUND:
                return None
            raise

    def forget_loaded(self) -> None:
        """A subscription's next event must not be answered from an earlier one's cache."""
        self.loaders = Loaders(self.app.run, self.viewer)


async def viewer_for_request(request: HTTPConnection, *, method: str, app: Wiring) -> Viewer:
    authorization = request.headers.get("authorization")
    if authorization:
        try:
            return await viewer_by_header(authorization, app)
        except TokenRefused as refused:
            raise RequestRefused(401, errors.UNAUTHENTICATED, str(refused)) from None
    if not _session_token(request):
        return ANONYMOUS
    if method == "POST" and not comes_from_this_site(request, public_url=app.settings.public_url):
        raise RequestRefused(
            403,
            errors.FORBIDDEN,
            "A request signed in with the browser's session cookie must come from this "
            "site (an Origin header for it). Scripts should use an access token instead.",
        )
    return await viewer_from_cookie(request, app)


def viewer_by_header(authorization: str, app: Wiring) -> Awaitable[Viewer]:
    """The Viewer of an Authorization header, checked with this app's verifier."""
    return viewer_for_authorization(authorization, run=app.run, verifier=app.token_verifier)


async def viewer_from_cookie(request: HTTPConnection, app: Wiring) -> Viewer:
    token = _session_token(request)
    if not token:
        return ANONYMOUS
    return await app.run(lambda db: sessions.viewer_for_token(db, token=token))


def _session_token(request: HTTPConnection) -> str | None:
    # Read as the pages and short links read it (tolerant of other sites' cookies).
    return sessions.token_from_cookie_header(request.headers.get("cookie"))


def comes_from_this_site(request: HTTPConnection, *, public_url: str) -> bool:
    origin = request.headers.get("origin")
    if not origin:
        return False
    own = {_origin(public_url), _origin(str(request.base_url))}
    return _origin(origin) in own


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
