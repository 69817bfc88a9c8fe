"""The failures a person (or an API client) is expected to meet, raised by the services.

Each carries a sentence fit to show as it is. The pages show it in a toast; the GraphQL
API turns the class into its error code. Anything else is a bug and is logged.
"""


class ServiceError(Exception):
    """An expected refusal; str(error) is the sentence for the person."""


class InvalidInput(ServiceError, ValueError):
    """What the person typed cannot be used; the message says why."""


class NotFound(ServiceError, LookupError):
    """It does not exist, or this viewer may not know that it does."""


class NotAllowed(ServiceError, PermissionError):
    """The viewer may see it but not do this to it (or must sign in first)."""
