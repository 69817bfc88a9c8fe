"""What one request may ask for. A GraphQL document can describe an enormous amount of
work in a few bytes, so each dimension has a ceiling; going over it is refused before
any resolver runs, with a sentence that names the limit.

- depth of nested selections: MAX_DEPTH;
- aliases: MAX_ALIASES (`a1: images … a500: images` is one way to multiply work);
- root fields per operation: MAX_ROOT_FIELDS;
- tokens in the document: MAX_TOKENS;
- the request body: MAX_BODY_BYTES, or the upload limit plus room for the form's
  other parts for a multipart upload;
- page sizes (`first`): paging.MAX_PAGE_SIZE, refused by the services themselves
  (pages and the API say the same thing).
"""

from __future__ import annotations

import json

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imageshare.graphql import errors

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_ROOT_FIELDS = 10
MAX_TOKENS = 5000
MAX_BODY_BYTES = 256 * 1024
# Besides the file: the `operations` and `map` parts and multipart framing.
MULTIPART_OVERHEAD_BYTES = 256 * 1024


class RootFieldLimit(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
        count = self._fields(node.selection_set, frozenset())
        if count > MAX_ROOT_FIELDS:
            self.report_error(
                GraphQLError(
                    f"An operation may ask for at most {MAX_ROOT_FIELDS} root fields; "
                    f"this one asks for {count}.",
                    node,
                )
            )

    def _fields(self, selection_set: SelectionSetNode, seen: frozenset[str]) -> int:
        """Root fields as executed: fragments (`{ ...F }`, `... on Query {}`) counted
        for what they hold. `seen` stops a fragment that spreads itself."""
        count = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                count += 1
            elif isinstance(selection, InlineFragmentNode):
                count += self._fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:
                    count += self._fields(fragment.selection_set, seen | {name})
        return count


class BodyLimit:
    """Refuses a request body over its limit with 413, before it is all read: at once
    from Content-Length when the client sends one, else as soon as the bytes pass it."""

    def __init__(self, app: ASGIApp, *, upload_limit: int):
        self.app = app
        self.upload_limit = upload_limit + MULTIPART_OVERHEAD_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.upload_limit if multipart else MAX_BODY_BYTES
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    what = "an upload" if limit > MAX_BODY_BYTES else "a request"
    body = json.dumps(
        {
            "errors": [
                {
                    "message": f"The request body is larger than the {limit // 1024:,} KB "
                    f"allowed for {what}.",
                    "extensions": {"code": errors.BAD_REQUEST},
                }
            ]
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
        }
    )  # fmt: skip
    await send({"type": "http.response.body", "body": body})
