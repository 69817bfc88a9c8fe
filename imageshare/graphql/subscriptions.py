"""Subscription: live events over WebSocket (graphql-transport-ws).

Events carry ids only (imageshare/events.py). Each one is read again through the
services for this subscriber, so a subscription never shows more than a query made at
that moment would: a comment on an image that has since become private is not sent.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from imageshare.comments import service as comments
from imageshare.errors import NotAllowed
from imageshare.events import GALLERY_TOPIC, Event, image_topic, owner_topic
from imageshare.graphql import errors
from imageshare.graphql.context import RECHECK_SECONDS, Context
from imageshare.graphql.types import Comment, DeletedComment, Image, context, parse_image_id
from imageshare.images import service as images
from imageshare.images import visibility
from imageshare.images.kinds import JOINED_GALLERY, STATUS_CHANGED

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


def _guarded(
    resolver: Callable[..., AsyncGenerator[_T, None]],
) -> Callable[..., AsyncGenerator[_T, None]]:
    """A subscription whose event loop fails ends with INTERNAL_SERVER_ERROR (its detail
    in the log), never with the exception's own text, which may hold SQL or paths; and
    one past MAX_SUBSCRIPTIONS_PER_SOCKET on its connection ends at once with
    TOO_MANY_SUBSCRIPTIONS."""

    @functools.wraps(resolver)
    async def guarded(*args: Any, **kwargs: Any) -> AsyncGenerator[_T, None]:
        info = kwargs.get("info") or next(a for a in args if isinstance(a, Info))
        ctx = context(info)
        limit = ctx.app.settings.max_subscriptions_per_socket
        if ctx.open_subscriptions >= limit:
            raise errors.ApiError(
                f"This connection already has {limit} subscriptions open, the most one "
                "connection may have: complete one before starting another.",
                errors.TOO_MANY_SUBSCRIPTIONS,
            )
        ctx.open_subscriptions += 1
        events = resolver(*args, **kwargs)
        try:
            async for item in events:
                yield item
        except GraphQLError:
            raise
        except Exception as error:
            logger.error("subscription %s failed", resolver.__name__, exc_info=error)
            production = ctx.app.settings.is_production
            raise errors.internal(error, production=production) from None
        finally:
            ctx.open_subscriptions -= 1
            await events.aclose()

    return guarded


async def _events(ctx: Context, topic: str, kind: str) -> AsyncGenerator[Event, None]:
    async with ctx.app.events.subscribe(topic) as subscription:
        while True:
            event = await subscription.next()
            if event is not None and event.kind == kind:
                if not await ctx.still_signed_in(max_age=RECHECK_SECONDS):
                    raise errors.ApiError(
                        "Your access token was revoked or your session ended: sign in "
                        "again and subscribe anew.",
                        errors.UNAUTHENTICATED,
                    )
                ctx.forget_loaded()
                yield event


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Comments added to an image the viewer may see.")
    @_guarded
    async def comment_added(
        self, info: Info, image_id: strawberry.ID
    ) -> AsyncGenerator[Comment, None]:
        ctx, target = context(info), parse_image_id(image_id)
        await ctx.run(lambda db: images.get_visible(db, viewer=ctx.viewer, image_id=target))
        async for event in _events(ctx, image_topic(target), comments.ADDED):
            view = await ctx.find(
                functools.partial(
                    comments.get_comment, viewer=ctx.viewer, comment_id=event.data["comment_id"]
                )
            )
            if view is not None:
                yield Comment(view=view)

    @strawberry.subscription(description="Comments deleted from an image the viewer may see.")
    @_guarded
    async def comment_deleted(
        self, info: Info, image_id: strawberry.ID
    ) -> AsyncGenerator[DeletedComment, None]:
        ctx, target = context(info), parse_image_id(image_id)
        await ctx.run(lambda db: images.get_visible(db, viewer=ctx.viewer, image_id=target))
        async for event in _events(ctx, image_topic(target), comments.DELETED):
            still_visible = await ctx.find(
                lambda db: images.get_visible(db, viewer=ctx.viewer, image_id=target)
            )
            if still_visible is not None:
                yield DeletedComment(
                    id=strawberry.ID(str(event.data["comment_id"])), image_id=image_id
                )

    @strawberry.subscription(description="The viewer's own uploads finishing processing: "
                             "READY or FAILED.")  # fmt: skip
    @_guarded
    async def image_status_changed(self, info: Info) -> AsyncGenerator[Image, None]:
        ctx = context(info)
        if ctx.viewer.user_id is None:
            raise errors.from_service(NotAllowed("Sign in to follow your uploads."), ctx.viewer)
        async for event in _events(ctx, owner_topic(ctx.viewer.user_id), STATUS_CHANGED):
            image = await _visible(ctx, event)
            if image is not None:
                yield image

    @strawberry.subscription(description="Images joining the public gallery: new public "
                             "uploads once ready, and images made public.")  # fmt: skip
    @_guarded
    async def image_added(self, info: Info) -> AsyncGenerator[Image, None]:
        ctx = context(info)
        async for event in _events(ctx, GALLERY_TOPIC, JOINED_GALLERY):
            image = await _visible(ctx, event)
            if image is not None and visibility.is_listed(image.row):
                yield image


async def _visible(ctx: Context, event: Event) -> Image | None:
    target = parse_image_id(event.data["image_id"])
    row = await ctx.find(lambda db: images.get_visible(db, viewer=ctx.viewer, image_id=target))
    return None if row is None else Image(row=row)
