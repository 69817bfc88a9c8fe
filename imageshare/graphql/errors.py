"""How the API reports expected failures: a GraphQL error whose `extensions.code`
says what kind, and whose message is the services' sentence, fit to show a person.

The codes (docs/api.md lists them):
- NOT_FOUND: it does not exist, or this viewer may not know that it does;
- UNAUTHENTICATED: the request carries no identity and this needs one;
- FORBIDDEN: the viewer may see it but not do this to it;
- INVALID_INPUT: an argument cannot be used (the message says why);
- DUPLICATE_UPLOAD: the viewer already has these exact bytes (`extensions.imageId`);
- BAD_REQUEST: the document itself was refused (syntax, validation, limits);
- QUERY_TOO_COSTLY: it could return more nodes than MAX_QUERY_COST allows
  (`extensions.cost`, `extensions.maxCost`; see graphql/cost.py);
- TOO_MANY_SUBSCRIPTIONS: the connection has MAX_SUBSCRIPTIONS_PER_SOCKET open already;
- TOO_MANY_CONNECTIONS: the address has MAX_SOCKETS_PER_ADDRESS sockets and event
  streams open already (HTTP 429; a WebSocket is closed with code 4429);
- INTERNAL_SERVER_ERROR: a bug on our side; logged, and described only in development.
"""

from __future__ import annotations

from graphql import GraphQLError

from imageshare.auth.viewer import Viewer
from imageshare.errors import InvalidInput, NotAllowed, NotFound, ServiceError

NOT_FOUND = "NOT_FOUND"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
INVALID_INPUT = "INVALID_INPUT"
DUPLICATE_UPLOAD = "DUPLICATE_UPLOAD"
BAD_REQUEST = "BAD_REQUEST"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class ApiError(GraphQLError):
    """An expected failure, reported to the client as it is."""

    def __init__(self, message: str, code: str, **extensions: object):
        super().__init__(message, extensions={"code": code, **extensions})

    @property
    def code(self) -> str:
        code: str = (self.extensions or {})["code"]  # set by __init__
        return code


def internal(error: BaseException, *, production: bool) -> ApiError:
    """A bug's error for the client: its message in development only, since it may hold
    SQL, paths or data (the log has it in full)."""
    message = (
        str(error)
        if not production
        else "Something went wrong on our side. It has been logged; please try again."
    )
    return ApiError(message, INTERNAL_SERVER_ERROR)


def from_service(error: ServiceError, viewer: Viewer) -> ApiError:
    """The API's form of a service's refusal."""
    if isinstance(error, NotFound):
        code = NOT_FOUND
    elif isinstance(error, NotAllowed):
        # The services say "sign in to …" to anonymous viewers with the same class.
        code = UNAUTHENTICATED if viewer.is_anonymous else FORBIDDEN
    elif isinstance(error, InvalidInput):
        code = INVALID_INPUT
    else:
        code = BAD_REQUEST
    return ApiError(str(error), code)
