"""Query: reading, as the viewer may. What a viewer may not see is null (one image,
one person) or simply absent (lists), exactly as on the web pages."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

# The `comments` field below shadows the module inside the class, to a type checker.
from imageshare.comments.service import PAGE_SIZE as COMMENTS_PAGE_SIZE
from imageshare.graphql.types import (
    CommentConnection,
    Image,
    ImageConnection,
    ImageFilter,
    Tag,
    User,
    comment_page,
    context,
    parse_image_id,
)
from imageshare.images import listing
from imageshare.images import service as images
from imageshare.sharing import service as sharing
from imageshare.users import service as users


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in person; null for anonymous requests.")
    async def me(self, info: Info) -> User | None:
        viewer = context(info).viewer
        if viewer.user_id is None:
            return None
        row = await context(info).loaders.users.load(viewer.user_id)
        return None if row is None else User(row=row)

    @strawberry.field
    async def user(self, info: Info, username: str) -> User | None:
        ctx = context(info)
        owner = await ctx.find(lambda db: users.by_username(db, username=username))
        return None if owner is None else User(row=owner)

    @strawberry.field(description="Null when there is none, or the viewer may not see it.")
    async def image(self, info: Info, id: strawberry.ID) -> Image | None:
        ctx = context(info)
        row = await ctx.find(
            lambda db: images.get_visible(db, viewer=ctx.viewer, image_id=parse_image_id(id))
        )
        return None if row is None else Image(row=row)

    @strawberry.field(description="The image a short link (/s/CODE) leads to, if it opens "
                      "for the viewer.")  # fmt: skip
    async def image_by_share_code(self, info: Info, code: str) -> Image | None:
        ctx = context(info)
        row = await ctx.find(lambda db: sharing.image_for_code(db, viewer=ctx.viewer, code=code))
        return None if row is None else Image(row=row)

    @strawberry.field(description="The public gallery: public, ready images, newest first.")
    async def images(
        self,
        info: Info,
        first: int = listing.PAGE_SIZE,
        after: str | None = None,
        filter: ImageFilter | None = None,
    ) -> ImageConnection:
        ctx = context(info)
        given = filter or ImageFilter()
        filters = listing.Filters.clean(
            tag=given.tag or "", location=given.location or "",
            uploader=given.uploader or "", search=given.search or "",
        )  # fmt: skip
        page = await ctx.run(
            lambda db: listing.gallery(
                db, viewer=ctx.viewer, filters=filters, after=after, limit=first
            )
        )
        return ImageConnection.of(page, ctx)

    @strawberry.field(description="An image's comments, oldest first. NOT_FOUND when the "
                      "viewer may not see the image.")  # fmt: skip
    async def comments(
        self,
        info: Info,
        image_id: strawberry.ID,
        first: int = COMMENTS_PAGE_SIZE,
        after: str | None = None,
    ) -> CommentConnection:
        return await comment_page(context(info), parse_image_id(image_id), first=first, after=after)

    @strawberry.field(description="Tags of gallery images, most used first; `prefix` "
                      "narrows them for suggestions.")  # fmt: skip
    async def tags(self, info: Info, prefix: str = "", first: int = 20) -> list[Tag]:
        ctx = context(info)
        found = await ctx.run(
            lambda db: listing.tags_in_use(db, viewer=ctx.viewer, prefix=prefix, limit=first)
        )
        return [Tag(name=t.name, image_count=t.image_count) for t in found]
