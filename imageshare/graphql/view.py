"""/graphql on the app's own port: POST and GET (queries only), GraphiQL for a
browser, and subscriptions over WebSocket (graphql-transport-ws) on the same path.

Subscriptions also stream over plain HTTP as server-sent events (graphql-sse, a POST
with `Accept: text/event-stream`), so a script or `curl -N` can follow one without a
WebSocket client. Both ways run the same resolvers with the same identity rules.

Live connections are admitted in bounded numbers: at most MAX_SOCKETS_PER_ADDRESS
WebSockets and event streams open at once from one client address (past it, a WebSocket
is closed with code 4429 and an event stream answered 429, each with a sentence), and at
most MAX_SUBSCRIPTIONS_PER_SOCKET subscriptions on one WebSocket (subscriptions.py).

The address is the client's as imageshare/addresses.py reads it: the connection's peer,
or behind TRUSTED_PROXY_HOPS proxies (CloudFront and the load balancer in production)
the address the outermost of them saw, from X-Forwarded-For."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from imageshare.addresses import client_address
from imageshare.auth.tokens import TokenRefused
from imageshare.graphql import errors
from imageshare.graphql.context import (
    Context,
    RequestRefused,
    viewer_by_header,
    viewer_for_request,
    viewer_from_cookie,
)
from imageshare.graphql.limits import BodyLimit
from imageshare.graphql.schema import schema
from imageshare.wiring import Wiring

# The WebSocket close code for "too many connections": 4000 + HTTP's 429.
CLOSE_TOO_MANY = 4429


class OpenSockets:
    """How many WebSockets and event streams each client address has open, held to
    `limit`. Thread-safe, though the app serves them all from one event loop."""

    def __init__(self, limit: int):
        self.limit = limit
        self._lock = threading.Lock()
        self._open: Counter[str] = Counter()

    def take(self, address: str) -> bool:
        with self._lock:
            if self._open[address] >= self.limit:
                return False
            self._open[address] += 1
            return True

    def give_back(self, address: str) -> None:
        with self._lock:
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]

    def refusal(self) -> str:
        # At most 123 bytes: it is also a WebSocket close reason.
        return (
            f"Too many open connections from your address (at most {self.limit} sockets "
            "and event streams): close one first."
        )


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, *args: Any, app: Wiring, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app  # what every request's Context carries: the app's dependencies
        self.sockets = OpenSockets(app.settings.max_sockets_per_address)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _lives_on(scope):
            await self._answer(scope, receive, send)
            return
        address = client_address(scope, trusted_proxy_hops=self.app.settings.trusted_proxy_hops)
        if not self.sockets.take(address):
            await self._refuse(scope, receive, send)
            return
        try:
            await self._answer(scope, receive, send)
        finally:
            self.sockets.give_back(address)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = self.sockets.refusal()
        if scope["type"] == "websocket":
            # Accepted to be closed at once: a handshake refused outright tells the
            # client nothing, a close frame carries the code and the sentence.
            offered = scope.get("subprotocols") or []
            websocket = WebSocket(scope, receive, send)
            await websocket.accept(
                subprotocol=GRAPHQL_TRANSPORT_WS_PROTOCOL
                if GRAPHQL_TRANSPORT_WS_PROTOCOL in offered
                else None
            )
            await websocket.close(code=CLOSE_TOO_MANY, reason=message)
            return
        code = errors.TOO_MANY_CONNECTIONS
        response = JSONResponse(
            {"errors": [{"message": message, "extensions": {"code": code}}]},
            status_code=429,
        )
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except RequestRefused as refused:
            response = JSONResponse(
                {"errors": [{"message": refused.message, "extensions": {"code": refused.code}}]},
                status_code=refused.status,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
                if refused.status == 401
                else None,
            )
            await response(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if isinstance(request, WebSocket):
            # Strawberry has refused handshakes from other sites' pages by now, so the
            # cookie can be trusted; a `connection_init` token replaces it (on_ws_connect).
            return Context(
                viewer=await viewer_from_cookie(request, self.app),
                app=self.app,
                prove=lambda: viewer_from_cookie(request, self.app),
            )
        context = Context(
            viewer=await viewer_for_request(request, method=request.method, app=self.app),
            app=self.app,
        )
        if "text/event-stream" in request.headers.get("accept", ""):
            # A subscription as server-sent events lives on: it proves itself again.
            context.prove = lambda: viewer_for_request(request, method=request.method, app=self.app)
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType:
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if authorization:
            header = str(authorization)
            try:
                context.viewer = await viewer_by_header(header, self.app)
            except TokenRefused as refused:
                raise ConnectionRejectionError({"message": str(refused)}) from None
            context.prove, context.proved_at = (
                lambda: viewer_by_header(header, self.app),
                time.monotonic(),
            )
        unset: UnsetType = UNSET  # typed Any by strawberry
        return unset


def _lives_on(scope: Scope) -> bool:
    """A WebSocket, or a subscription as server-sent events: a connection that stays."""
    if scope["type"] == "websocket":
        return True
    return "text/event-stream" in Headers(scope=scope).get("accept", "")


def graphql_routes(app: Wiring) -> list[BaseRoute]:
    """/graphql over `app`, the wiring the app was assembled with."""
    settings = app.settings
    view = GraphQLView(
        schema,
        app=app,
        graphql_ide="graphiql",
        multipart_uploads_enabled=True,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL],
        keep_alive=True,
        keep_alive_interval=25,
        allowed_origins=[settings.public_url],
    )
    http = BodyLimit(view, upload_limit=settings.max_upload_bytes)
    return [
        Route("/graphql", http, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
    ]
