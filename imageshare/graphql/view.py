"""/graphql on the app's own port: POST and GET (queries only), GraphiQL for a
browser, and subscriptions over WebSocket (graphql-transport-ws) on the same path.

Subscriptions also stream over plain HTTP as server-sent events (graphql-sse, a POST
with `Accept: text/event-stream`), so a script or `curl -N` can follow one without a
WebSocket client. Both ways run the same resolvers with the same identity rules."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from imageshare.auth.tokens import TokenRefused
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


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, *args: Any, app: Wiring, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app  # what every request's Context carries: the app's dependencies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
