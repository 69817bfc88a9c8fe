"""How the API reports a failure (imageshare/graphql/errors.py, and the error policy of
imageshare/graphql/schema.py): a service's refusal keeps its sentence and gets its code;
a bug's message is shown in development only."""

import pytest
from graphql import GraphQLError

from imageshare.auth.viewer import ANONYMOUS, Viewer
from imageshare.errors import InvalidInput, NotAllowed, NotFound, ServiceError
from imageshare.graphql import errors, schema

SIGNED_IN = Viewer(user_id=7, username="alice")
HIDDEN = "Something went wrong on our side. It has been logged; please try again."
LEAKY = 'relation "image" does not exist at /srv/app/imageshare/db.py:12'


class Throttled(ServiceError):
    """A refusal of a kind the API has no code of its own for."""


class Missing(NotFound):
    """A service's own, narrower kind of NotFound."""


@pytest.mark.parametrize(
    ("error", "viewer", "code"),
    [
        (NotFound("There is no image here."), ANONYMOUS, "NOT_FOUND"),
        (NotFound("There is no image here."), SIGNED_IN, "NOT_FOUND"),
        (Missing("That comment has already been deleted."), SIGNED_IN, "NOT_FOUND"),
        # The same refusal class: "sign in first" to a visitor, "not yours" to a person.
        (NotAllowed("Sign in to upload images."), ANONYMOUS, "UNAUTHENTICATED"),
        (NotAllowed("Only its owner can change this image."), SIGNED_IN, "FORBIDDEN"),
        (InvalidInput("A title is required."), ANONYMOUS, "INVALID_INPUT"),
        (InvalidInput("A title is required."), SIGNED_IN, "INVALID_INPUT"),
        (Throttled("Too many uploads; wait a minute."), SIGNED_IN, "BAD_REQUEST"),
    ],
)
def test_a_service_refusal_keeps_its_sentence_and_gets_its_code(error, viewer, code):
    api_error = errors.from_service(error, viewer)
    assert isinstance(api_error, GraphQLError)
    assert api_error.message == str(error)
    assert api_error.extensions == {"code": code}
    assert api_error.code == code


def test_api_error_carries_extra_extensions_beside_its_code():
    error = errors.ApiError(
        "You already uploaded this image.", errors.DUPLICATE_UPLOAD, imageId="x"
    )
    assert error.extensions == {"code": "DUPLICATE_UPLOAD", "imageId": "x"}
    assert error.message == "You already uploaded this image."


# The mode is an argument (the app's settings decide it where the app is assembled):
# no environment or module state to set.
DEVELOPMENT, PRODUCTION = False, True


def test_development_shows_a_bugs_message():
    api_error = errors.internal(RuntimeError(LEAKY), production=DEVELOPMENT)
    assert api_error.message == LEAKY
    assert api_error.code == "INTERNAL_SERVER_ERROR"


def test_production_hides_a_bugs_message():
    api_error = errors.internal(RuntimeError(LEAKY), production=PRODUCTION)
    assert api_error.message == HIDDEN
    assert api_error.code == "INTERNAL_SERVER_ERROR"
    assert "relation" not in str(api_error.formatted)


@pytest.mark.parametrize("production", [DEVELOPMENT, PRODUCTION])
def test_a_refusal_passes_the_error_policy_unchanged_in_either_mode(production):
    refusal = errors.from_service(NotFound("There is no image here."), ANONYMOUS)
    assert schema._policed(refusal, production) is refusal


def test_the_error_policy_hides_a_resolvers_crash_in_production():
    crash = GraphQLError(LEAKY, path=["image", "title"], original_error=KeyError("title"))
    policed = schema._policed(crash, PRODUCTION)
    assert (policed.message, policed.extensions) == (HIDDEN, {"code": "INTERNAL_SERVER_ERROR"})
    assert policed.path == ["image", "title"]
    assert policed.original_error is None  # nothing left that a formatter could leak


def test_the_error_policy_shows_a_resolvers_crash_in_development():
    policed = schema._policed(GraphQLError(LEAKY, path=["image"]), DEVELOPMENT)
    assert (policed.message, policed.extensions) == (LEAKY, {"code": "INTERNAL_SERVER_ERROR"})


@pytest.mark.parametrize("production", [DEVELOPMENT, PRODUCTION])
def test_a_document_the_server_refused_is_a_bad_request_with_its_message(production):
    # No path: raised before any field ran (syntax, validation, limits): the message is
    # about the client's own document, so it is shown even in production.
    policed = schema._policed(GraphQLError("Syntax Error: Expected Name, found <EOF>."), production)
    assert policed.message == "Syntax Error: Expected Name, found <EOF>."
    assert policed.extensions == {"code": "BAD_REQUEST"}
