"""The schema: Query, Mutation and Subscription with the limits and error policy.

`python -m imageshare.graphql.schema` prints it in SDL; docs/schema.graphql is that
output, and a test fails when the two differ.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

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
from imageshare.graphql.mutations import Mutation
from imageshare.graphql.queries import Query
from imageshare.graphql.subscriptions import Subscription
from imageshare.settings import get_settings

logger = logging.getLogger(__name__)


class ErrorPolicy(SchemaExtension):
    """Every error leaves with a code. Expected ones (ApiError) go as they are; the
    document's own faults are BAD_REQUEST; anything else is a bug: INTERNAL_SERVER_ERROR,
    its message (which may hold SQL or paths) shown in development only."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            result.errors = [_policed(error) for error in result.errors]


def _policed(error: GraphQLError) -> GraphQLError:
    if (error.extensions or {}).get("code"):
        return error
    if error.path is None:
        # Raised before any field ran: syntax, validation, limits, variable values.
        code, message = errors.BAD_REQUEST, error.message
    else:
        code = errors.INTERNAL_SERVER_ERROR
        message = (
            error.message
            if not get_settings().is_production
            else "Something went wrong on our side. It has been logged; please try again."
        )
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions,
        path=error.path, original_error=None, extensions={**(error.extensions or {}), "code": code},
    )  # fmt: skip


class Schema(strawberry.Schema):
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
        ErrorPolicy,
    ],
)


if __name__ == "__main__":
    print(schema.as_str())
