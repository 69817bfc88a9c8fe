"""The API's types: thin views of the domain objects the services return.

An Image object is only ever made from an image a service handed out for this viewer,
so its fields need no checks of their own, except the owner-only ones, which ask
the same question the image page asks.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info

from imageshare.comments import service as comments
from imageshare.comments.service import CommentView
from imageshare.graphql import errors
from imageshare.images import listing, visibility
from imageshare.images import service as images
from imageshare.images.kinds import RenditionName, Status
from imageshare.images.kinds import Visibility as VisibilityKind
from imageshare.images.listing import ImagePage
from imageshare.images.models import Image as ImageRow
from imageshare.links import profile_href
from imageshare.paging import Page
from imageshare.sharing import service as sharing
from imageshare.users.models import User as UserRow

if TYPE_CHECKING:
    from imageshare.graphql.context import Context

Visibility = strawberry.enum(VisibilityKind, description="Who can see an image.")
Rendition = strawberry.enum(
    RenditionName,
    description="A WebP rendition by its longest edge: THUMB 300, MEDIUM 1024, LARGE 2048 "
    "pixels. A smaller source has fewer; the largest one it has stands in.",
)


@strawberry.enum(description="Where an upload is: processing, then ready or failed.")
class ImageStatus(enum.Enum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


def parse_image_id(value: str) -> uuid.UUID:
    """An image ID argument; one that cannot be an image's is NOT_FOUND like any other."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise errors.ApiError("There is no image here.", errors.NOT_FOUND) from None


def context(info: Info) -> Context:
    ctx: Context = info.context
    return ctx


@strawberry.type(description="Shooting data read from the file's EXIF, when it had any.")
class Camera:
    taken_at: datetime | None
    make: str | None
    model: str | None
    lens: str | None
    exposure_time: str | None = strawberry.field(description='For example "1/250".')
    aperture: float | None = strawberry.field(description="The f-number.")
    iso: int | None
    focal_length: float | None = strawberry.field(description="In millimetres.")


@strawberry.type(description="A person. Their images list what the viewer may see.")
class User:
    row: strawberry.Private[UserRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def username(self) -> str:
        return self.row.username

    @strawberry.field
    def display_name(self) -> str:
        return self.row.display_name

    @strawberry.field
    def avatar_url(self) -> str | None:
        return self.row.avatar_url

    @strawberry.field(description="The profile page.")
    def profile_url(self) -> str:
        return profile_href(self.row.username)

    @strawberry.field(
        description="Newest first: every image to its owner (any status), the public, "
        "ready ones to everyone else."
    )
    async def images(
        self, info: Info, first: int = listing.PAGE_SIZE, after: str | None = None
    ) -> ImageConnection:
        ctx, owner = context(info), self.row
        page = await ctx.run(
            lambda db: listing.of_owner(
                db, viewer=ctx.viewer, owner=owner, after=after, limit=first
            )
        )
        return ImageConnection.of(page, ctx)

    @strawberry.field(description="How many images `images` lists in all.")
    async def image_count(self, info: Info) -> int:
        ctx, owner = context(info), self.row
        return await ctx.run(lambda db: listing.count_of_owner(db, viewer=ctx.viewer, owner=owner))


@strawberry.type
class Image:
    row: strawberry.Private[ImageRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def description(self) -> str:
        return self.row.description

    @strawberry.field(description="The place name the uploader typed.")
    def location(self) -> str:
        return self.row.location

    @strawberry.field
    def visibility(self) -> VisibilityKind:
        return self.row.visibility

    @strawberry.field
    def status(self) -> ImageStatus:
        return ImageStatus(self.row.status.value)

    @strawberry.field(description="Upright pixel size; null until known.")
    def width(self) -> int | None:
        return self.row.width

    @strawberry.field
    def height(self) -> int | None:
        return self.row.height

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field(description="A tiny blurred preview (data: URI) to show while loading.")
    def placeholder(self) -> str | None:
        return self.row.placeholder or None

    @strawberry.field(description="The short link to share (/s/…); it opens for whoever "
                      "may see the image.")  # fmt: skip
    def share_url(self, info: Info) -> str:
        return sharing.share_url(context(info).app.settings.public_url, self.row.share_code)

    @strawberry.field
    def camera(self) -> Camera | None:
        row = self.row
        values = (row.taken_at, row.camera_make, row.camera_model, row.lens,
                  row.exposure_time, row.aperture, row.iso, row.focal_length)  # fmt: skip
        if all(v is None for v in values):
            return None
        return Camera(
            taken_at=row.taken_at, make=row.camera_make, model=row.camera_model, lens=row.lens,
            exposure_time=row.exposure_time, aperture=row.aperture, iso=row.iso,
            focal_length=row.focal_length,
        )  # fmt: skip

    @strawberry.field(description="Whether the viewer owns this image (may edit and delete it).")
    def viewer_is_owner(self, info: Info) -> bool:
        return visibility.is_owner(context(info).viewer, self.row)

    @strawberry.field(description="Why processing failed; for the owner only.")
    def failure_reason(self, info: Info) -> str | None:
        return self.row.failure_reason if self.viewer_is_owner(info) else None

    @strawberry.field
    async def owner(self, info: Info) -> User:
        row = await context(info).loaders.users.load(self.row.owner_id)
        assert row is not None  # an image's owner: deleting a person deletes their images
        return User(row=row)

    @strawberry.field(description="Lower-case, in alphabetical order.")
    async def tags(self, info: Info) -> list[str]:
        return await context(info).loaders.tags.load(self.row.id)

    @strawberry.field
    async def comment_count(self, info: Info) -> int:
        return await context(info).loaders.comment_counts.load(self.row.id)

    @strawberry.field(
        description="Where to fetch the pixels: a CDN or storage URL, signed and valid for "
        "ten minutes when the image is private. Null until the image is ready."
    )
    async def url(self, info: Info, rendition: RenditionName = RenditionName.MEDIUM) -> str | None:
        if self.row.status != Status.READY:
            return None
        renditions = await context(info).loaders.renditions.load(self.row.id)
        chosen = images.best_rendition(renditions, rendition)
        if chosen is None:
            return None
        # Signing may fetch credentials over the network: not on the event loop.
        app = context(info).app
        return await asyncio.to_thread(
            lambda: app.media.absolute(app.media.url(self.row, chosen.key))
        )

    @strawberry.field(
        description="The file exactly as uploaded, saved under the image's title; "
        "a signed URL valid for ten minutes, for the owner only."
    )
    async def original_url(self, info: Info) -> str | None:
        if not self.viewer_is_owner(info):
            return None
        app = context(info).app
        return await asyncio.to_thread(lambda: app.media.absolute(app.media.original(self.row)))

    @strawberry.field(description="Oldest first.")
    async def comments(
        self, info: Info, first: int = comments.PAGE_SIZE, after: str | None = None
    ) -> CommentConnection:
        return await comment_page(context(info), self.row.id, first=first, after=after)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any], cursors: list[str]) -> PageInfo:
        """A service's page as Relay says it; `cursors` are its edges' own."""
        return cls(
            has_next_page=page.after is not None,
            has_previous_page=page.before is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.type
class ImageEdge:
    cursor: str
    node: Image


@strawberry.type(description="Images, newest first. Pass `pageInfo.endCursor` as `after` "
                 "for the next page.")  # fmt: skip
class ImageConnection:
    edges: list[ImageEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: ImagePage, ctx: Context) -> ImageConnection:
        edges = []
        for item in page.items:
            # What the list's own query returned need not be fetched again.
            ctx.loaders.users.prime(item.image.owner_id, item.owner)
            ctx.loaders.renditions.prime(item.image.id, item.renditions)
            edges.append(
                ImageEdge(cursor=listing.image_cursor(item.image), node=Image(row=item.image))
            )
        return cls(edges=edges, page_info=PageInfo.of(page, [edge.cursor for edge in edges]))


@strawberry.type
class Comment:
    view: strawberry.Private[CommentView]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.view.id))

    @strawberry.field
    def image_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.view.image_id))

    @strawberry.field
    def body(self) -> str:
        return self.view.body

    @strawberry.field
    def created_at(self) -> datetime:
        return self.view.created_at

    @strawberry.field
    def author(self) -> User:
        return User(row=self.view.author)

    @strawberry.field(description="Its author and the image's owner may delete it.")
    def viewer_can_delete(self) -> bool:
        return self.view.can_delete


@strawberry.type
class CommentEdge:
    cursor: str
    node: Comment


@strawberry.type(description="Comments, oldest first.")
class CommentConnection:
    edges: list[CommentEdge]
    page_info: PageInfo


def parse_comment_id(value: str) -> int | None:
    """A comment ID argument as a number; None when it cannot be one ("12", not "²")."""
    try:
        return comments.parse_id(str(value))
    except ValueError:
        return None


async def comment_page(
    ctx: Context, image_id: uuid.UUID, *, first: int, after: str | None
) -> CommentConnection:
    page = await ctx.run(
        lambda db: comments.list_comments(
            db, viewer=ctx.viewer, image_id=image_id, after=after, limit=first
        )
    )
    edges = [CommentEdge(cursor=comments.cursor_of(c), node=Comment(view=c)) for c in page.items]
    return CommentConnection(
        edges=edges, page_info=PageInfo.of(page, [edge.cursor for edge in edges])
    )


@strawberry.type(description="A tag and how many gallery images carry it.")
class Tag:
    name: str
    image_count: int


@strawberry.type(description="A comment that was deleted.")
class DeletedComment:
    id: strawberry.ID
    image_id: strawberry.ID


@strawberry.input(description="Narrows `images`; every field optional, all of them combine.")
class ImageFilter:
    tag: str | None = None
    location: str | None = strawberry.field(
        default=None, description="The exact place name, any case."
    )
    uploader: str | None = strawberry.field(default=None, description="A username.")
    search: str | None = strawberry.field(
        default=None, description="Words, matched in titles, descriptions and places."
    )


@strawberry.input(description="An upload's details. The title defaults to the file's name.")
class UploadImageInput:
    title: str | None = None
    description: str = ""
    location: str = ""
    tags: list[str] = strawberry.field(default_factory=list)
    visibility: VisibilityKind = VisibilityKind.PUBLIC


@strawberry.input(description="What to change; the fields left out keep their value.")
class UpdateImageInput:
    title: str | None = None
    description: str | None = None
    location: str | None = None
    tags: list[str] | None = strawberry.field(default=None, description="Replaces all tags.")
    visibility: VisibilityKind | None = None
