"""The schema: Query, Mutation and Subscription with the limits and error policy.

`python -m imageshare.graphql.schema` prints it in SDL; docs/schema.graphql is that
output, and a test fails when the two differ.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types import ExecutionContext

from imageshare.graphql import errors, limits
from imageshare.graphql.context import FRESH_SECONDS, Context
from imageshare.graphql.cost import QueryCost
from imageshare.graphql.mutations import Mutation
from imageshare.graphql.queries import Query
from imageshare.graphql.subscriptions import Subscription

logger = logging.getLogger(__name__)


class SignedInStill(SchemaExtension):
    """Each operation on a long-lived connection first proves the connection's identity
    again (graphql/context.py): a token revoked or a session ended since it opened
    leaves the operation anonymous."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            await context.still_signed_in(max_age=FRESH_SECONDS)
        yield


class ErrorPolicy(SchemaExtension):
    """Every error leaves with a code. Expected ones (ApiError) go as they are; the
    document's own faults are BAD_REQUEST; anything else is a bug: INTERNAL_SERVER_ERROR,
    its message (which may hold SQL or paths) shown in development only."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and (found := getattr(result, "errors", None)):
            production = _in_production(self.execution_context.context)
            result.errors = [_policed(error, production) for error in found]


def _in_production(context: object) -> bool:
    """Whether the app serving this operation runs in production (when it cannot be
    told, it is taken to: the detail is then only hidden, never shown wrongly)."""
    return not isinstance(context, Context) or context.app.settings.is_production


def _policed(error: GraphQLError, production: bool) -> GraphQLError:
    if (error.extensions or {}).get("code"):
        return error
    if error.path is None:
        # Raised before any field ran: syntax, validation, limits, variable values.
        code, message = errors.BAD_REQUEST, error.message
    else:
        code = errors.INTERNAL_SERVER_ERROR
        message = errors.internal(error, production=production).message
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions,
        path=error.path, original_error=None, extensions={**(error.extensions or {}), "code": code},
    )  # fmt: skip


class Schema(strawberry.Schema):
    async def stream(
        self,
        query: Any,
        variable_values: Any = None,
        context_value: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Subscriptions (WebSocket and server-sent events) stream their results past
        the extensions: each result is policed here as ErrorPolicy polices the rest."""
        source = await super().stream(query, variable_values, context_value, *args, **kwargs)
        if not hasattr(source, "__aiter__"):
            return source
        production = _in_production(context_value)

        async def policed() -> AsyncIterator[Any]:
            try:
                async for result in source:
                    if found := getattr(result, "errors", None):
                        # Only results with errors get here (getattr above).
                        result.errors = [_policed(e, production) for e in found]  # type: ignore[union-attr]
                    yield result
            finally:
                await source.aclose()

        return policed()

    def process_errors(
        self, errors_: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected refusals and bad documents are the client's business; bugs are ours.
        for error in errors_:
            original = error.original_error
            if original is not None and not isinstance(original, GraphQLError):
                logger.error("GraphQL resolver failed at %s", error.path, exc_info=original)


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        lambda: QueryDepthLimiter(max_depth=limits.MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=limits.MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=limits.MAX_TOKENS),
        lambda: AddValidationRules([limits.RootFieldLimit]),
        QueryCost,
        SignedInStill,
        ErrorPolicy,
    ],
)


if __name__ == "__main__":
    print(schema.as_str())
