"""Mutation: changes, each one a service call for the viewer. Refusals come back as
errors with `extensions.code` (graphql/errors.py)."""

from __future__ import annotations

import asyncio
import logging

import strawberry
from sqlmodel import Session
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types import Info

from imageshare.comments import service as comments
from imageshare.errors import NotAllowed, ServiceError
from imageshare.graphql import errors
from imageshare.graphql.types import (
    Comment,
    Image,
    UpdateImageInput,
    UploadImageInput,
    context,
    parse_comment_id,
    parse_image_id,
)
from imageshare.images import removal, uploads
from imageshare.images import service as images
from imageshare.images.models import Image as ImageRow
from imageshare.images.received import ReceivedFile
from imageshare.images.service import ImagePatch
from imageshare.images.uploads import UploadDetails
from imageshare.sharing import service as sharing

logger = logging.getLogger(__name__)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Upload one image file (GraphQL multipart request). It comes back "
        "PROCESSING; `imageStatusChanged` tells when it is READY or FAILED. A file the "
        "viewer already uploaded is DUPLICATE_UPLOAD with `extensions.imageId`."
    )
    async def upload_image(
        self, info: Info, file: Upload, input: UploadImageInput | None = None
    ) -> Image:
        ctx = context(info)
        try:
            uploads.check_may_upload(ctx.viewer)  # before a byte of the file is read
        except NotAllowed as refusal:
            raise errors.from_service(refusal, ctx.viewer) from None
        if not isinstance(file, UploadFile):
            raise errors.ApiError("`file` must be a file part of a multipart request.",
                                  errors.INVALID_INPUT)  # fmt: skip
        given = input or UploadImageInput()
        details = UploadDetails(
            title=given.title, description=given.description, location=given.location,
            tags=given.tags, visibility=given.visibility,
        )  # fmt: skip
        received = await _receive(file, limit=ctx.app.settings.max_upload_bytes)
        # The tier in the thread too: its first use builds the storage and queue clients.
        outcome = await asyncio.to_thread(
            lambda: ctx.app.tier.uploads.submit(received, details, ctx.viewer)
        )
        if outcome.refused:
            raise errors.ApiError(outcome.message, errors.INVALID_INPUT)
        if outcome.duplicate_of:
            raise errors.ApiError(
                outcome.message, errors.DUPLICATE_UPLOAD, imageId=str(outcome.duplicate_of)
            )
        new_id = outcome.image_id
        assert new_id is not None  # neither refused nor a duplicate: stored
        row = await ctx.run(lambda db: images.get_visible(db, viewer=ctx.viewer, image_id=new_id))
        return Image(row=row)

    @strawberry.mutation(description="The owner changes an image's details.")
    async def update_image(self, info: Info, id: strawberry.ID, input: UpdateImageInput) -> Image:
        ctx, image_id = context(info), parse_image_id(id)
        patch = ImagePatch(
            title=input.title, description=input.description, location=input.location,
            tags=input.tags, visibility=input.visibility,
        )  # fmt: skip
        row = await ctx.run(
            lambda db: images.update_image(db, viewer=ctx.viewer, image_id=image_id, patch=patch)
        )
        return Image(row=row)

    @strawberry.mutation(description="The owner deletes an image, its files and comments. "
                         "Returns its ID.")  # fmt: skip
    async def delete_image(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        deleted = await _delete(info, [id])
        return deleted[0]

    @strawberry.mutation(
        description=f"The owner deletes up to {images.MAX_BULK_DELETE} images at once: all of "
        "them, or none when one is not theirs. Returns their IDs."
    )
    async def delete_images(self, info: Info, ids: list[strawberry.ID]) -> list[strawberry.ID]:
        return await _delete(info, ids)

    @strawberry.mutation(description="Comment on an image the viewer may see.")
    async def add_comment(self, info: Info, image_id: strawberry.ID, body: str) -> Comment:
        ctx, target = context(info), parse_image_id(image_id)
        view = await ctx.run(
            lambda db: comments.add_comment(db, viewer=ctx.viewer, image_id=target, body=body)
        )
        return Comment(view=view)

    @strawberry.mutation(description="Its author or the image's owner deletes a comment. "
                         "Returns its ID.")  # fmt: skip
    async def delete_comment(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        # An ID that is no number is no comment: the service says so (0 is never an id).
        ctx, comment_id = context(info), parse_comment_id(id) or 0
        await ctx.run(
            lambda db: comments.delete_comment(db, viewer=ctx.viewer, comment_id=comment_id)
        )
        return id

    @strawberry.mutation(description="The owner replaces an image's short link; the old "
                         "one stops working at once.")  # fmt: skip
    async def regenerate_share_code(self, info: Info, image_id: strawberry.ID) -> Image:
        ctx, target = context(info), parse_image_id(image_id)

        def work(db: Session) -> ImageRow:
            sharing.regenerate_code(db, viewer=ctx.viewer, image_id=target)
            return images.get_own(db, viewer=ctx.viewer, image_id=target)

        return Image(row=await ctx.run(work))


async def _receive(file: UploadFile, *, limit: int) -> ReceivedFile:
    """The multipart file as the pipeline takes it: counted against the upload limit
    (MAX_UPLOAD_BYTES) and hashed, in a temporary file of its own."""
    received = ReceivedFile(filename=file.filename or "upload", limit=limit)

    def copy() -> None:
        file.file.seek(0)
        while chunk := file.file.read(1024 * 1024):
            received.write(chunk)
            if received.refused:
                break
        received.finish()

    try:
        await asyncio.to_thread(copy)
    except BaseException:
        received.discard()  # a full disk, a cancelled request: no file left behind
        raise
    finally:
        await file.close()  # the form's own spooled copy
    return received


async def _delete(info: Info, ids: list[strawberry.ID]) -> list[strawberry.ID]:
    ctx = context(info)
    image_ids = [parse_image_id(i) for i in ids]
    try:
        deleted = await asyncio.to_thread(
            lambda: removal.remove_images(
                ctx.viewer, image_ids, storage=ctx.app.storage, sessions=ctx.app.session
            )
        )
    except ServiceError as error:
        raise errors.from_service(error, ctx.viewer) from None
    return [strawberry.ID(str(i)) for i in deleted]
